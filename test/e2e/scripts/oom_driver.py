# Test script: fills the driver JVM's heap from Python (64 MiB arrays kept reachable) until the JVM dies of
# java.lang.OutOfMemoryError; the handler must name that cause, the heap and the function memory.
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
jvm = spark.sparkContext._jvm
keep = jvm.java.util.ArrayList()
for _ in range(100000):
    keep.add(jvm.java.nio.ByteBuffer.allocate(64 << 20))
RESULT = {"survived": True}
