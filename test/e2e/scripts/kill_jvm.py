# Test script: kills the Spark JVM (as an out-of-memory kill would) and returns; the handler must notice the dead
# JVM on the next invocation and start a new one instead of failing forever.
import os
import signal

from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
os.kill(pid, signal.SIGKILL)
RESULT = {"killed_jvm_pid": pid}
