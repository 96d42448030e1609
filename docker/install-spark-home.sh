#!/bin/sh
# The install steps the image build (Dockerfile) and the local runtime (make runtime) share, so that the sandbox
# tests run what the image build does. Plain POSIX sh. Two steps, so the Dockerfile keeps its layers in order:
#
#   install-spark-home.sh spark-home SPARK_HOME PYTHON FRAMEWORK CONF_DIR FW_REQUIREMENTS PY_TARGET [JAR_DIR ...]
#       SPARK_HOME/bin   pyspark's bin/* as symlinks, except its spark-class (it needs /dev/fd); our spark-class
#                        (the file beside this script) copied in its place
#       SPARK_HOME/jars  pyspark's jars/*.jar as symlinks, plus symlinks to every *.jar of each JAR_DIR (the image
#                        COPYs its jars there directly and passes none)
#       SPARK_HOME/conf  spark-defaults.conf = CONF_DIR/spark-defaults.conf + CONF_DIR/spark-defaults-FRAMEWORK.conf
#       FW_REQUIREMENTS  the framework's own PyPI packages (hash-pinned; --no-deps: pyspark is already there),
#                        installed with PYTHON into its site-packages when PY_TARGET is "-", else into PY_TARGET
#   install-spark-home.sh task-root TASK_ROOT PYTHON_SRC
#       TASK_ROOT        the image's Python files, PYTHON_SRC/*/*.py (the handler package and the script API),
#                        package directories kept: TASK_ROOT/handler/__init__.py is what awslambdaric imports
#                        for handler.handler (the image: LAMBDA_TASK_ROOT=/var/task)
# PYTHON must already have pyspark (installed from the lock's COMMON requirements). Everything written is readable
# by every uid (Lambda runs the function as a non-root user).
set -eu
umask 022

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "install-spark-home: ERROR: $*" >&2; exit 1; }

spark_home() {
    [ $# -ge 6 ] || die "usage: $0 spark-home SPARK_HOME PYTHON FRAMEWORK CONF_DIR FW_REQUIREMENTS PY_TARGET [JAR_DIR ...]"
    home=$1 python=$2 fw=$3 conf=$4 reqs=$5 target=$6
    shift 6
    [ -f "$conf/spark-defaults-$fw.conf" ] || die "no Spark defaults for framework '$fw' in $conf"
    pyspark_dir=$("$python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))') ||
        die "$python has no pyspark"
    mkdir -p "$home/bin" "$home/jars" "$home/conf"
    for f in "$pyspark_dir"/bin/*; do
        [ "$(basename "$f")" = spark-class ] && continue
        ln -sf "$f" "$home/bin/"
    done
    rm -f "$home/bin/spark-class"
    cp "$here/spark-class" "$home/bin/spark-class"
    chmod 0755 "$home/bin/spark-class"
    sh -n "$home/bin/spark-class"
    for f in "$pyspark_dir"/jars/*.jar; do ln -sf "$f" "$home/jars/"; done
    for dir in "$@"; do
        for f in "$dir"/*.jar; do
            [ -f "$f" ] || die "no jars in $dir"
            ln -sf "$f" "$home/jars/"
        done
    done
    cat "$conf/spark-defaults.conf" "$conf/spark-defaults-$fw.conf" > "$home/conf/spark-defaults.conf"
    if [ -s "$reqs" ]; then
        if [ "$target" = - ]; then
            set --
        else
            mkdir -p "$target"
            set -- --target "$target"
        fi
        "$python" -m pip install --quiet --require-hashes --no-deps --only-binary=:all: --no-cache-dir \
            --default-timeout=1000 --retries 10 "$@" -r "$reqs"
        [ "$target" = - ] || chmod -R a+rX "$target"
    fi
    chmod -R a+rX "$home"
}

task_root() {
    [ $# -eq 2 ] || die "usage: $0 task-root TASK_ROOT PYTHON_SRC"
    root=$1 src=$2
    [ -f "$src/handler/__init__.py" ] || die "$src holds no handler package (handler/__init__.py)"
    mkdir -p "$root"
    for f in "$src"/*/*.py; do
        pkg=$(basename "$(dirname "$f")")
        mkdir -p "$root/$pkg"
        cp "$f" "$root/$pkg/"
    done
    chmod -R a+rX "$root"
}

step=${1:-}
[ $# -gt 0 ] && shift
case $step in
    spark-home) spark_home "$@" ;;
    task-root) task_root "$@" ;;
    *) die "usage: $0 spark-home ... | task-root ... (see the comment at the top)" ;;
esac
