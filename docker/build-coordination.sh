#!/bin/sh
# Compiles the image's commit-coordination classes (docker/java/com/sparklambda/coordination) for one table format
# into OUTDIR/spark-lambda-coordination.jar, against CLASSPATH (the format's jars, the AWS SDK bundle, the pinned
# dynamodb-lock-client and Hadoop's client API). Used by the Dockerfile's `jars` stage and by the local runtime
# install (locallambda/install-runtime.sh), so both run the same classes.
#   DELTA    DynamoDbTableLocks + DynamoDbLockingS3LogStore (Delta's log store with a commit lock)
#   HUDI     DynamoDbTableLocks + HudiDynamoDbLockProvider (a lock provider for Hudi's optimistic concurrency)
#   ICEBERG  nothing: Iceberg's own DynamoDbLockManager (in iceberg-aws-bundle) serves it
# Usage: build-coordination.sh FRAMEWORK OUTDIR CLASSPATH
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fw=${1:?usage: build-coordination.sh FRAMEWORK OUTDIR CLASSPATH}
out=${2:?usage: build-coordination.sh FRAMEWORK OUTDIR CLASSPATH}
cp=${3:?usage: build-coordination.sh FRAMEWORK OUTDIR CLASSPATH}
src=$here/java/com/sparklambda/coordination
case $fw in
    DELTA) files="$src/DynamoDbTableLocks.java $src/DynamoDbLockingS3LogStore.java" ;;
    HUDI) files="$src/DynamoDbTableLocks.java $src/HudiDynamoDbLockProvider.java" ;;
    ICEBERG) echo "build-coordination: nothing to build for ICEBERG (Iceberg's DynamoDbLockManager)"; exit 0 ;;
    *) echo "build-coordination: unknown framework '$fw' (DELTA, HUDI or ICEBERG)" >&2; exit 2 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2086  # $files is a list of paths without spaces
javac -nowarn --release 17 -encoding UTF-8 -cp "$cp" -d "$work/classes" $files
mkdir -p "$out"
jar --create --file "$out/spark-lambda-coordination.jar" --date=2000-01-01T00:00:00Z -C "$work/classes" .
echo "build-coordination: $out/spark-lambda-coordination.jar ($fw)"
