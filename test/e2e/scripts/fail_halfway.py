# Test script: starts a table write that fails halfway. It takes the sample CSV, shifts every date by 10 years
# (so every row would be a NEW key), spreads the rows over 4 tasks and writes them to the sample table in the
# framework's format. The table must keep its committed row count: no partial data may become visible.
# DELTA, ICEBERG: a UDF raises inside one task while the others write their files.
# HUDI: an upsert computes its whole input before it writes (index lookup, workload profile), so a failing UDF
# would stop it before any data file exists. Instead every file is written and the COMMIT fails: Hudi's pre-commit
# validator checks the table as it would be after the commit ("no row after 2020") and refuses it, leaving the new
# data files on S3 with no completed instant on the timeline that references them (the test lists them).
import datetime
import json
import os
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType

event = json.loads(sys.argv[sys.argv.index("--event") + 1])
spark = SparkSession.builder.getOrCreate()
fmt = os.environ["SPARK_LAMBDA_FRAMEWORK"]
table = event["table"]
bad_day = datetime.date(2025, 6, 1)  # a shifted 2015 date: late in the data


@F.udf(DoubleType())
def checked(day, value):
    if day == bad_day:
        raise ValueError("injected failure halfway through the table write")
    return value


shifted = (spark.read.csv(event["input"], header=True, inferSchema=False)
           .select(F.add_months(F.to_date("date"), 120).alias("date"),
                   *[F.col(c).cast("double").alias(c) for c in ("precipitation", "temp_max", "temp_min", "wind")],
                   "weather")
           .withColumn("ingested_at", F.current_timestamp())
           .repartition(4, "date").sortWithinPartitions("date"))
df = shifted.withColumn("temp_max", checked("date", "temp_max"))
warehouse = spark.conf.get("spark.sql.warehouse.dir").rstrip("/")
if fmt == "DELTA":
    df.write.format("delta").mode("append").save(f"{warehouse}/delta/{table}")
elif fmt == "HUDI":
    try:
        (shifted.withColumn("date", F.col("date").cast("string")).write.format("hudi")
           .option("hoodie.table.name", table)
           .option("hoodie.precommit.validators",
                   "org.apache.hudi.client.validator.SqlQuerySingleResultPreCommitValidator")
           .option("hoodie.precommit.validators.single.value.sql.queries",
                   "select count(*) from <TABLE_NAME> where date > '2020-12-31'#0")
           .option("hoodie.datasource.write.table.type", "COPY_ON_WRITE")
           .option("hoodie.datasource.write.operation", "upsert")
           .option("hoodie.datasource.write.recordkey.field", "date")
           .option("hoodie.datasource.write.precombine.field", "ingested_at")
           .option("hoodie.datasource.write.partitionpath.field", "")
           .option("hoodie.datasource.write.keygenerator.class", "org.apache.hudi.keygen.NonpartitionedKeyGenerator")
           .mode("append").save(f"{warehouse}/hudi/{table}"))
    except Exception as e:
        if "validation" not in str(e).lower():
            raise
        raise RuntimeError("injected failure halfway through the table write: the data files are written, Hudi's "
                           f"pre-commit validator refused the commit ({type(e).__name__})") from e
else:
    df.writeTo(f"lake.default.{table}").append()
RESULT = {"unexpected": "the write succeeded"}
