# Test script: how many tasks Spark's file scan makes of one 10 MiB local file (docker/conf/spark-defaults.conf sets
# spark.sql.files.openCostInBytes so that such an input splits into spark.default.parallelism even tasks; with
# Spark's 4 MiB default it makes 3). Plans the scan only: no Spark job runs.
import os

from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
path = "/tmp/split-probe.txt"
line = b"2012-01-01,0.0,12.8,5.0,4.7,drizzle\n"
with open(path, "wb") as f:
    f.write(line * (10 * 1024 * 1024 // len(line)))
try:
    tasks = spark.read.text(path).rdd.getNumPartitions()
finally:
    os.remove(path)
RESULT = {"tasks": tasks, "parallelism": int(spark.conf.get("spark.default.parallelism", "0") or 0)}
