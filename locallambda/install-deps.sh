#!/bin/sh
# Installs the machine packages the local Spark runtime and the Lambda sandbox need (Debian packages via apt-get):
# bubblewrap (sandbox), util-linux's setpriv (non-root uid), dash + busybox (spark-class tests), patchelf (relocating
# the Python interpreter), a Java 17 JDK and Maven (jar resolution); pytest comes pinned in .venv-e2e (locallambda/install-tools.sh).
# Does nothing when all are present, so `make runtime` stays fast; a fresh CI machine gets everything from here.
set -eu

need=
have() { command -v "$1" >/dev/null 2>&1; }
have bwrap || need="$need bubblewrap"
have setpriv || need="$need util-linux"
have dash || need="$need dash"
have busybox || need="$need busybox"
have patchelf || need="$need patchelf"
have mvn || need="$need maven"
have sha256sum || need="$need coreutils"
have awk || need="$need mawk"
java17=
for j in "${JAVA_HOME:-}" /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64; do
    # a JDK, not a JRE: docker/build-coordination.sh compiles with its javac
    if [ -n "$j" ] && [ -x "$j/bin/java" ] && [ -x "$j/bin/javac" ] && "$j/bin/java" -version 2>&1 | grep -q 'version "17\.'; then
        java17=$j
        break
    fi
done
[ -n "$java17" ] || need="$need openjdk-17-jdk-headless"

if [ -n "$need" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing packages:$need - run as root or install them with apt-get" >&2
        exit 1
    fi
    echo "install-deps: installing Debian packages:$need"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $need
fi

echo "install-deps: machine packages ok"
