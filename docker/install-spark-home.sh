#!/bin/sh
# The install steps the image build (Dockerfile) and the local runtime (make runtime) share, so that the sandbox
# tests run what the image build does. Plain POSIX sh. Two steps, so the Dockerfile keeps its layers in order:
#
#   install-spark-home.sh spark-home SPARK_HOME PYTHON FRAMEWORK CONF_DIR FW_REQUIREMENTS PY_TARGET [JAR_DIR ...]
#       SPARK_HOME/bin   pyspark's bin/* as symlinks, except its spark-class (it needs /dev/fd); our spark-class
#                        (the file beside this script) copied in its place
#       SPARK_HOME/jars  pyspark's jars/*.jar as symlinks, plus symlinks to every *.jar of each JAR_DIR (the image
#                        COPYs its jars there directly and passes none); a signed jar becomes an unsigned copy
#                        (unsign_jars: the class-data sharing archive cannot hold a signed jar's classes)
#       SPARK_HOME/conf  spark-defaults.conf = CONF_DIR/spark-defaults.conf + CONF_DIR/spark-defaults-FRAMEWORK.conf
#       FW_REQUIREMENTS  the framework's own PyPI packages (hash-pinned; --no-deps: pyspark is already there),
#                        installed with PYTHON into its site-packages when PY_TARGET is "-", else into PY_TARGET
#   install-spark-home.sh task-root TASK_ROOT PYTHON_SRC
#       TASK_ROOT        the image's Python files, PYTHON_SRC/*/*.py (the handler package and the script API),
#                        package directories kept: TASK_ROOT/handler/__init__.py is what awslambdaric imports
#                        for handler.handler (the image: LAMBDA_TASK_ROOT=/var/task)
#   install-spark-home.sh cds-archive SPARK_HOME PYTHON FRAMEWORK
#       SPARK_HOME/cds/driver.jsa  the driver JVM's class-data sharing archive: the training job (cds-train.py beside
#                        this script, with the class list cds-classes.txt beside it) run once with
#                        SPARK_LAMBDA_CDS_DUMP, then checked by starting a JVM that must map it (-Xshare:on fails
#                        otherwise); java from JAVA_HOME or PATH, as spark-class finds it.
#                        Run last: the archive is only valid for exactly these jars (paths, sizes, times).
# PYTHON must already have pyspark (installed from the lock's COMMON requirements). Everything written is readable
# by every uid (Lambda runs the function as a non-root user).
set -eu
umask 022

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "install-spark-home: ERROR: $*" >&2; exit 1; }

# Signed jars in SPARK_HOME/jars become copies without their signature files (META-INF/*.SF, *.RSA, *.DSA, *.EC,
# SIG-*); every other entry, the manifest included, is copied byte for byte. The JVM's class-data sharing archive
# leaves out every class of a signed jar (JDK 17 logs "Skipping ...: Signed JAR" when it dumps), so a cold start
# read, verified and digest-checked Janino's and commons-compiler's classes (pyspark's janino-3.1.9.jar and
# commons-compiler-3.1.9.jar, the compiler of Spark's generated code) from the jars. Their signature is a
# self-signed "DUMMY" one, which vouches for no one; the jars' integrity comes from pyspark's sha256 in the lock.
# Python's zipfile because the Lambda base image has no zip tool; a jar that is not a zip file fails the step.
unsign_jars() {
    "$1" - "$2" <<'EOF' || die "could not copy the signed jars of $2 without their signatures"
# install-spark-home.sh spark-home: replaces each signed jar in a directory by a copy without its signature files.
import os
import re
import sys
import zipfile

SIGNATURE = re.compile(r"META-INF/[^/]+[.](SF|RSA|DSA|EC)$|META-INF/SIG-[^/]+$", re.IGNORECASE)
folder = sys.argv[1]
for name in sorted(os.listdir(folder)):
    path = os.path.join(folder, name)
    if not name.endswith(".jar"):
        continue
    try:
        jar = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        sys.exit(f"install-spark-home: ERROR: {path} is not a jar (zip file): {e}; reinstall what it comes from")
    with jar:
        entries = jar.infolist()
        dropped = [e.filename for e in entries if SIGNATURE.match(e.filename)]
        if not dropped:
            continue
        with zipfile.ZipFile(path + ".unsigned", "w") as copy:
            for entry in entries:
                if entry.filename not in dropped:
                    copy.writestr(entry, jar.read(entry))
    os.replace(path + ".unsigned", path)  # a link to the signed jar becomes the unsigned copy
    print(f"install-spark-home: {name} copied without its signature ({', '.join(dropped)})")
EOF
}

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
    unsign_jars "$python" "$home/jars"
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

cds_archive() {
    [ $# -eq 3 ] || die "usage: $0 cds-archive SPARK_HOME PYTHON FRAMEWORK"
    home=$1 python=$2 fw=$3
    archive=$home/cds/driver.jsa
    classes=$here/cds-classes.txt
    [ -f "$classes" ] || die "no class list $classes beside this script (make cds-classes writes it)"
    mkdir -p "$home/cds"
    rm -f "$archive"
    work=$(mktemp -d)
    # The training job runs as a Lambda invocation would start Spark: through spark-class, with the image's defaults.
    SPARK_HOME=$home SPARK_CONF_DIR=$home/conf SPARK_LAMBDA_CDS_DUMP=$archive SPARK_LOCAL_IP=127.0.0.1 \
        PYSPARK_PYTHON=$python AWS_LAMBDA_FUNCTION_MEMORY_SIZE=3008 \
        "$python" "$here/cds-train.py" "$fw" "$work" "$classes" || { rm -rf "$work"; die "the class-data sharing training run for $fw failed"; }
    rm -rf "$work"
    [ -s "$archive" ] || die "the training run wrote no archive $archive"
    if [ -n "${JAVA_HOME:-}" ]; then java=$JAVA_HOME/bin/java; else java=java; fi
    # The same classpath as spark-class builds; -Xshare:on makes a JVM that cannot map the archive fail.
    "$java" -XX:SharedArchiveFile="$archive" -Xshare:on -cp "$home/jars/*:$home/conf/" -version >/dev/null 2>&1 ||
        die "the JVM refuses the archive $archive (-Xshare:on): a classpath or JVM mismatch"
    chmod a+r "$archive"
    echo "install-spark-home: class-data sharing archive $archive ($(du -m "$archive" | cut -f1) MiB) for $fw"
}

step=${1:-}
[ $# -gt 0 ] && shift
case $step in
    spark-home) spark_home "$@" ;;
    task-root) task_root "$@" ;;
    cds-archive) cds_archive "$@" ;;
    *) die "usage: $0 spark-home ... | task-root ... | cds-archive ... (see the comment at the top)" ;;
esac
