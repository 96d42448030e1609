# The table format's own code paths run once in the init phase: a create, a MERGE/upsert and a count on a throwaway
# table of the function's format in local /tmp (never S3, never the function's catalog or lock table), so that the
# first invocation finds the format's classes loaded and its hot paths compiled, as a warm one does.
#
# When: SPARK_LAMBDA_INIT_WARMUP = auto (default) | on | off. With auto it runs only where Lambda gives the init phase
# the time for it, that is in environments initialized for provisioned concurrency (AWS_LAMBDA_INITIALIZATION_TYPE
# "provisioned-concurrency"): their init runs ahead of any invocation, so the warm-up costs no invocation anything.
# On-demand environments keep the 10 s init limit and their first invocation follows the init at once, so there the
# warm-up would only add its own seconds to that invocation: auto leaves it off. `on` forces it (on-demand too: the
# init then waits for it, and an init above 10 s is run again inside the first invocation; AWS Lambda Developer
# Guide, "Lambda execution environment lifecycle").
#
# Why init blocks for it instead of running it in the background like the JVM start: Lambda freezes an environment
# whose runtime has finished init and waits for its first event, background threads and the JVM included, so a
# provisioned environment's background work would only resume at its first invocation.
import logging
import os
import shutil
import tempfile
import time

from .errors import ConfigurationError

logger = logging.getLogger("handler")

ENV = "SPARK_LAMBDA_INIT_WARMUP"
MODES = ("auto", "on", "off")
PROVISIONED = "provisioned-concurrency"  # AWS_LAMBDA_INITIALIZATION_TYPE of a provisioned environment
ROWS = 64  # rows of the throwaway table: enough for every task of the write path, small enough to take no time
CATALOG = "spark_lambda_warmup"  # the Iceberg catalog of the throwaway table, set on the warm-up's own session only


def enabled(environ=None):
    """Whether the init phase warms the format up. Raises ConfigurationError for a value outside MODES."""
    env = os.environ if environ is None else environ
    value = (env.get(ENV) or "auto").strip().lower()
    if value not in MODES:
        raise ConfigurationError(f"{ENV}={env.get(ENV)!r} is not one of {', '.join(MODES)}. Fix: leave it unset "
                                 f"(auto: only with provisioned concurrency), or set on or off")
    if value == "auto":
        return env.get("AWS_LAMBDA_INITIALIZATION_TYPE", "") == PROVISIONED
    return value == "on"


def _frame(spark, first, count):
    """A source shaped like the sample job's: a date key, a double, a string and a version timestamp."""
    return spark.range(first, first + count).selectExpr(
        "date_add(date'2012-01-01', cast(id as int)) as key", "cast(id as double) as value", "'warm-up' as label",
        "current_timestamp() as version")


def _delta(spark, path):
    _frame(spark, 0, ROWS).write.format("delta").save(path)
    _frame(spark, ROWS // 2, ROWS).createOrReplaceTempView("warmup_incoming")
    spark.sql(f"MERGE INTO delta.`{path}` AS t USING warmup_incoming AS s ON t.key = s.key "
              "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *")
    return spark.read.format("delta").load(path).count()


def _iceberg(spark, path):
    spark.conf.set(f"spark.sql.catalog.{CATALOG}", "org.apache.iceberg.spark.SparkCatalog")
    spark.conf.set(f"spark.sql.catalog.{CATALOG}.type", "hadoop")
    spark.conf.set(f"spark.sql.catalog.{CATALOG}.warehouse", "file://" + path)
    ident = f"{CATALOG}.warmup.t"
    _frame(spark, 0, ROWS).writeTo(ident).using("iceberg").create()
    _frame(spark, ROWS // 2, ROWS).createOrReplaceTempView("warmup_incoming")
    spark.sql(f"MERGE INTO {ident} AS t USING warmup_incoming AS s ON t.key = s.key "
              "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *")
    return spark.table(ident).count()


def _hudi(spark, path):
    from pyspark.sql import functions as F

    options = {
        "hoodie.table.name": "warmup",
        "hoodie.datasource.write.table.type": "COPY_ON_WRITE",
        "hoodie.datasource.write.operation": "upsert",
        "hoodie.datasource.write.recordkey.field": "key",
        "hoodie.datasource.write.precombine.field": "version",
        "hoodie.datasource.write.partitionpath.field": "",
        "hoodie.datasource.write.keygenerator.class": "org.apache.hudi.keygen.NonpartitionedKeyGenerator",
        # The function's hudi-defaults.conf may name the DynamoDB lock provider: the throwaway table takes Hudi's
        # in-process lock instead, so the warm-up never touches the lock table (the rest of the defaults apply).
        "hoodie.write.lock.provider": "org.apache.hudi.client.transaction.lock.InProcessLockProvider",
    }
    for first in (0, ROWS // 2):  # create, then upsert into the existing table
        (_frame(spark, first, ROWS).withColumn("key", F.col("key").cast("string"))
         .write.format("hudi").options(**options).mode("append").save(path))
    return spark.read.format("hudi").load(path).count()


RUNS = {"DELTA": _delta, "HUDI": _hudi, "ICEBERG": _iceberg}


def run(root, framework, isolation, tmp_root="/tmp"):
    """Runs the warm-up of `framework` on its own session of `root` (isolation.InvocationSession: nothing of it
    reaches an invocation's session) and removes its table; returns {"seconds", "rows"}. Raises what the format
    raises; the table directory is removed either way."""
    path = tempfile.mkdtemp(prefix="spark-lambda-warmup-", dir=tmp_root)
    t0 = time.monotonic()
    try:
        with isolation.InvocationSession(root) as spark:
            rows = RUNS[framework](spark, path)
    finally:
        shutil.rmtree(path, ignore_errors=True)
    if rows != ROWS + ROWS // 2:
        raise RuntimeError(f"the {framework} warm-up table has {rows} rows, expected {ROWS + ROWS // 2}")
    return {"seconds": round(time.monotonic() - t0, 3), "rows": rows}
