# Unit tests of the init phase's warm-up of the table format (docker/python/handler/warmup.py) without Spark: when it
# runs (SPARK_LAMBDA_INIT_WARMUP against Lambda's AWS_LAMBDA_INITIALIZATION_TYPE), a bad value failing invocations
# with its fix, the throwaway table removed whatever the format does, and a failed warm-up or Spark start in the init
# phase kept for the report instead of failing the init. The warm-up on the real formats runs in the sandbox tests.
import os

import pytest
from stub_lambda import stand_up

import handler
from handler import spark_runtime, warmup


@pytest.mark.parametrize("value, initialization_type, expected", [
    (None, "provisioned-concurrency", True),
    (None, "on-demand", False),
    (None, None, False),
    ("auto", "provisioned-concurrency", True),
    (" AUTO ", "snap-start", False),
    ("on", "on-demand", True),
    ("On", None, True),
    ("off", "provisioned-concurrency", False),
])
def test_when_the_init_phase_warms_up(value, initialization_type, expected):
    env = {k: v for k, v in {warmup.ENV: value, "AWS_LAMBDA_INITIALIZATION_TYPE": initialization_type}.items() if v}
    assert warmup.enabled(env) is expected


def test_a_bad_value_fails_every_invocation_with_its_fix(monkeypatch, tmp_path, capsys):
    invoke = stand_up(monkeypatch, tmp_path, {"ok.py": "RESULT = {}\n"}, env={warmup.ENV: "yes"})
    out, _ = invoke(capsys)
    assert isinstance(out, handler.ConfigurationError)
    assert "SPARK_LAMBDA_INIT_WARMUP='yes'" in str(out) and "auto" in str(out) and "Fix:" in str(out)


class _Session:
    def __init__(self, root):
        pass

    def __enter__(self):
        return "session"

    def __exit__(self, *exc):
        return False


def test_the_throwaway_table_is_removed_after_a_run_and_after_a_failure(monkeypatch, tmp_path):
    isolation = type("Isolation", (), {"InvocationSession": _Session})
    seen = []

    def fine(spark, path):
        seen.append(path)
        open(os.path.join(path, "part-0.parquet"), "w").close()
        return warmup.ROWS + warmup.ROWS // 2

    def broken(spark, path):
        seen.append(path)
        raise RuntimeError("the format failed")

    monkeypatch.setitem(warmup.RUNS, "DELTA", fine)
    out = warmup.run(object(), "DELTA", isolation, tmp_root=str(tmp_path))
    assert out["rows"] == 96 and out["seconds"] >= 0
    monkeypatch.setitem(warmup.RUNS, "DELTA", broken)
    with pytest.raises(RuntimeError, match="the format failed"):
        warmup.run(object(), "DELTA", isolation, tmp_root=str(tmp_path))
    assert len(seen) == 2 and seen[0].startswith(str(tmp_path)) and not any(os.path.exists(p) for p in seen)
    assert os.listdir(tmp_path) == []


def test_a_table_with_the_wrong_row_count_is_a_failed_warm_up(monkeypatch, tmp_path):
    monkeypatch.setitem(warmup.RUNS, "HUDI", lambda spark, path: 64)
    with pytest.raises(RuntimeError, match="64 rows, expected 96"):
        warmup.run(object(), "HUDI", type("I", (), {"InvocationSession": _Session}), tmp_root=str(tmp_path))


def test_the_init_phase_keeps_a_failure_for_the_report_and_never_raises(monkeypatch):
    def start(self, phase="invocation"):
        self.root, self.jvm_launched_in = "root", phase

    monkeypatch.setattr(spark_runtime.SparkRuntime, "_start", start)
    ok = spark_runtime.SparkRuntime()
    ok.start_and_warm_up(lambda root: {"seconds": 1.5, "rows": 96})
    assert ok.init_warmup == {"ok": True, "seconds": 1.5, "rows": 96} and ok.jvm_launched_in == "init"
    assert ok.report(0, 0.0)["init_warmup"] == ok.init_warmup

    def fails(root):
        raise RuntimeError("no Delta here")

    broken = spark_runtime.SparkRuntime()
    broken.start_and_warm_up(fails)
    assert broken.init_warmup == {"ok": False, "error": "RuntimeError: no Delta here"} and broken.root == "root"

    def no_spark(self, phase="invocation"):
        raise spark_runtime.SparkStartError("Spark failed to start: no java")

    monkeypatch.setattr(spark_runtime.SparkRuntime, "_start", no_spark)
    down = spark_runtime.SparkRuntime()
    down.start_and_warm_up(lambda root: pytest.fail("no warm-up without Spark"))
    assert down.init_warmup["ok"] is False and "no java" in down.init_warmup["error"] and down.root is None
