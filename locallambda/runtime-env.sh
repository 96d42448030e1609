#!/bin/sh
# Prints the environment of the installed local Spark runtime for FRAMEWORK (default DELTA) as `export` lines:
#   eval "$(locallambda/runtime-env.sh HUDI)"   then "$PYTHON" has pyspark, SPARK_HOME has our spark-class,
# JAVA_HOME is Java 17, SPARK_LAMBDA_FRAMEWORK/SPARK_CONF_DIR/PYSPARK_PYTHON are set. Fails if `make runtime` has not run.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
fw=${1:-${FRAMEWORK:-DELTA}}
sh "$root/docker/lock.sh" check "$fw"
rt=${RUNTIME_DIR:-$root/.runtime}
if [ ! -f "$rt/READY-$fw" ] || [ ! -f "$rt/env-$fw.sh" ]; then
    echo "runtime-env.sh: the $fw runtime is not installed: run 'make runtime FRAMEWORK=$fw'" >&2
    exit 1
fi
grep '^export ' "$rt/env-$fw.sh"
