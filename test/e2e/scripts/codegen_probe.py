# Reports how many classes Spark's code generator has compiled in this JVM so far (CodegenMetrics, the counters behind
# Spark's "codegen" metrics source): a warm invocation that runs a query it has run before should compile (almost) none.
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
metrics = spark.sparkContext._jvm.org.apache.spark.metrics.source.CodegenMetrics
RESULT = {"compilations": metrics.METRIC_COMPILATION_TIME().getCount()}
