# The training run for the driver JVM's class-data sharing archive (AppCDS): a small job of the image's table format
# that walks the code paths a Lambda invocation of the sample kind takes (Py4J gateway, SparkContext, CSV read,
# create table, MERGE/upsert, read back, count), on local files only. Run by install-spark-home.sh cds-archive
# (Dockerfile and make runtime alike) with SPARK_LAMBDA_CDS_DUMP set, so that spark-class makes the JVM write the
# classes it loaded into the archive when it exits; this script waits for that exit.
# The job reads and writes local files only (an image build has no S3), so the classes a deployed function loads on
# top of it (the s3a file system and the AWS SDKs, commit coordination on DynamoDB, Iceberg's Glue catalog) come from
# CLASS_LIST (cds-classes.txt beside this script: recorded from real invocations by `make cds-classes`): they are
# loaded without being initialized, which is all the archive needs. Names not on this image's classpath (another
# format's) are skipped.
#
# Usage: python cds-train.py FRAMEWORK WORK_DIR CLASS_LIST   (WORK_DIR: an empty, writable directory; removed by the
#        caller)
import os
import sys
import time


def job(spark, framework, work):
    from pyspark.sql import functions as F

    csv = os.path.join(work, "input")
    # The sample data's shape: a date key, numbers, a text column; written and read as CSV with a header.
    (spark.range(0, 730).select(
        F.date_add(F.lit("2014-01-01").cast("date"), F.col("id").cast("int")).cast("string").alias("date"),
        (F.col("id") % 37 / 3.0).alias("precipitation"), (F.col("id") % 31 + 0.5).alias("temp_max"),
        F.when(F.col("id") % 3 == 0, "rain").otherwise("sun").alias("weather"))
     .coalesce(1).write.option("header", True).mode("overwrite").csv(csv))
    src = (spark.read.option("header", True).option("inferSchema", True).csv(csv)
           .withColumn("ingested_at", F.current_timestamp()))
    first, second = src.where("date < '2015-01-01'"), src.where("date >= '2014-07-01'")
    if framework == "DELTA":
        from delta.tables import DeltaTable

        path = os.path.join(work, "delta")
        first.write.format("delta").save(path)
        (DeltaTable.forPath(spark, path).alias("t").merge(second.alias("s"), "t.date = s.date")
         .whenMatchedUpdateAll().whenNotMatchedInsertAll().execute())
        second.createOrReplaceTempView("updates")
        spark.sql(f"MERGE INTO delta.`{path}` t USING updates s ON t.date = s.date "
                  "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *")
        rows = spark.read.format("delta").load(path).count()
    elif framework == "HUDI":
        path = os.path.join(work, "hudi")
        opts = {"hoodie.table.name": "cds_train", "hoodie.datasource.write.recordkey.field": "date",
                "hoodie.datasource.write.precombine.field": "ingested_at",
                "hoodie.datasource.write.table.type": "COPY_ON_WRITE"}
        first.write.format("hudi").options(**opts).option("hoodie.datasource.write.operation", "insert") \
            .mode("overwrite").save(path)
        second.write.format("hudi").options(**opts).option("hoodie.datasource.write.operation", "upsert") \
            .mode("append").save(path)
        rows = spark.read.format("hudi").load(path).count()
    elif framework == "ICEBERG":
        spark.conf.set("spark.sql.catalog.lake.warehouse", os.path.join(work, "iceberg"))
        spark.sql("CREATE NAMESPACE IF NOT EXISTS lake.cds")
        first.writeTo("lake.cds.train").using("iceberg").createOrReplace()
        second.createOrReplaceTempView("updates")
        spark.sql("MERGE INTO lake.cds.train t USING updates s ON t.date = s.date "
                  "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *")
        rows = spark.table("lake.cds.train").count()
    else:
        raise SystemExit(f"cds-train: unknown framework {framework!r} (DELTA, HUDI or ICEBERG)")
    if rows != 730:
        raise SystemExit(f"cds-train: the {framework} table has {rows} rows after the upsert, expected 730")
    return rows


def class_names(lines):
    """The class names of a class list in Java's dotted form: one per line ('/' separated, as the JDK writes them),
    blank lines and '#' comments skipped."""
    return [n.strip().replace("/", ".") for n in lines if n.strip() and not n.lstrip().startswith("#")]


def load_classes(jvm, names):
    """Loads each named class through the JVM's application class loader (whose classes the archive holds) without
    initializing it: no static initializer runs, so nothing of the deployed environment is needed. Returns
    (loaded, not on the classpath, failed: found but not loadable, e.g. a missing optional dependency)."""
    loader = jvm.java.lang.ClassLoader.getSystemClassLoader()
    loaded = absent = failed = 0
    for name in names:
        if loader.getResource(name.replace(".", "/") + ".class") is None:  # no exception for another format's class
            absent += 1
            continue
        try:
            jvm.java.lang.Class.forName(name, False, loader)
            loaded += 1
        except Exception:  # Py4JJavaError: a LinkageError or ClassNotFoundException in the JVM
            failed += 1
    return loaded, absent, failed


def main():
    if len(sys.argv) != 4:
        raise SystemExit("usage: cds-train.py FRAMEWORK WORK_DIR CLASS_LIST")
    framework, work, class_list = sys.argv[1:]
    with open(class_list) as f:
        names = class_names(f)
    if not os.environ.get("SPARK_LAMBDA_CDS_DUMP"):
        raise SystemExit("cds-train: SPARK_LAMBDA_CDS_DUMP must name the archive to write")
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    t0 = time.monotonic()
    spark = (SparkSession.builder.appName("cds-train")
             .config("spark.sql.warehouse.dir", os.path.join(work, "warehouse"))
             .config("spark.local.dir", os.path.join(work, "local")).getOrCreate())
    rows = job(spark, framework, work)
    loaded, absent, failed = load_classes(spark.sparkContext._jvm, names)
    print(f"cds-train: loaded {loaded} classes of {os.path.basename(class_list)} ({absent} not on this classpath, "
          f"{failed} not loadable)", flush=True)
    proc = SparkContext._gateway.proc
    spark.stop()
    # The JVM exits when its stdin closes (PySpark's gateway server watches it) and writes the archive on the way out:
    # wait for it, or the archive would be cut short by this process's exit.
    proc.stdin.close()
    code = proc.wait(timeout=600)
    print(f"cds-train: {framework} job done ({rows} rows), JVM exited with {code} after {time.monotonic() - t0:.1f}s",
          flush=True)
    if code != 0:
        raise SystemExit(f"cds-train: the JVM exited with {code} while writing the archive")


if __name__ == "__main__":
    main()
