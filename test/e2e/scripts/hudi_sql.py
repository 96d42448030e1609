# Test script: the Hudi Spark SQL path through HoodieCatalog (spark_catalog in docker/conf/spark-defaults-HUDI.conf).
# CREATE TABLE ... USING hudi with a primary key at a location under the warehouse, INSERT rows, read them back,
# then DROP TABLE. Hudi 0.15.0 (built on Spark 3.5.1) fails here on Spark >= 3.5.2 with
# NoSuchMethodError: SessionCatalog.invalidateCachedTable(QualifiedTableName) (apache/hudi#12099).
# Event: {"table": "<name>"}; the catalog outlives an invocation in a warm environment, so use a fresh name.
import json
import sys

from pyspark.sql import SparkSession

event = json.loads(sys.argv[sys.argv.index("--event") + 1])
table = event["table"]
spark = SparkSession.builder.getOrCreate()
warehouse = spark.conf.get("spark.sql.warehouse.dir").rstrip("/")
location = f"{warehouse}/hudi_sql/{table}"

spark.sql(f"DROP TABLE IF EXISTS {table}")
spark.sql(f"""
    CREATE TABLE {table} (id INT, name STRING, price DOUBLE, ts BIGINT) USING hudi
    TBLPROPERTIES (type = 'cow', primaryKey = 'id', preCombineField = 'ts')
    LOCATION '{location}'""")
spark.sql(f"INSERT INTO {table} VALUES (1, 'a1', 10.0, 1000), (2, 'a2', 20.0, 1000), (3, 'a3', 30.0, 1000)")
rows = spark.sql(f"SELECT id, name, price FROM {table} ORDER BY id").collect()
provider = spark.sql(f"DESCRIBE TABLE EXTENDED {table}").where("col_name = 'Provider'").collect()
spark.sql(f"DROP TABLE {table}")

RESULT = {
    "table": table,
    "location": location,
    "provider": provider[0]["data_type"] if provider else None,
    "rows": len(rows),
    "ids": [r["id"] for r in rows],
    "names": [r["name"] for r in rows],
    "exists_after_drop": spark.catalog.tableExists(table),
}
