#!/usr/bin/env bash
# Installs the local Spark runtime for one FRAMEWORK into .runtime/ from docker/versions.lock - the same pinned
# pieces as the image (PySpark + py4j by sha256, the framework's jars by sha256, docker/spark-class, the Spark
# defaults, the handler) - so the handler can run "as Lambda would" in locallambda/lambda-sandbox.sh. Called by
# `make runtime`. SPARK_HOME and the task root are laid out by docker/install-spark-home.sh, the script the
# Dockerfile runs for /opt/spark and /var/task.
#
# Layout (everything world-readable, so the sandbox's non-root uid can use it):
#   .runtime/python/            a private copy of CPython <lock python> when the host's interpreter lives where the
#                               sandbox uid cannot go (pyenv under /root, mode 700); RUNPATH made relative
#   .runtime/venv/              ONE venv for all frameworks: the lock's COMMON PyPI packages (pyspark, py4j, the script
#                               API's Powertools); pyspark's own bin/spark-class is left STOCK (the regression test
#                               needs it)
#   .runtime/pylib-<FW>/        the framework's own PyPI packages (DELTA: delta-spark), on PYTHONPATH for <FW> only
#   .runtime/jarstore/          the lock's jars, sha256-verified (shared by the frameworks, never copied twice)
#   .runtime/jars-<FW>/         links to the framework's jars of the lock in the jar store
#   .runtime/task/              the task root (the image's /var/task): docker/python/*/*.py, refreshed on every run
#   .runtime/spark-<FW>/        SPARK_HOME: bin/ (pyspark's scripts, symlinked, with OUR spark-class), jars/
#                               (symlinks: pyspark's jars + the framework's; spark-lambda-coordination.jar built by
#                               docker/build-coordination.sh), conf/spark-defaults.conf
#   .runtime/env-<FW>.sh        exports SPARK_HOME, SPARK_CONF_DIR, JAVA_HOME, PYTHON, PYSPARK_PYTHON, PATH, ...
#   .runtime/READY-<FW>         written last; holds the key of the inputs it was built from
# Cached: each part has a stamp keyed by its inputs (lock contents, spark-class, defaults), so a second run only
# checks. The built pyspark wheel is kept in .cache/runtime/wheels/<sdist sha256>/ so it is built once.
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOCKSH="$ROOT/docker/lock.sh"
FW=${1:-DELTA}
sh "$LOCKSH" check "$FW"
RT=${RUNTIME_DIR:-$ROOT/.runtime}
CACHE=${RUNTIME_CACHE:-$ROOT/.cache/runtime}
SANDBOX_UID=${SANDBOX_UID:-993}
SANDBOX_GID=${SANDBOX_GID:-990}
mkdir -p "$RT" "$CACHE"

log() { echo "runtime[$FW]: $*"; }
die() { echo "runtime[$FW]: ERROR: $*" >&2; exit 1; }
key_of() { cat "$@" | sha256sum | cut -c1-64; }
as_sandbox_uid() { setpriv --reuid="$SANDBOX_UID" --regid="$SANDBOX_GID" --clear-groups "$@"; }

PYVER=$(sh "$LOCKSH" version python)
JAVAVER=$(sh "$LOCKSH" version java)
REQS=$(sh "$LOCKSH" requirements)
CONF_COMMON="$ROOT/docker/conf/spark-defaults.conf"
CONF_FW="$ROOT/docker/conf/spark-defaults-$FW.conf"
[ -f "$CONF_FW" ] || die "missing $CONF_FW"
# The install steps the Dockerfile runs too (SPARK_HOME's layout, the framework's Python packages, the Spark
# defaults, spark-class, the task root with the image's Python files): one script, the layout as parameters.
INSTALL="$ROOT/docker/install-spark-home.sh"

# --- the task root (the image's LAMBDA_TASK_ROOT, /var/task): the Python files, refreshed on every run ------------
rm -rf "$RT/task.tmp"
sh "$INSTALL" task-root "$RT/task.tmp" "$ROOT/docker/python"
rm -rf "$RT/task"
mv "$RT/task.tmp" "$RT/task"

# The whole-install key: if READY-<FW> holds it, there is nothing to do.
ALL_KEY=$( { cat "$ROOT/docker/versions.lock" "$ROOT/docker/spark-class" "$CONF_COMMON" "$CONF_FW" "$0" "$INSTALL" "$ROOT/docker/cds-train.py" "$ROOT/docker/cds-classes.txt" \
              "$ROOT/docker/build-coordination.sh" "$ROOT"/docker/java/com/sparklambda/coordination/*.java; } \
            | sha256sum | cut -c1-64)
if [ -f "$RT/READY-$FW" ] && [ "$(cat "$RT/READY-$FW")" = "$ALL_KEY" ] && [ -x "$RT/venv/bin/python" ]; then
    log "up to date ($RT/spark-$FW)"
    exit 0
fi
rm -f "$RT/READY-$FW"

# --- Java ---------------------------------------------------------------------------------------------------
find_java() {
    local j
    for j in "${JAVA_HOME:-}" "/usr/lib/jvm/java-$JAVAVER-openjdk-amd64" "/usr/lib/jvm/java-$JAVAVER-openjdk-arm64" \
             /usr/lib/jvm/*; do
        if [ -n "$j" ] && [ -x "$j/bin/java" ] && "$j/bin/java" -version 2>&1 | grep -q "version \"$JAVAVER\."; then
            echo "$j"; return 0
        fi
    done
    return 1
}
JAVA_HOME_RT=$(find_java) || die "no Java $JAVAVER found (run locallambda/install-deps.sh)"
log "java $JAVAVER: $JAVA_HOME_RT"

# --- Python interpreter -------------------------------------------------------------------------------------
find_python() {
    local c exe
    for c in "python$PYVER" /root/.pyenv/versions/"$PYVER".*/bin/"python$PYVER" "/usr/bin/python$PYVER" \
             "/usr/local/bin/python$PYVER"; do
        exe=$("$c" -c 'import sys; print(sys.executable)' 2>/dev/null) || continue
        [ -n "$exe" ] && { echo "$exe"; return 0; }
    done
    return 1
}
if PYSRC=$(find_python); then
    log "python $PYVER: $PYSRC"
else
    PYSRC=$(python3 -c 'import sys; print(sys.executable)')
    log "WARNING: no python$PYVER on this machine (the image has $PYVER); using $PYSRC ($(python3 -V 2>&1))"
fi

PY_KEY=$(printf '%s %s\n' "$PYSRC" "$("$PYSRC" -V 2>&1)" | sha256sum | cut -c1-64)
if as_sandbox_uid "$PYSRC" -c 'import encodings' >/dev/null 2>&1; then
    PYBASE=$PYSRC   # the sandbox uid can run it where it is
    rm -rf "$RT/python"
elif [ -f "$RT/python/.stamp" ] && [ "$(cat "$RT/python/.stamp")" = "$PY_KEY" ]; then
    PYBASE=$(echo "$RT"/python/bin/python3.*)
else
    # e.g. pyenv under /root (mode 700): copy the interpreter into the world-readable runtime instead of changing
    # the permissions of /root.
    prefix=$("$PYSRC" -c 'import sys; print(sys.base_prefix)')
    ver=$("$PYSRC" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    log "copying the Python $ver interpreter from $prefix (not reachable by uid $SANDBOX_UID) ..."
    rm -rf "$RT/python.tmp" "$RT/python"
    mkdir -p "$RT/python.tmp/bin" "$RT/python.tmp/lib"
    cp -L "$prefix/bin/python$ver" "$RT/python.tmp/bin/"
    cp -a "$prefix"/lib/libpython"$ver"*.so* "$RT/python.tmp/lib/" 2>/dev/null || true
    tar -C "$prefix/lib" --exclude="python$ver/test" --exclude="python$ver/idlelib" --exclude="python$ver/tkinter" \
        --exclude="python$ver/turtledemo" --exclude="python$ver/site-packages/*" --exclude='__pycache__' \
        -cf - "python$ver" | tar -C "$RT/python.tmp/lib" -xf -
    if readelf -d "$RT/python.tmp/bin/python$ver" 2>/dev/null | grep -q -E 'RPATH|RUNPATH'; then
        patchelf --set-rpath '$ORIGIN/../lib' "$RT/python.tmp/bin/python$ver"
    fi
    ln -s "python$ver" "$RT/python.tmp/bin/python3"
    chmod -R a+rX "$RT/python.tmp"
    echo "$PY_KEY" > "$RT/python.tmp/.stamp"
    mv "$RT/python.tmp" "$RT/python"
    PYBASE=$RT/python/bin/python$ver
    "$PYBASE" -c 'import ssl, sqlite3, venv, ensurepip' || die "the copied interpreter $PYBASE does not work"
fi

# --- venv with pyspark + py4j (shared by all frameworks) ----------------------------------------------------
VENV_KEY=$(printf '%s\n%s\n%s\n' "$REQS" "$PYBASE" "$PY_KEY" | sha256sum | cut -c1-64)
if [ -f "$RT/venv/.stamp" ] && [ "$(cat "$RT/venv/.stamp")" = "$VENV_KEY" ]; then
    log "venv up to date ($RT/venv)"
else
    log "creating the venv with $PYBASE ..."
    rm -rf "$RT/venv"
    "$PYBASE" -m venv "$RT/venv"
    VPY=$RT/venv/bin/python
    printf '%s\n' "$REQS" > "$CACHE/requirements.txt"
    log "downloading pyspark + py4j with --require-hashes (pyspark is ~317 MB; cached in $CACHE/pypi) ..."
    "$VPY" -m pip download --progress-bar off --no-deps --require-hashes --default-timeout=1000 --retries 10 \
        --no-binary pyspark -r "$CACHE/requirements.txt" -d "$CACHE/pypi"
    PYSPARK_VER=$(sh "$LOCKSH" version pyspark)
    PYSPARK_SHA=$(sh "$LOCKSH" sha256 pyspark)
    sdist="$CACHE/pypi/pyspark-$PYSPARK_VER.tar.gz"
    echo "$PYSPARK_SHA  $sdist" | sha256sum -c --status || die "sha256 mismatch for $sdist (expected $PYSPARK_SHA)"
    wheeldir="$CACHE/wheels/$PYSPARK_SHA"
    if ! ls "$wheeldir"/pyspark-"$PYSPARK_VER"-*.whl >/dev/null 2>&1; then
        log "building the pyspark $PYSPARK_VER wheel once from the verified sdist (a few minutes) ..."
        rm -rf "$wheeldir.tmp"
        "$VPY" -m pip wheel --no-deps --default-timeout=1000 --retries 10 -w "$wheeldir.tmp" "$sdist"
        mv "$wheeldir.tmp" "$wheeldir"
    else
        log "using the cached pyspark wheel in $wheeldir"
    fi
    PY4J_VER=$(sh "$LOCKSH" version py4j)
    py4j_whl=$(ls "$CACHE"/pypi/py4j-"$PY4J_VER"-*.whl)
    echo "$(sh "$LOCKSH" sha256 py4j)  $py4j_whl" | sha256sum -c --status || die "sha256 mismatch for $py4j_whl"
    log "installing pyspark + py4j into the venv ..."
    "$VPY" -m pip install --quiet --no-index --no-deps "$wheeldir"/pyspark-"$PYSPARK_VER"-*.whl "$py4j_whl"
    "$VPY" -c "import pyspark, py4j; assert pyspark.__version__ == '$PYSPARK_VER', pyspark.__version__"
    printf '%s\n' "$REQS" | grep -v -E '^(pyspark|py4j)==' > "$CACHE/requirements-rest.txt" || true
    if [ -s "$CACHE/requirements-rest.txt" ]; then
        log "installing the other COMMON packages of the lock (hash-pinned wheels) ..."
        "$VPY" -m pip install --quiet --require-hashes --only-binary=:all: --default-timeout=1000 --retries 10 \
            -r "$CACHE/requirements-rest.txt"
    fi
    chmod -R a+rX "$RT/venv"
    echo "$VENV_KEY" > "$RT/venv/.stamp"
fi
VPY=$RT/venv/bin/python

# --- jars (sha256-verified by fetch-jars.sh) ----------------------------------------------------------------
log "fetching + verifying the $FW jars ..."
sh "$ROOT/docker/fetch-jars.sh" "$FW" "$RT/jarstore"
chmod -R a+rX "$RT/jarstore"
# The jar store is shared by the frameworks: this framework's jars of the lock, as links in a directory of their own.
rm -rf "$RT/jars-$FW"
mkdir -p "$RT/jars-$FW"
sh "$LOCKSH" jars "$FW" | while read -r ga version _sha; do
    jar="$RT/jarstore/${ga#*:}-$version.jar"
    [ -f "$jar" ] || die "missing $jar"
    ln -s "$jar" "$RT/jars-$FW/"
done

# --- SPARK_HOME for this framework, and its own PyPI packages (DELTA: delta-spark) in pylib-<FW> ------------------
SH="$RT/spark-$FW"
log "assembling SPARK_HOME $SH with docker/install-spark-home.sh ..."
rm -rf "$SH.tmp" "$RT/pylib-$FW"
mkdir -p "$RT/pylib-$FW"
sh "$LOCKSH" requirements "$FW" > "$CACHE/requirements-$FW.txt"
sh "$INSTALL" spark-home "$SH.tmp" "$VPY" "$FW" "$ROOT/docker/conf" "$CACHE/requirements-$FW.txt" "$RT/pylib-$FW" \
    "$RT/jars-$FW"
chmod -R a+rX "$RT/pylib-$FW"
# The commit-coordination classes, compiled as the Dockerfile does (Hadoop's client API is PySpark's own jar here).
PATH="$JAVA_HOME_RT/bin:$PATH" sh "$ROOT/docker/build-coordination.sh" "$FW" "$SH.tmp/jars" "$SH.tmp/jars/*"
chmod -R a+rX "$SH.tmp"
rm -rf "$SH"
mv "$SH.tmp" "$SH"
# The driver JVM's class-data sharing archive, as the Dockerfile makes it (last, in place: it is valid only for the
# jars at these paths). DELTA's training job needs Delta's Python API from pylib-<FW>.
log "making the class-data sharing archive (a training run of the $FW job) ..."
PYTHONPATH="$RT/pylib-$FW" JAVA_HOME="$JAVA_HOME_RT" PATH="$JAVA_HOME_RT/bin:$PATH" \
    sh "$INSTALL" cds-archive "$SH" "$VPY" "$FW" > "$CACHE/cds-train-$FW.log" 2>&1 ||
    { tail -40 "$CACHE/cds-train-$FW.log" >&2; die "the class-data sharing training run failed (log: $CACHE/cds-train-$FW.log)"; }
tail -1 "$CACHE/cds-train-$FW.log"

# --- env file --------------------------------------------------------------------------------------------------
cat > "$RT/env-$FW.sh" <<EOF
# Environment for the local Spark runtime, framework $FW (generated by locallambda/install-runtime.sh; source it).
export SPARK_LAMBDA_FRAMEWORK=$FW
export SPARK_HOME=$SH
export SPARK_CONF_DIR=$SH/conf
export JAVA_HOME=$JAVA_HOME_RT
export PYTHON=$VPY
export PYSPARK_PYTHON=$VPY
export PYSPARK_DRIVER_PYTHON=$VPY
export RUNTIME_VENV=$RT/venv
export RUNTIME_TASK_ROOT=$RT/task
export PYTHONPATH=$RT/pylib-$FW
export SPARK_LOCAL_IP=127.0.0.1
export SPARK_LAMBDA_CDS_ARCHIVE=$SH/cds/driver.jsa
export PATH=$RT/venv/bin:$JAVA_HOME_RT/bin:\${PATH:-/usr/local/bin:/usr/bin:/bin}
EOF
chmod a+r "$RT/env-$FW.sh"

# --- verify: the sandbox uid can use all of it -------------------------------------------------------------
if ! as_sandbox_uid env -i PATH=/usr/bin:/bin sh -c ". '$RT/env-$FW.sh' && \"\$PYTHON\" -c 'import pyspark' && test -r \"\$SPARK_HOME/conf/spark-defaults.conf\" && test -r \"\$RUNTIME_TASK_ROOT/handler/__init__.py\" && cat \"\$SPARK_HOME\"/jars/*.jar >/dev/null && \"\$JAVA_HOME/bin/java\" -version 2>/dev/null"; then
    die "uid $SANDBOX_UID cannot read the runtime in $RT: check that every parent directory is world-traversable (chmod o+x)"
fi
chmod a+rX "$RT"
echo "$ALL_KEY" > "$RT/READY-$FW"
log "ready: source $RT/env-$FW.sh (or: eval \"\$(locallambda/runtime-env.sh $FW)\")"
