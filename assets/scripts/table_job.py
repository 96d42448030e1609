# Sample PySpark job: loads the Seattle weather CSV into a Delta, Hudi or Iceberg table (create on the first run,
# upsert by `date` afterwards) and reads the table back to verify its row count and schema.
#
# Runs unchanged on AWS Lambda (docker/handler.py) and with spark-submit (e.g. EMR Serverless):
#   spark-submit table_job.py --event '{"input": "s3://bucket/data/seattle-weather.csv", "table": "seattle_weather"}'
# Event fields:
#   input      s3:// path of the CSV (required for "write")
#   table      table name (default seattle_weather)
#   action     "write" (default: load + upsert + read back) or "read" (read back only)
#   years      optional list of years to load, e.g. [2012, 2013]; default all rows
#   format     DELTA | HUDI | ICEBERG; default: the SPARK_FRAMEWORK environment variable
#   warehouse  where Delta/Hudi tables live; default: spark.sql.warehouse.dir (the handler sets it from SPARK_WAREHOUSE)
#   database   Iceberg namespace in the catalog `lake`; default: GLUE_DATABASE, else "default"
# Where the tables go:
#   DELTA, HUDI  path-based tables at <warehouse>/<format>/<table>
#   ICEBERG      lake.<database>.<table>; the catalog `lake` is Glue when deployed and a Hadoop catalog locally,
#                chosen by the Spark configuration, never by this script
# What it reports: the module-level dict RESULT (the Lambda handler returns it; spark-submit ignores it). It is
# also printed as one JSON line.
import argparse
import datetime
import json
import os

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, DoubleType, StringType, StructField, StructType

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
    parser = argparse.ArgumentParser(description="Load the sample CSV into a table and read it back.")
    parser.add_argument("--event", default="{}", help="the invocation event as JSON")
    args, _ = parser.parse_known_args()
    event = json.loads(args.event)
    if not isinstance(event, dict):
        raise ValueError(f"the event must be a JSON object, got {type(event).__name__}")
    return event


def path_exists(spark, path):
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(hpath)


def read_input(spark, event):
    path = event.get("input")
    if not path:
        raise ValueError('the event has no "input": give the s3:// path of the CSV, e.g. {"input": "s3://bucket/data/seattle-weather.csv"}')
    df = spark.read.csv(path, header=True, schema=CSV_SCHEMA, mode="FAILFAST")
    years = event.get("years")
    if years:
        df = df.where(F.year(KEY).isin([int(y) for y in years]))
    return df.withColumn(VERSION_COLUMN, F.lit(datetime.datetime.now(datetime.timezone.utc)).cast("timestamp"))


def upsert_delta(spark, df, location):
    if not path_exists(spark, location + "/_delta_log"):
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
    fmt = (event.get("format") or os.environ.get("SPARK_FRAMEWORK") or "").upper()
    if fmt not in ("DELTA", "HUDI", "ICEBERG"):
        raise ValueError(f'unknown table format {fmt!r}: set "format" in the event or SPARK_FRAMEWORK to DELTA, HUDI or ICEBERG')
    table = event.get("table") or "seattle_weather"
    action = event.get("action") or "write"
    if action not in ("write", "read"):
        raise ValueError(f'unknown action {action!r}: use "write" or "read"')
    warehouse = (event.get("warehouse") or spark.conf.get("spark.sql.warehouse.dir")).rstrip("/")
    database = event.get("database") or os.environ.get("GLUE_DATABASE") or "default"

    if fmt == "ICEBERG":
        namespace = f"lake.{database}"
        location = f"{namespace}.{table}"
        read = lambda: spark.table(location)  # noqa: E731
    else:
        location = f"{warehouse}/{fmt.lower()}/{table}"
        read = lambda: spark.read.format(fmt.lower()).load(location)  # noqa: E731

    operation, input_rows = "read", None
    if action == "write":
        df = read_input(spark, event).cache()
        input_rows = df.count()
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
        "rows": stats["rows"],
        "duplicate_keys": stats["rows"] - stats["keys"],
        "first_date": str(stats["first"]) if stats["first"] is not None else None,
        "last_date": str(stats["last"]) if stats["last"] is not None else None,
        "schema": schema,
    })
    print(json.dumps(RESULT))


if __name__ == "__main__":
    main()
