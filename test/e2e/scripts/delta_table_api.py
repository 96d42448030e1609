# Test script: Delta's Python API (delta-spark, pinned in the lock) in the DELTA runtime: create a table, then upsert
# into it with DeltaTable.forPath(...).merge(...), the standard way to upsert into Delta from PySpark.
from delta.tables import DeltaTable
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
path = spark.conf.get("spark.sql.warehouse.dir").rstrip("/") + "/delta/api_merge"
spark.createDataFrame([(1, "a"), (2, "b")], "id INT, v STRING").write.format("delta").mode("overwrite").save(path)
updates = spark.createDataFrame([(2, "B"), (3, "c")], "id INT, v STRING")
(DeltaTable.forPath(spark, path).alias("t")
    .merge(updates.alias("s"), "t.id = s.id")
    .whenMatchedUpdateAll()
    .whenNotMatchedInsertAll()
    .execute())
RESULT = {"rows": sorted([tuple(r) for r in spark.read.format("delta").load(path).collect()]),
          "history": DeltaTable.forPath(spark, path).history().count()}
