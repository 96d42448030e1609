# Test script: Hudi upserts with the image's write defaults (the handler's hudi-defaults.conf, no write option about
# merging here) keep event-time ordering: the record with the larger precombine value wins, whether it is already
# in the table or arrives in the same batch. Also reports which record merger Hudi resolves for such a write from
# its global properties (the image picks Hudi's merger on Spark rows, DefaultSparkRecordMerger).
# Event: {"table": "<name>"}; a fresh name per run.
import json
import sys

from pyspark.sql import SparkSession

event = json.loads(sys.argv[sys.argv.index("--event") + 1])
table = event["table"]
spark = SparkSession.builder.getOrCreate()
location = f"{spark.conf.get('spark.sql.warehouse.dir').rstrip('/')}/hudi_ordering/{table}"
OPTIONS = {
    "hoodie.table.name": table,
    "hoodie.datasource.write.table.type": "COPY_ON_WRITE",
    "hoodie.datasource.write.operation": "upsert",
    "hoodie.datasource.write.recordkey.field": "id",
    "hoodie.datasource.write.precombine.field": "ts",
    "hoodie.datasource.write.partitionpath.field": "",
    "hoodie.datasource.write.keygenerator.class": "org.apache.hudi.keygen.NonpartitionedKeyGenerator",
}


def write(rows):
    df = spark.createDataFrame(rows, "id string, ts long, value string")
    df.write.format("hudi").options(**OPTIONS).mode("append").save(location)


write([("1", 20, "stored, newer"), ("2", 10, "stored, older")])
# Key 1 arrives with an older ts (the stored row stays); key 2 twice in one batch, both newer than the stored row
# (ts 30 wins over ts 25 and the stored ts 10); key 3 is new.
write([("1", 10, "incoming, older"), ("2", 30, "incoming, newest"), ("2", 25, "incoming, newer"), ("3", 5, "new key")])
rows = spark.read.format("hudi").load(location).select("id", "ts", "value").orderBy("id").collect()

jvm = spark.sparkContext._jvm
hudi = jvm.org.apache.hudi
props = hudi.common.config.TypedProperties()
props.putAll(hudi.common.config.DFSPropertiesConfiguration.getGlobalProps())  # hudi-defaults.conf
for k, v in OPTIONS.items():  # the write's own options, as the data source passes them
    props.setProperty(k, v)
config = (hudi.config.HoodieWriteConfig.newBuilder().withPath(location).withProperties(props)
          .withRecordMergeStrategyId(hudi.common.model.HoodieRecordMerger.EVENT_TIME_BASED_MERGE_STRATEGY_UUID)
          .forTable(table).build())
RESULT = {
    "rows": [[r["id"], r["ts"], r["value"]] for r in rows],
    "merger": config.getRecordMerger().getClass().getName(),
}
