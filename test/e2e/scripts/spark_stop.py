# Test script: stops the SparkContext (as many spark-submit scripts do at the end); the next invocation must get
# a new SparkContext instead of a dead one.
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
RESULT = {"count": spark.range(4).count()}
spark.stop()
