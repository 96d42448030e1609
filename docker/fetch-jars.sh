#!/bin/sh
# Fetch the jars that docker/versions.lock lists for COMMON + one FRAMEWORK, copy them into an output
# directory as <artifact>-<version>.jar and verify every sha256 against the lock (fails on any mismatch).
# Maven resolves each artifact itself (dependency:get, no repository named here: Maven's default applies).
# Used by the Dockerfile's `jars` stage and by the local runtime install (locallambda/install-runtime.sh).
#
# Usage: fetch-jars.sh [--only] FRAMEWORK OUTDIR | fetch-jars.sh --build OUTDIR
#   FRAMEWORK: DELTA, HUDI, ICEBERG (its jars + the COMMON ones), or COMMON (the common jars alone);
#   --only: the framework's own jars without the COMMON ones (the Dockerfile keeps those in a shared layer);
#   --build: the compile-only jars (kind buildjar) that build-coordination.sh needs.
# Env:   MVN (default: mvn), MAVEN_REPO_LOCAL (default: $HOME/.m2/repository), VERSIONS_LOCK (see lock.sh)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
only=
if [ "${1:-}" = --build ]; then
    fw=build
    out=${2:-}
    [ -n "$out" ] || { echo "usage: fetch-jars.sh --build OUTDIR" >&2; exit 2; }
    rows=$(sh "$here/lock.sh" buildjars) || exit 2
else
    if [ "${1:-}" = --only ]; then only=--only; shift; fi
    fw=${1:-}
    out=${2:-}
    [ -n "$fw" ] && [ -n "$out" ] || { echo "usage: fetch-jars.sh [--only] FRAMEWORK OUTDIR" >&2; exit 2; }
    rows=$(sh "$here/lock.sh" jars "$fw" $only) || exit 2
fi
[ -n "$rows" ] || { echo "fetch-jars.sh: the lock lists no jars for $fw" >&2; exit 2; }

mvn=${MVN:-mvn}
repo=${MAVEN_REPO_LOCAL:-${HOME:-/root}/.m2/repository}
mkdir -p "$out"

sum() { sha256sum "$1" | cut -d' ' -f1; }

n=$(printf '%s\n' "$rows" | wc -l | tr -d ' ')
i=0
printf '%s\n' "$rows" | {
    fail=0
    while read -r ga version sha; do
        i=$((i + 1))
        group=${ga%%:*}
        artifact=${ga#*:}
        name=$artifact-$version.jar
        dest=$out/$name
        cached=$repo/$(printf '%s' "$group" | tr . /)/$artifact/$version/$name

        if [ -f "$dest" ] && [ "$(sum "$dest")" = "$sha" ]; then
            echo "fetch-jars: [$i/$n] $name already in place, sha256 ok"
            continue
        fi
        if ! { [ -f "$cached" ] && [ "$(sum "$cached")" = "$sha" ]; }; then
            echo "fetch-jars: [$i/$n] resolving $ga:$version with Maven ..."
            if ! "$mvn" -B -q -Dstyle.color=never -Dmaven.repo.local="$repo" dependency:get \
                    -Dartifact="$ga:$version" -Dtransitive=false; then
                echo "fetch-jars: Maven could not resolve $ga:$version" >&2
                exit 1
            fi
        fi
        [ -f "$cached" ] || { echo "fetch-jars: Maven reported success but $cached is missing" >&2; exit 1; }
        cp "$cached" "$dest.part"
        if printf '%s  %s\n' "$sha" "$dest.part" | sha256sum -c --status; then
            mv "$dest.part" "$dest"
            echo "fetch-jars: [$i/$n] $name sha256 ok"
        else
            actual=$(sum "$dest.part")
            rm -f "$dest.part"
            echo "fetch-jars: SHA256 MISMATCH for $ga:$version ($name): expected $sha, actual $actual (file: $cached)" >&2
            fail=1
        fi
    done
    exit $fail
}
