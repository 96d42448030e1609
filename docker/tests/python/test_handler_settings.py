# Unit tests of the handler package (docker/python/handler) without Spark: the environment-dependent Spark settings
# (endpoint override, warehouse, Iceberg catalog `lake` as glue or hadoop, Glue database and endpoint), the configuration errors, the
# JSON-safe RESULT (NaN/Infinity -> null), the process state restored around a script (os.environ, sys.path,
# sys.modules, cwd, the scratch TMPDIR) and the /tmp threshold that stops the SparkContext.
import gc
import json
import os
import sys
import tempfile
import weakref

import pytest

import handler  # the image's /var/task package (conftest.py: docker/python); no JVM starts: no script is configured
from handler import config, isolation, response


def test_local_iceberg_hadoop_catalog_with_endpoint():
    conf = config.spark_settings({
        "SPARK_LAMBDA_FRAMEWORK": "ICEBERG", "SPARK_LAMBDA_ICEBERG_CATALOG": "hadoop", "SPARK_LAMBDA_WAREHOUSE": "s3://b/tables/",
        "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "AWS_REGION": "eu-west-1",
    })
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert conf["spark.hadoop.fs.s3a.endpoint.region"] == "eu-west-1"
    assert conf["spark.sql.warehouse.dir"] == "s3://b/tables"
    assert conf["spark.sql.catalog.lake"] == "org.apache.iceberg.spark.SparkCatalog"
    assert conf["spark.sql.catalog.lake.type"] == "hadoop"
    assert conf["spark.sql.catalog.lake.warehouse"] == "s3://b/tables"
    assert "spark.sql.catalog.lake.io-impl" not in conf


def test_deployed_iceberg_glue_catalog():
    conf = config.spark_settings({
        "SPARK_LAMBDA_FRAMEWORK": "ICEBERG", "SPARK_LAMBDA_ICEBERG_CATALOG": "glue", "SPARK_LAMBDA_WAREHOUSE": "s3://b/tables",
        "SPARK_LAMBDA_GLUE_DATABASE": "spark_lambda_sample", "AWS_REGION": "eu-west-1",
    })
    assert conf["spark.sql.catalog.lake.type"] == "glue"
    assert conf["spark.sql.catalog.lake.io-impl"] == "org.apache.iceberg.aws.s3.S3FileIO"
    assert conf["spark.sql.catalog.lake.warehouse"] == "s3://b/tables"
    assert conf["spark.sql.catalog.lake.default-namespace"] == "spark_lambda_sample"
    assert not any(k.startswith("spark.hadoop.fs.s3a.endpoint") and k != "spark.hadoop.fs.s3a.endpoint.region"
                   for k in conf), "no endpoint override when deployed"
    assert not any(k.endswith(".endpoint") and k.startswith("spark.sql.catalog.lake") for k in conf)


def test_glue_endpoint_reaches_the_iceberg_glue_catalog():
    env = {"SPARK_LAMBDA_FRAMEWORK": "ICEBERG", "SPARK_LAMBDA_ICEBERG_CATALOG": "glue", "SPARK_LAMBDA_WAREHOUSE": "s3://b/tables",
           "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "AWS_ENDPOINT_URL_GLUE": "http://127.0.0.1:9001"}
    conf = config.spark_settings(env)
    assert conf["spark.sql.catalog.lake.glue.endpoint"] == "http://127.0.0.1:9001"
    assert conf["spark.sql.catalog.lake.s3.endpoint"] == "http://127.0.0.1:9000"
    assert conf["spark.sql.catalog.lake.s3.path-style-access"] == "true"
    # one endpoint for every service (AWS_ENDPOINT_URL) serves Glue too
    env.pop("AWS_ENDPOINT_URL_GLUE")
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9002"
    assert config.spark_settings(env)["spark.sql.catalog.lake.glue.endpoint"] == "http://127.0.0.1:9002"
    # the hadoop catalog has no Glue client
    env.update(SPARK_LAMBDA_ICEBERG_CATALOG="hadoop", AWS_ENDPOINT_URL_GLUE="http://127.0.0.1:9001")
    assert "spark.sql.catalog.lake.glue.endpoint" not in config.spark_settings(env)


def test_delta_gets_no_iceberg_settings():
    conf = config.spark_settings({"SPARK_LAMBDA_FRAMEWORK": "DELTA", "SPARK_LAMBDA_WAREHOUSE": "s3://b/t"})
    assert conf == {"spark.sql.warehouse.dir": "s3://b/t"}


@pytest.mark.parametrize("env, fragment", [
    ({"SPARK_LAMBDA_FRAMEWORK": "ICEBERG", "SPARK_LAMBDA_ICEBERG_CATALOG": "nessie"}, "SPARK_LAMBDA_ICEBERG_CATALOG='nessie'"),
    ({"SPARK_LAMBDA_FRAMEWORK": "ICEBERG", "SPARK_LAMBDA_ICEBERG_CATALOG": "glue"}, "needs SPARK_LAMBDA_WAREHOUSE"),
])
def test_bad_catalog_configuration_is_named(env, fragment):
    with pytest.raises(handler.ConfigurationError, match=fragment.replace("(", r"\(")):
        config.spark_settings(env)


def test_missing_variables_are_named_before_anything_runs(monkeypatch):
    monkeypatch.delenv("SPARK_LAMBDA_SCRIPT_BUCKET", raising=False)
    monkeypatch.setenv("SPARK_LAMBDA_SCRIPT_KEY", "scripts/job.py")
    with pytest.raises(handler.ConfigurationError, match="SPARK_LAMBDA_SCRIPT_BUCKET is not set"):
        handler.handler({}, None)
    monkeypatch.setenv("SPARK_LAMBDA_SCRIPT_BUCKET", "b")
    monkeypatch.setenv("SPARK_LAMBDA_FRAMEWORK", "PARQUET")
    with pytest.raises(handler.ConfigurationError, match="SPARK_LAMBDA_FRAMEWORK='PARQUET'"):
        handler.handler({}, None)


def test_non_json_event_is_refused(monkeypatch):
    monkeypatch.setenv("SPARK_LAMBDA_SCRIPT_BUCKET", "b")
    monkeypatch.setenv("SPARK_LAMBDA_SCRIPT_KEY", "scripts/job.py")
    monkeypatch.delenv("SPARK_LAMBDA_FRAMEWORK", raising=False)
    with pytest.raises(handler.EventError):
        handler.handler({"x": float("nan")}, None)


def test_nan_and_infinity_in_result_become_null():
    nan, inf = float("nan"), float("inf")
    result = {"mean": nan, "max": inf, "nested": [1.5, -inf, {"deep": [nan, 0.0, None, "NaN"]}], "tuple": (inf, 2),
              "ok": 3}
    got = response.jsonable(result)
    assert got == {"mean": None, "max": None, "nested": [1.5, None, {"deep": [None, 0.0, None, "NaN"]}],
                   "tuple": [None, 2], "ok": 3}
    json.dumps(got, allow_nan=False)  # strict JSON: what the Runtime API hands the caller must parse anywhere
    assert response.jsonable(nan) is None and response.jsonable([inf]) == [None]


def test_process_state_is_restored_around_a_script(tmp_path, monkeypatch):
    monkeypatch.setattr(isolation, "TMP_ROOT", str(tmp_path))
    monkeypatch.setattr(isolation, "SCRATCH_DIR", str(tmp_path / "invocation-scratch"))
    helpers = tmp_path / "helpers"
    helpers.mkdir()
    (helpers / "e2e_unit_helper.py").write_text("VALUE = 1\n")
    monkeypatch.setenv("E2E_UNIT_KEEP", "before")
    sys.modules.pop("colorsys", None)  # an installed (stdlib) module the script imports first: stays loaded
    path_before, cwd_before = list(sys.path), os.getcwd()
    with isolation.ProcessState():
        assert tempfile.gettempdir() == os.environ["TMPDIR"] == isolation.SCRATCH_DIR
        with open(os.path.join(tempfile.gettempdir(), "scratch.bin"), "wb") as f:
            f.write(b"x" * 1024)
        os.environ["E2E_UNIT_NEW"] = "leak"
        os.environ["E2E_UNIT_KEEP"] = "changed"
        sys.path.insert(0, str(helpers))
        import colorsys  # noqa: F401
        import e2e_unit_helper  # noqa: F401
        os.chdir(tmp_path)
    assert "E2E_UNIT_NEW" not in os.environ and os.environ["E2E_UNIT_KEEP"] == "before"
    assert os.environ.get("TMPDIR") != isolation.SCRATCH_DIR and tempfile.gettempdir() != isolation.SCRATCH_DIR
    assert sys.path == path_before and os.getcwd() == cwd_before
    assert "e2e_unit_helper" not in sys.modules, "a helper the script imported must be imported afresh next time"
    assert "colorsys" in sys.modules, "installed modules stay loaded"
    assert "pyspark" not in sys.modules or sys.modules["pyspark"] is not None
    assert not os.path.exists(isolation.SCRATCH_DIR), "the scratch directory is removed after the script"


class _FakeJvmSystem:
    def __init__(self):
        self.gcs = 0

    def gc(self):
        self.gcs += 1


class _FakeSparkContext:
    def __init__(self):
        self._jsc = object()
        self._jvm = type("Jvm", (), {})()
        self._jvm.System = _FakeJvmSystem()
        self.stops = 0

    def stop(self):
        self.stops += 1
        self._jsc = None


def _usage(free_mib_seq, total_mib=1000):
    seq = list(free_mib_seq)

    def usage(path):
        free = seq.pop(0) if len(seq) > 1 else seq[0]
        return total_mib << 20, (total_mib - free) << 20, free << 20
    return usage


def test_tmp_is_reported_and_a_full_tmp_stops_the_spark_context():
    sc = _FakeSparkContext()
    got = isolation.reclaim_tmp(sc, 10, 100, usage=_usage([400]))  # 100: always ask the JVM to collect
    assert got == {"tmp_free_mib": 400, "tmp_total_mib": 1000, "tmp_low": False, "jvm_gc": True}
    assert sc._jvm.System.gcs == 1 and sc.stops == 0
    got = isolation.reclaim_tmp(sc, 10, 100, usage=_usage([50, 50, 700]))  # 5% free: stop, then report what is free
    assert got == {"tmp_free_mib": 700, "tmp_total_mib": 1000, "tmp_low": True, "jvm_gc": True}
    assert sc._jvm.System.gcs == 2 and sc.stops == 1
    # a context the script stopped itself: nothing to GC or stop, still reported
    assert isolation.reclaim_tmp(sc, 10, 100, usage=_usage([50])) == {
        "tmp_free_mib": 50, "tmp_total_mib": 1000, "tmp_low": False, "jvm_gc": False}


def test_the_jvm_collects_only_when_tmp_is_below_the_gc_threshold():
    sc = _FakeSparkContext()
    got = isolation.reclaim_tmp(sc, 10, 50, usage=_usage([600]))  # 60% free: the JVM's own collections suffice
    assert got["jvm_gc"] is False and sc._jvm.System.gcs == 0
    got = isolation.reclaim_tmp(sc, 10, 50, usage=_usage([400, 650]))  # 40% free: collect, report after it
    assert got == {"tmp_free_mib": 650, "tmp_total_mib": 1000, "tmp_low": False, "jvm_gc": True}
    assert sc._jvm.System.gcs == 1 and sc.stops == 0
    got = isolation.reclaim_tmp(sc, 10, 0, usage=_usage([50, 900]))  # 0: never collect, still stop when full
    assert got == {"tmp_free_mib": 900, "tmp_total_mib": 1000, "tmp_low": True, "jvm_gc": False}
    assert sc._jvm.System.gcs == 1 and sc.stops == 1


@pytest.mark.parametrize("raw, expected", [("", 50.0), ("100", 100.0), ("0", 0.0), ("12.5", 12.5)])
def test_tmp_gc_threshold_setting(raw, expected):
    assert config.tmp_gc_free_pct({"SPARK_LAMBDA_TMP_GC_FREE_PCT": raw}) == expected


@pytest.mark.parametrize("raw", ["half", "-5", "150"])
def test_bad_tmp_gc_threshold_fails_with_its_name(raw):
    with pytest.raises(handler.ConfigurationError, match="SPARK_LAMBDA_TMP_GC_FREE_PCT"):
        config.tmp_gc_free_pct({"SPARK_LAMBDA_TMP_GC_FREE_PCT": raw})


def test_the_first_clean_up_freezes_the_runtime_objects_once_and_later_garbage_is_still_collected(monkeypatch):
    monkeypatch.setattr(isolation, "_gc_frozen", False)
    gc.unfreeze()
    try:
        sc = _FakeSparkContext()
        isolation.reclaim_tmp(sc, 10, 100, usage=_usage([400]))
        frozen = gc.get_freeze_count()
        assert frozen > 1000  # this process's modules and objects, skipped by later collections

        class Node:
            pass
        cycle = Node()
        cycle.me = cycle  # only the cyclic collector can free it
        alive = weakref.ref(cycle)
        del cycle
        isolation.reclaim_tmp(sc, 10, 100, usage=_usage([400]))
        assert alive() is None, "garbage of a later invocation was not collected"
        assert gc.get_freeze_count() == frozen, "refrozen: an invocation's survivors would never be collected"
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("raw, expected", [("", 10.0), ("25", 25.0), ("0", 0.0), ("100", 100.0)])
def test_tmp_threshold_setting(raw, expected):
    assert config.tmp_min_free_pct({"SPARK_LAMBDA_TMP_MIN_FREE_PCT": raw}) == expected


@pytest.mark.parametrize("raw", ["ten", "-1", "101", "nan"])
def test_bad_tmp_threshold_is_named(raw):
    with pytest.raises(handler.ConfigurationError, match="SPARK_LAMBDA_TMP_MIN_FREE_PCT"):
        config.tmp_min_free_pct({"SPARK_LAMBDA_TMP_MIN_FREE_PCT": raw})


def test_iceberg_without_glue_gets_the_dynamodb_lock_manager():
    env = {"SPARK_LAMBDA_FRAMEWORK": "ICEBERG", "SPARK_LAMBDA_ICEBERG_CATALOG": "hadoop", "SPARK_LAMBDA_WAREHOUSE": "s3://b/t",
           "SPARK_LAMBDA_COMMIT_COORDINATION": "dynamodb", "SPARK_LAMBDA_LOCK_TABLE": "locks",
           "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9003"}
    conf = config.spark_settings(env)
    assert conf["spark.sql.catalog.lake.lock-impl"] == "org.apache.iceberg.aws.dynamodb.DynamoDbLockManager"
    assert conf["spark.sql.catalog.lake.lock.table"] == "locks"
    assert conf["spark.sql.catalog.lake.dynamodb.endpoint"] == "http://127.0.0.1:9003"
    env["SPARK_LAMBDA_COMMIT_COORDINATION"] = "none"
    assert not any("lock" in k for k in config.spark_settings(env))


@pytest.mark.parametrize("env, fragment", [
    ({"SPARK_LAMBDA_COMMIT_COORDINATION": "zookeeper"}, "is not one of dynamodb, glue, none"),
    ({"SPARK_LAMBDA_COMMIT_COORDINATION": "dynamodb"}, "needs SPARK_LAMBDA_LOCK_TABLE"),
    ({"SPARK_LAMBDA_COMMIT_COORDINATION": "glue", "SPARK_LAMBDA_FRAMEWORK": "DELTA"}, "Iceberg tables only"),
])
def test_bad_coordination_is_named(env, fragment):
    with pytest.raises(handler.ConfigurationError, match=fragment):
        config.coordination(env)


def test_conflict_retries_are_bounded_by_count_and_remaining_time():
    from handler import commit_retry
    assert commit_retry.may_retry(1, 8, None, 30, 1)
    assert not commit_retry.may_retry(9, 8, None, 1, 1), "no more than SPARK_LAMBDA_CONFLICT_RETRIES"
    assert commit_retry.may_retry(1, 8, remaining_s=60, last_run_s=20, wait_s=2)
    assert not commit_retry.may_retry(1, 8, remaining_s=20, last_run_s=20, wait_s=2), "must fit in the time left"
    waits = [commit_retry.backoff_s(a) for a in range(1, 12) for _ in range(20)]
    assert min(waits) >= 0 and max(waits) <= commit_retry.CAP_S
    assert config.conflict_retries({}) == 8 and config.conflict_retries({"SPARK_LAMBDA_CONFLICT_RETRIES": "0"}) == 0
    with pytest.raises(handler.ConfigurationError, match="SPARK_LAMBDA_CONFLICT_RETRIES"):
        config.conflict_retries({"SPARK_LAMBDA_CONFLICT_RETRIES": "many"})


def test_response_above_6_mb_is_refused_and_batch_failures_sit_at_the_top():
    ok = response.build({"a": 1}, 1.0, {}, {}, batch={"batchItemFailures": [{"itemIdentifier": "m-1"}]})
    assert ok["batchItemFailures"] == [{"itemIdentifier": "m-1"}] and ok["result"] == {"a": 1}
    with pytest.raises(handler.ResponseTooLargeError, match="6 MB"):
        response.build({"blob": "x" * response.MAX_RESPONSE_BYTES}, 1.0, {}, {})


@pytest.mark.parametrize("code, fragments", [
    (52, ["ran out of heap", "OutOfMemoryError", "MemorySizeMiB"]),
    (3, ["ran out of heap", "ExitOnOutOfMemoryError"]),
    (-9, ["killed (SIGKILL)", "memory cap"]),
    (-6, ["exited with code -6 (signal 6)"]),
])
def test_a_dead_jvm_is_described_by_its_exit(code, fragments, monkeypatch):
    from handler.spark_runtime import SparkRuntime
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "3008")
    rt = SparkRuntime()
    rt.heap_mib, rt.jvm_pid = 1955, 4242
    got = rt.describe_exit(code)
    text = " ".join(str(v) for v in got.values())
    for fragment in fragments:
        assert fragment in text, (fragment, got)
    assert got["heap"] == "1955 MiB" and got["memory_mib"] == "3008"


def test_delta_commits_go_through_the_images_locking_log_store():
    env = {"SPARK_LAMBDA_FRAMEWORK": "DELTA", "SPARK_LAMBDA_COMMIT_COORDINATION": "dynamodb", "SPARK_LAMBDA_LOCK_TABLE": "locks",
           "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9003"}
    conf = config.spark_settings(env)
    store = "com.sparklambda.coordination.DynamoDbLockingS3LogStore"
    assert conf["spark.delta.logStore.s3a.impl"] == conf["spark.delta.logStore.s3.impl"] == store
    assert conf["spark.hadoop.sparklambda.lock.table"] == "locks"
    assert conf["spark.hadoop.sparklambda.lock.region"] == "eu-west-1"
    assert conf["spark.hadoop.sparklambda.lock.endpoint"] == "http://127.0.0.1:9003"
    assert config.hudi_write_defaults(env) == {}, "Hudi settings only for the HUDI image"
    env["SPARK_LAMBDA_COMMIT_COORDINATION"] = "none"
    assert "spark.delta.logStore.s3a.impl" not in config.spark_settings(env), "none keeps Delta's default log store"


def test_hudi_writers_use_optimistic_concurrency_with_the_images_lock_provider():
    env = {"SPARK_LAMBDA_FRAMEWORK": "HUDI", "SPARK_LAMBDA_COMMIT_COORDINATION": "dynamodb", "SPARK_LAMBDA_LOCK_TABLE": "locks",
           "AWS_REGION": "eu-west-1"}
    props = config.hudi_write_defaults(env)
    assert props["hoodie.write.concurrency.mode"] == "optimistic_concurrency_control"
    assert props["hoodie.write.lock.provider"] == "com.sparklambda.coordination.HudiDynamoDbLockProvider"
    assert props["hoodie.cleaner.policy.failed.writes"] == "LAZY"
    assert props["hoodie.index.type"] == "BUCKET", "OCC sees same-key upserts only with a fixed key->file group map"
    assert props["hoodie.write.lock.dynamodb.table"] == "locks"
    assert props["hoodie.write.lock.dynamodb.region"] == "eu-west-1"
    assert "hoodie.write.lock.dynamodb.endpoint_url" not in props, "no endpoint override when deployed"
    assert not any(k.startswith("spark.delta") for k in config.spark_settings(env))
    assert props["hoodie.metadata.enable"] == "false"
    assert props["hoodie.parquet.compression.codec"] == "snappy"
    merger = "org.apache.hudi.DefaultSparkRecordMerger"
    assert props["hoodie.write.record.merge.custom.implementation.classes"] == merger
    env["SPARK_LAMBDA_COMMIT_COORDINATION"] = "none"
    # a single writer keeps Hudi's defaults for one machine, and no concurrency setting
    assert config.hudi_write_defaults(env) == {"hoodie.metadata.enable": "false",
                                               "hoodie.parquet.compression.codec": "snappy",
                                               "hoodie.write.record.merge.custom.implementation.classes": merger}
    assert config.hudi_defaults_conf(env).splitlines()[1:] == [
        "hoodie.metadata.enable false", "hoodie.parquet.compression.codec snappy",
        f"hoodie.write.record.merge.custom.implementation.classes {merger}"]


def test_spark_report_says_where_and_when_the_jvm_was_launched():
    from handler import spark_runtime

    rt = spark_runtime.SparkRuntime()
    assert rt.report(0, 100.0)["jvm_launched_in"] is None and rt.report(0, 100.0)["jvm_launch_lead_s"] is None
    rt.jvm_starts, rt.jvm_launched_in, rt.jvm_launched_at = 1, "init", 97.5
    report = rt.report(0, 100.0)
    assert report["new_jvm"] is True and report["jvm_launched_in"] == "init" and report["jvm_launch_lead_s"] == 2.5
    rt.jvm_starts, rt.jvm_launched_in, rt.jvm_launched_at = 2, "invocation", 101.0
    assert rt.report(1, 100.0)["jvm_launch_lead_s"] == -1.0
