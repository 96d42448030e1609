# Smoke script run inside the Lambda sandbox by the runtime tests: starts a SparkSession through whatever
# SPARK_HOME / PySpark resolves, counts spark.range(10), and with --table writes + reads back a small table in the
# framework's format under /tmp (SPARK_LAMBDA_FRAMEWORK decides which); each --load-class NAME loads that class in the
# driver JVM. Prints one JSON line; exits non-zero on failure.
import json
import os
import sys

from pyspark.sql import SparkSession


def table_roundtrip(spark, framework):
    df = spark.createDataFrame([(i, "name-%d" % i, i * 1.5) for i in range(5)], "id INT, name STRING, score DOUBLE")
    if framework == "DELTA":
        path = "/tmp/smoke/delta"
        df.write.format("delta").mode("overwrite").save(path)
        df.limit(2).write.format("delta").mode("append").save(path)
        return spark.read.format("delta").load(path).count()
    if framework == "HUDI":
        path = "/tmp/smoke/hudi"
        opts = {
            "hoodie.table.name": "smoke",
            "hoodie.datasource.write.recordkey.field": "id",
            "hoodie.datasource.write.precombine.field": "score",
            "hoodie.datasource.write.table.type": "COPY_ON_WRITE",
            "hoodie.datasource.write.operation": "upsert",
        }
        df.write.format("hudi").options(**opts).mode("overwrite").save(path)
        df.limit(2).write.format("hudi").options(**opts).mode("append").save(path)  # upsert: same keys
        return spark.read.format("hudi").load(path).count()
    if framework == "ICEBERG":
        spark.sql("CREATE NAMESPACE IF NOT EXISTS lake.smoke")
        spark.sql("DROP TABLE IF EXISTS lake.smoke.t")
        df.writeTo("lake.smoke.t").create()
        df.limit(2).writeTo("lake.smoke.t").append()
        return spark.table("lake.smoke.t").count()
    raise SystemExit("unknown SPARK_LAMBDA_FRAMEWORK %r" % framework)


def main():
    spark = SparkSession.builder.appName("smoke").getOrCreate()
    out = {
        "count": spark.range(10).count(),
        "spark_version": spark.version,
        "extensions": spark.conf.get("spark.sql.extensions", None),
        "max_heap_mb": spark.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory() // (1024 * 1024),
    }
    if "--table" in sys.argv[1:]:
        out["table_rows"] = table_roundtrip(spark, os.environ.get("SPARK_LAMBDA_FRAMEWORK", ""))
    args = sys.argv[1:]
    loaded = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--load-class"]
    for name in loaded:
        spark.sparkContext._jvm.java.lang.Class.forName(name)
    out["loaded_classes"] = loaded
    spark.stop()
    print("SMOKE " + json.dumps(out))


if __name__ == "__main__":
    main()
