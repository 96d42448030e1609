# Test script: with {"phase": "set"} it creates a temp view and sets SQL conf in its session; with
# {"phase": "check"} it reports whether those are visible. Each invocation must get a fresh session, and
# SparkSession.builder.getOrCreate() must return it (the same object as the active session).
import json
import sys

from pyspark.sql import SparkSession

event = json.loads(sys.argv[sys.argv.index("--event") + 1])
spark = SparkSession.builder.getOrCreate()
if event["phase"] == "set":
    spark.range(3).createOrReplaceTempView("leak_probe")
    spark.conf.set("spark.sql.shuffle.partitions", "77")
    spark.conf.set("spark.e2e.marker", "set-by-first-invocation")
RESULT = {
    "view_visible": spark.catalog.tableExists("leak_probe"),
    "shuffle_partitions": spark.conf.get("spark.sql.shuffle.partitions"),
    "marker": spark.conf.get("spark.e2e.marker", None),
    "session_id": spark._jsparkSession.hashCode(),
    "builder_is_active": SparkSession.getActiveSession()._jsparkSession.equals(spark._jsparkSession),
    "jvm_active_is_builder": spark._jvm.SparkSession.active().equals(spark._jsparkSession),
}
