# Sample PySpark job: loads Seattle weather rows into a Delta, Hudi or Iceberg table (create on the first run,
# upsert by `date` afterwards) and reads the table back to verify its row count and schema.
#
# Runs unchanged on AWS Lambda (the image's handler) and with spark-submit (e.g. EMR Serverless, with the image's
# sparklambda package on the Python path):
#   spark-submit table_job.py --event '{"input": "s3://bucket/data/seattle-weather.csv", "table": "seattle_weather"}'
# What it takes (through the script API, sparklambda.events):
#   - the plain event below, or an S3 notification (direct, via SNS/SQS, via EventBridge) for new CSV files, e.g.
#     from the construct's AddS3Trigger on incoming/: every named object is loaded, in one upsert;
#   - a batch of records (SQS, Kinesis, DynamoDB Streams, MSK) whose bodies are JSON rows of the CSV's columns
#     ({"date": "2012-01-01", "temp_max": 12.8, ...}): a record that is not such a row is marked failed
#     (events.fail: Lambda retries just those, or sends them to the failure destination) and the rest is upserted.
# Plain event fields:
#   input      s3:// path of the CSV, or a list of them (required for "write" unless a trigger names the files)
#   table      table name (default seattle_weather)
#   action     "write" (default: load + upsert + read back) or "read" (read back only)
#   years      optional list of years to load, e.g. [2012, 2013]; default all rows
#   format     DELTA | HUDI | ICEBERG; default: the SPARK_LAMBDA_FRAMEWORK environment variable
#   warehouse  where Delta/Hudi tables live; default: spark.sql.warehouse.dir (the handler sets it from SPARK_LAMBDA_WAREHOUSE)
#   database   Iceberg namespace in the catalog `lake`; default: SPARK_LAMBDA_GLUE_DATABASE, else "default"
# Where the tables go:
#   DELTA, HUDI  path-based tables at <warehouse>/<format>/<table>
#   ICEBERG      lake.<database>.<table>; the catalog `lake` is Glue when deployed and a Hadoop catalog locally,
#                chosen by the Spark configuration, never by this script
# What it reports: the module-level dict RESULT (the Lambda handler returns it; spark-submit ignores it). It is
# also printed as one JSON line.
import datetime
import functools
import json
import os

from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, DoubleType, StringType, StructField, StructType

from sparklambda import events

CSV_SCHEMA = StructType([
    StructField("date", DateType(), False),
    StructField("precipitation", DoubleType()),
    StructField("temp_max", DoubleType()),
    StructField("temp_min", DoubleType()),
    StructField("wind", DoubleType()),
    StructField("weather", StringType()),
])
KEY = "date"  # one row per day: the record key of every format
VERSION_COLUMN = "ingested_at"  # when this run loaded the row: Hudi's precombine field, an audit column elsewhere
RESULT = {}


def parse_event():
    event = events.current()  # Lambda: the invocation event; spark-submit: --event <json>
    if not isinstance(event, dict):
        raise ValueError(f"the event must be a JSON object, got {type(event).__name__}")
    return event


def path_exists(spark, path):
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(hpath)


def read_records(spark, event):
    """A batch of records whose bodies are JSON rows: the good ones as a DataFrame, the bad ones marked failed."""
    json_schema = StructType([StructField(f.name, StringType() if f.name == KEY else f.dataType) for f in CSV_SCHEMA])
    records = events.records_df(spark, event, schema=json_schema)
    parsed = records.withColumn("_date", F.to_date("data.date"))
    bad = parsed.where(F.col("json_error").isNotNull() | F.col("_date").isNull())
    failed = events.fail(bad, reason="not a JSON row with a valid date")
    rows = parsed.where(F.col("json_error").isNull() & F.col("_date").isNotNull())
    # The newest record of a key wins within a batch (a MERGE source must have one row per key).
    latest = Window.partitionBy("_date").orderBy(F.col("timestamp").desc_nulls_last(), F.col("record_id").desc())
    rows = rows.withColumn("_n", F.row_number().over(latest)).where("_n = 1")
    return rows.select(F.col("_date").alias(KEY), *[F.col("data." + f.name) for f in CSV_SCHEMA if f.name != KEY]), failed


def read_files(spark, event):
    """The CSV files the event names (plain "input", or S3 notifications), one row per key (the last file wins)."""
    paths = events.input_uris(event)
    if not paths:
        raise ValueError('the event has no "input": give the s3:// path of the CSV, e.g. {"input": "s3://bucket/data/seattle-weather.csv"}, '
                         'or send an S3 notification for new CSV files')
    def read(path):
        return spark.read.csv(path, header=True, schema=CSV_SCHEMA, mode="FAILFAST")
    if len(paths) == 1:
        return read(paths[0]), paths
    # A file's position in the event, not input_file_name(): a MERGE source must be deterministic.
    df = functools.reduce(lambda a, b: a.unionByName(b),
                          [read(p).withColumn("_file_no", F.lit(i)) for i, p in enumerate(paths)])
    last = Window.partitionBy(KEY).orderBy(F.col("_file_no").desc())
    return df.withColumn("_n", F.row_number().over(last)).where("_n = 1").drop("_n", "_file_no"), paths


def read_input(spark, event):
    """(rows to upsert, what they came from): files for plain and S3 events, records for batches."""
    if events.kind(event) in events.RECORD_KINDS:
        df, failed = read_records(spark, event)
        source = {"records": len(events.records(event)), "failed_records": failed}
    else:
        df, paths = read_files(spark, event)
        source = {"files": paths}
    years = event.get("years")
    if years:
        df = df.where(F.year(KEY).isin([int(y) for y in years]))
    return df.withColumn(VERSION_COLUMN, F.lit(datetime.datetime.now(datetime.timezone.utc)).cast("timestamp")), source


def is_delta_table(spark, location):
    # Delta's own check (a committed version exists), through the JVM: a bare _delta_log/ prefix can already exist
    # while a concurrent writer is still creating the table.
    return spark.sparkContext._jvm.io.delta.tables.DeltaTable.isDeltaTable(spark._jsparkSession, location)


def upsert_delta(spark, df, location):
    if not is_delta_table(spark, location):
        df.write.format("delta").save(location)
        return "create"
    df.createOrReplaceTempView("incoming")
    spark.sql(f"""
        MERGE INTO delta.`{location}` AS t USING incoming AS s ON t.{KEY} = s.{KEY}
        WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *""")
    return "upsert"


def upsert_hudi(spark, df, location, table):
    existed = path_exists(spark, location + "/.hoodie")
    (df.withColumn(KEY, F.col(KEY).cast("string"))  # Hudi record keys are strings
       .write.format("hudi")
       .option("hoodie.table.name", table)
       .option("hoodie.datasource.write.table.type", "COPY_ON_WRITE")
       .option("hoodie.datasource.write.operation", "upsert")
       .option("hoodie.datasource.write.recordkey.field", KEY)
       .option("hoodie.datasource.write.precombine.field", VERSION_COLUMN)
       .option("hoodie.datasource.write.partitionpath.field", "")
       .option("hoodie.datasource.write.keygenerator.class", "org.apache.hudi.keygen.NonpartitionedKeyGenerator")
       .mode("append")
       .save(location))
    return "upsert" if existed else "create"


def upsert_iceberg(spark, df, ident, namespace):
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespace}")
    if not spark.catalog.tableExists(ident):
        df.writeTo(ident).using("iceberg").create()
        return "create"
    df.createOrReplaceTempView("incoming")
    spark.sql(f"""
        MERGE INTO {ident} AS t USING incoming AS s ON t.{KEY} = s.{KEY}
        WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *""")
    return "upsert"


def main():
    event = parse_event()
    spark = SparkSession.builder.appName("table_job").getOrCreate()
    fmt = (event.get("format") or os.environ.get("SPARK_LAMBDA_FRAMEWORK") or "").upper()
    if fmt not in ("DELTA", "HUDI", "ICEBERG"):
        raise ValueError(f'unknown table format {fmt!r}: set "format" in the event or SPARK_LAMBDA_FRAMEWORK to DELTA, HUDI or ICEBERG')
    table = event.get("table") or "seattle_weather"
    action = event.get("action") or "write"
    if action not in ("write", "read"):
        raise ValueError(f'unknown action {action!r}: use "write" or "read"')
    warehouse = (event.get("warehouse") or spark.conf.get("spark.sql.warehouse.dir")).rstrip("/")
    database = event.get("database") or os.environ.get("SPARK_LAMBDA_GLUE_DATABASE") or "default"

    if fmt == "ICEBERG":
        namespace = f"lake.{database}"
        location = f"{namespace}.{table}"
        read = lambda: spark.table(location)  # noqa: E731
    else:
        location = f"{warehouse}/{fmt.lower()}/{table}"
        read = lambda: spark.read.format(fmt.lower()).load(location)  # noqa: E731

    operation, input_rows, source = "read", None, None
    if action == "write":
        df, source = read_input(spark, event)
        df = df.cache()
        input_rows = df.count()
        # Concurrent invocations need nothing here: the image coordinates each format's commits (see the README).
        if fmt == "DELTA":
            operation = upsert_delta(spark, df, location)
        elif fmt == "HUDI":
            operation = upsert_hudi(spark, df, location, table)
        else:
            operation = upsert_iceberg(spark, df, location, namespace)
        df.unpersist()

    # Read back: row count, duplicate keys (an upsert must not add any), schema without the format's own columns.
    table_df = read()
    stats = table_df.agg(F.count(F.lit(1)).alias("rows"), F.countDistinct(KEY).alias("keys"),
                         F.min(KEY).alias("first"), F.max(KEY).alias("last")).first()
    schema = [f"{f.name}:{f.dataType.simpleString()}" for f in table_df.schema.fields if not f.name.startswith("_hoodie_")]
    RESULT.update({
        "format": fmt,
        "table": location,
        "operation": operation,
        "input_rows": input_rows,
        "source": source,
        "rows": stats["rows"],
        "duplicate_keys": stats["rows"] - stats["keys"],
        "first_date": str(stats["first"]) if stats["first"] is not None else None,
        "last_date": str(stats["last"]) if stats["last"] is not None else None,
        "schema": schema,
    })
    print(json.dumps(RESULT))


if __name__ == "__main__":
    main()
