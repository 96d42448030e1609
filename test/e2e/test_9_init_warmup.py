# End-to-end, per table format (ICEBERG, DELTA, HUDI): an execution environment initialized for provisioned
# concurrency (AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency, as Lambda sets it) starts Spark in the init
# phase itself and warms the table format up there (docker/python/handler/warmup.py): the first invocation runs on
# that JVM and reports the warm-up, the sample job's rows are right, and the warm-up leaves nothing behind (no table
# directory in /tmp, nothing in the bucket). The on-demand default (background start, no warm-up) is test_1's.
import re

import pytest

from test_1_frameworks import ROWS_2012_2013, ROWS_ALL

PROVISIONED = {"AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency"}
TMP_PROBE = """
import glob, os
RESULT = {"warmup_dirs": glob.glob("/tmp/spark-lambda-warmup-*")}
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
RESULT["catalog_conf"] = spark.conf.get("spark.sql.catalog.spark_lambda_warmup", None)
"""


def _ok(r, f):
    assert not r.failed, f"invocation failed: {r.raw[:3000]}\n--- function log:\n{f.log_tail()}"
    return r.payload


@pytest.mark.parametrize("fw", ["ICEBERG", "DELTA", "HUDI"])
def test_a_provisioned_environment_warms_the_format_up_in_its_init_phase(pool, fw):
    f = pool.get(fw, f"warmup-{fw.lower()}", extra_env=PROVISIONED)
    f.put_script()
    first = _ok(f.invoke(f.sample_event(years=[2012, 2013])), f)
    warm = _ok(f.invoke(f.sample_event(years=[2013, 2014, 2015])), f)

    log = open(f.fn.log_path).read()
    init_log = log[log.index("INIT START"):log.index("INIT RTDONE")]
    assert "init phase: the table format warmed up in" in init_log, init_log[-3000:]
    assert "in the background" not in init_log, "a provisioned environment starts Spark in the init phase itself"
    warmup = first["spark"]["init_warmup"]
    assert warmup["ok"] is True and warmup["rows"] == 96 and warmup["seconds"] > 0, warmup
    # The JVM the invocation ran on was launched, and the format warmed up, before the invocation began.
    assert first["spark"]["jvm_launched_in"] == "init" and first["spark"]["new_jvm"] is True
    assert first["spark"]["jvm_launch_lead_s"] > warmup["seconds"], first["spark"]
    print(f"{fw}: init warm-up {warmup['seconds']} s; first invocation {first['duration_s']} s, "
          f"second {warm['duration_s']} s")

    assert first["result"]["operation"] == "create" and first["result"]["rows"] == ROWS_2012_2013
    assert warm["result"]["rows"] == ROWS_ALL and warm["result"]["duplicate_keys"] == 0
    assert warm["spark"]["jvm_pid"] == first["spark"]["jvm_pid"] and warm["spark"]["jvm_starts"] == 1

    f.put_script(source=TMP_PROBE.encode())
    probe = _ok(f.invoke({}), f)
    assert probe["result"]["warmup_dirs"] == [], "the warm-up's table outlived the init phase"
    assert probe["result"]["catalog_conf"] is None, "the warm-up's catalog reached an invocation's session"
    assert not [k for k in f.s3.list_keys(f.bucket) if re.search("warm-?up", k)], "the warm-up wrote to S3"
