#!/bin/sh
# Reader for docker/versions.lock, the one source of truth for versions and sha256 values.
# POSIX sh + awk only: used by the Dockerfile stages, by make (locallambda/runtime.mk), by
# docker/fetch-jars.sh and by the tests. Nothing else should parse versions.lock.
#
# Usage: lock.sh [-f LOCKFILE] COMMAND [ARG]
#   frameworks            the framework scopes, one a line (DELTA, HUDI, ICEBERG)
#   check FRAMEWORK       exit 0 if FRAMEWORK is known, else print the valid ones and exit 2
#   jars FRAMEWORK        "group:artifact version sha256" rows for COMMON + FRAMEWORK
#   jars FRAMEWORK --only the FRAMEWORK rows alone; `jars COMMON`: the COMMON rows alone
#   version NAME          the version of a runtime or pypi row (e.g. java, python, spark, pyspark)
#   sha256 NAME           the sha256 of a pypi or jar row (jar rows by group:artifact)
#   buildjars             "group:artifact version sha256" rows of the compile-only jars (kind buildjar)
#   requirements [SCOPE]  pip lines "name==version --hash=sha256:..." for the pypi rows of SCOPE (default COMMON:
#                         every image; a framework name: that framework's own packages alone)
#   rows                  every entry, normalised to "kind scope name version sha256"
# LOCKFILE defaults to $VERSIONS_LOCK, else versions.lock next to this script.
set -eu

prog=lock.sh
die() { echo "$prog: $*" >&2; exit 2; }

lock=${VERSIONS_LOCK:-}
if [ "${1:-}" = "-f" ]; then
    [ $# -ge 2 ] || die "-f needs a file"
    lock=$2
    shift 2
fi
if [ -z "$lock" ]; then
    case $0 in
        */*) lock=${0%/*}/versions.lock ;;
        *) lock=./versions.lock ;;
    esac
fi
[ -r "$lock" ] || die "cannot read lock file '$lock'"

cmd=${1:-}
[ -n "$cmd" ] || die "usage: lock.sh [-f LOCKFILE] frameworks|check FW|jars FW|COMMON [--only]|buildjars|version NAME|sha256 NAME|requirements [SCOPE]|rows"
arg=${2:-}

# Every entry as "kind scope name version sha256"; malformed lines are an error, not silently skipped.
rows() {
    awk -v f="$lock" '
        { sub(/#.*/, "") }
        NF == 0 { next }
        NF != 5 { printf "lock.sh: %s:%d: expected 5 columns, got %d\n", f, NR, NF > "/dev/stderr"; bad = 1; next }
        { print $1, $2, $3, $4, $5 }
        END { exit bad }
    ' "$lock"
}
ALL=$(rows) || die "malformed lock file '$lock'"
all() { printf '%s\n' "$ALL"; }

frameworks() {
    all | awk '$2 != "COMMON" && !seen[$2]++ { print $2 }'
}

check_framework() {
    fw=$1
    valid=$(frameworks | tr '\n' ' ')
    valid=${valid% }
    [ -n "$fw" ] || die "no framework given; valid frameworks: $valid"
    for v in $valid; do
        [ "$v" = "$fw" ] && return 0
    done
    die "unknown framework '$fw'; valid frameworks: $valid"
}

one() {
    # $1 = column to print (4 version, 5 sha256), $2 = name
    out=$(all | awk -v n="$2" -v c="$1" '$3 == n { print $c }')
    [ -n "$out" ] || die "no entry named '$2' in $lock"
    [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || die "more than one entry named '$2' in $lock"
    printf '%s\n' "$out"
}

case $cmd in
    rows) all ;;
    frameworks) frameworks ;;
    check) check_framework "$arg" ;;
    jars)
        only=${3:-}
        [ -z "$only" ] || [ "$only" = --only ] || die "jars: unknown option '$only' (only --only)"
        [ "$arg" = COMMON ] || check_framework "$arg"
        if [ -n "$only" ] || [ "$arg" = COMMON ]; then
            all | awk -v fw="$arg" '$1 == "jar" && $2 == fw { print $3, $4, $5 }'
        else
            all | awk -v fw="$arg" '$1 == "jar" && ($2 == "COMMON" || $2 == fw) { print $3, $4, $5 }'
        fi
        ;;
    buildjars) all | awk '$1 == "buildjar" { print $3, $4, $5 }' ;;
    version) one 4 "$arg" ;;
    sha256) one 5 "$arg" ;;
    requirements)
        scope=${arg:-COMMON}
        [ "$scope" = COMMON ] || check_framework "$scope"
        all | awk -v s="$scope" '$1 == "pypi" && $2 == s { printf "%s==%s --hash=sha256:%s\n", $3, $4, $5 }'
        ;;
    *) die "unknown command '$cmd'" ;;
esac
