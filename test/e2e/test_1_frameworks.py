# End-to-end, per table format (HUDI, ICEBERG, DELTA): the sample job on the real Seattle weather CSV through the
# Runtime API in the Lambda sandbox against the local S3 server: cold create, warm upsert on the same JVM, read-back
# counts and schema, then a write that fails halfway leaves the committed table unchanged.
import re

import pytest

FRAMEWORKS = ["HUDI", "ICEBERG", "DELTA"]  # DELTA last: the behaviour and bad-input tests reuse its warm function
EXPECTED_COLUMNS = ["date", "precipitation", "temp_max", "temp_min", "wind", "weather", "ingested_at"]
ROWS_2012_2013 = 366 + 365
ROWS_ALL = 1461


@pytest.fixture(scope="module", params=FRAMEWORKS)
def function(request, pool):
    fw = request.param
    f = pool.get(fw, f"table-{fw.lower()}")
    f.put_script()  # the sample job, assets/scripts/table_job.py
    return f


def _ok(r, f):
    assert not r.failed, f"invocation failed: {r.raw[:3000]}\n--- function log:\n{f.log_tail()}"
    return r.payload


def test_cold_create_then_warm_upsert(function):
    f = function
    cold = _ok(f.invoke(f.sample_event(years=[2012, 2013])), f)
    warm = _ok(f.invoke(f.sample_event(years=[2013, 2014, 2015])), f)
    print(f"{f.framework}: cold {cold['duration_s']} s (spark startup {cold['spark']['startup_s']} s), "
          f"warm {warm['duration_s']} s")

    assert cold["status"] == "SUCCEEDED"
    assert cold["result"]["format"] == f.framework
    assert cold["result"]["operation"] == "create"
    assert cold["result"]["input_rows"] == ROWS_2012_2013
    assert cold["result"]["rows"] == ROWS_2012_2013
    assert cold["result"]["duplicate_keys"] == 0
    assert cold["spark"]["invocation"] == 1 and cold["spark"]["new_jvm"] is True
    assert cold["spark"]["jvm_starts"] == 1

    # The warm invocation upserts 2013 (already there) and adds 2014-2015, on the same JVM.
    assert warm["result"]["operation"] == "upsert"
    assert warm["result"]["input_rows"] == 3 * 365
    assert warm["result"]["rows"] == ROWS_ALL
    assert warm["result"]["duplicate_keys"] == 0
    assert (warm["result"]["first_date"], warm["result"]["last_date"]) == ("2012-01-01", "2015-12-31")
    assert warm["spark"]["jvm_pid"] == cold["spark"]["jvm_pid"]
    assert warm["spark"]["jvm_starts"] == cold["spark"]["jvm_starts"] == 1
    assert warm["spark"]["context_starts"] == cold["spark"]["context_starts"]
    assert warm["spark"]["new_jvm"] is False
    assert warm["script"]["cached"] is True, "the unchanged script must not be downloaded again"

    # Lambda's init phase (handler import) is limited to 10 s: the JVM must start in the background, not in it.
    log = open(f.fn.log_path).read()
    init = re.search(r"INIT REPORT\(durationMs: ([0-9.]+)", log)
    assert init, "the emulator logged no INIT REPORT"
    print(f"{f.framework}: init phase {float(init.group(1)):.0f} ms, JVM launch began "
          f"{cold['spark']['jvm_launch_lead_s']} s before the first invocation")
    assert float(init.group(1)) < 10000
    # ... and it does start there: the init phase (between the emulator's INIT START and INIT RTDONE) logged the
    # background start, and the JVM the first invocation ran on is the one that start launched (the invocation did
    # not launch one itself; pyspark's import in that thread may let the launch itself begin a moment after init).
    init_log = log[log.index("INIT START"):log.index("INIT RTDONE")]
    assert "init phase: starting the JVM and the SparkContext in the background" in init_log, init_log
    assert cold["spark"]["jvm_launched_in"] == "init", cold["spark"]
    assert warm["spark"]["jvm_launched_in"] == "init" and warm["spark"]["jvm_launch_lead_s"] > 0
    if f.framework == "HUDI":
        # The upsert sizes its records with JOL, whose first use would try to attach the HotSpot Serviceability Agent
        # through child JVMs (seconds of a cold start); spark.driver.extraJavaOptions in docker/conf/spark-defaults.conf
        # turns that attempt off.
        assert "attach skipped due to jol.skipHotspotSAAttach flag" in log, "JOL ran without the Spark default"
        assert "try again with escalated privileges" not in log

    columns = [c.split(":")[0] for c in warm["result"]["schema"]]
    assert columns == EXPECTED_COLUMNS
    types = dict(c.split(":", 1) for c in warm["result"]["schema"])
    assert types["temp_max"] == "double" and types["ingested_at"] == "timestamp"
    assert types["date"] == ("string" if f.framework == "HUDI" else "date")

    # The table really is in the S3 server, in the format's layout.
    marker = {"DELTA": "tables/delta/seattle_weather/_delta_log/", "HUDI": "tables/hudi/seattle_weather/.hoodie/",
              "ICEBERG": "tables/default/seattle_weather/metadata/"}[f.framework]
    assert f.s3.list_keys(f.bucket, marker), f"no {marker} in s3://{f.bucket}"


HUDI_TABLE = "tables/hudi/seattle_weather/"
# A completed instant on Hudi's timeline (table version 8: <requested>_<completed>.<action>; older: <requested>.<action>)
HUDI_COMPLETED = re.compile(r"^(\d+)(?:_\d+)?\.(?:commit|deltacommit|replacecommit)$")


def _hudi_files(f):
    """(data files by the instant that wrote them, the instants completed on the timeline) of the Hudi table on S3."""
    keys = f.s3.list_keys(f.bucket, HUDI_TABLE)
    completed = {m.group(1) for k in keys if "/.hoodie/" in k and (m := HUDI_COMPLETED.match(k.rsplit("/", 1)[1]))}
    data = {}
    for k in keys:
        if "/.hoodie/" not in k and k.endswith(".parquet"):  # <file id>_<write token>_<instant>.parquet
            data.setdefault(k.rsplit("/", 1)[1][:-len(".parquet")].rsplit("_", 1)[1], []).append(k)
    return data, completed


def test_failed_write_halfway_commits_nothing(function):
    f = function
    if f.framework == "HUDI":
        data_before, completed_before = _hudi_files(f)
        assert data_before and set(data_before) <= completed_before, (data_before, completed_before)
    f.put_script("fail_halfway.py")
    r = f.invoke(f.sample_event())
    assert r.failed
    assert r.error_type == "ScriptFailedError"
    assert "injected failure halfway through the table write" in r.error_message
    if f.framework == "HUDI":
        # The failure came after the write: new data files are on S3, and no completed instant references them.
        assert "pre-commit validator refused the commit" in r.error_message, r.error_message[:3000]
        data_after, completed_after = _hudi_files(f)
        assert completed_after == completed_before, "the refused commit must not complete an instant"
        uncommitted = {t: keys for t, keys in data_after.items() if t not in completed_after}
        assert uncommitted, f"the failed write left no data file, so it proves nothing: {sorted(data_after)}"
        print(f"HUDI: the failed write left {sum(map(len, uncommitted.values()))} uncommitted data file(s) of "
              f"instant(s) {sorted(uncommitted)}")
    f.put_script()
    after = _ok(f.invoke(f.sample_event(action="read")), f)
    assert after["result"]["rows"] == ROWS_ALL, "a failed write must not add rows"
    assert after["result"]["last_date"] == "2015-12-31", "no shifted (2022-2025) rows may be visible"
    assert after["spark"]["new_jvm"] is False, "a failed script must not cost the warm JVM"


def _compilations(f):
    f.put_script("codegen_probe.py")
    n = _ok(f.invoke({}), f)["result"]["compilations"]
    f.put_script()
    return n


def test_warm_upserts_reuse_generated_code(function):
    # A warm invocation that repeats a query shape must not compile its generated code again: with Spark's default
    # code cache (100 entries in 4 LRU segments) Delta's MERGE + read-back compiled 33 classes in every warm upsert
    # (about 0.7 s); docker/conf/spark-defaults.conf sizes the cache so that only the job's own literals (its
    # ingested_at timestamp) compile again. Its own table, so the tests above and below see theirs unchanged.
    f = function
    event = f.sample_event(table="codegen_reuse", years=[2014])
    _ok(f.invoke(event), f)  # create
    _ok(f.invoke(event), f)  # first upsert: compiles the MERGE's code
    before = _compilations(f)
    _ok(f.invoke(event), f)  # the same upsert again
    compiled = _compilations(f) - before
    print(f"{f.framework}: a repeated warm upsert compiled {compiled} generated class(es)")
    assert compiled <= 4, f"a repeated warm upsert compiled {compiled} generated classes: the code cache is too small"


def test_a_few_mib_of_input_split_into_even_tasks(function):
    # Spark sizes a file scan's tasks at max(openCostInBytes, input / spark.default.parallelism): with its 4 MiB
    # default a 10 MiB input made 3 tasks, two uneven waves on 2 cores; docker/conf/spark-defaults.conf lowers the
    # cost to 1 MiB, and the same input makes one task per unit of parallelism.
    f = function
    f.put_script("split_probe.py")
    res = _ok(f.invoke({}), f)["result"]
    f.put_script()
    assert res["parallelism"] == 4, res
    assert res["tasks"] == res["parallelism"], f"a 10 MiB file made {res['tasks']} tasks: {res}"
