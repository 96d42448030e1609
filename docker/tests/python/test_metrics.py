# Unit tests of the handler's CloudWatch EMF metrics (docker/python/handler/metrics.py) without Spark: whole handler
# invocations against a stub Spark runtime (a real script runs in-process on a stub session), and the EMF document
# each prints to stdout: namespace, dimensions, each metric's unit and value, ColdStart only on the first invocation,
# Failed with the error type on a failing one, nothing when switched off, and an emission failure that fails nothing.
import json

import pytest

import handler  # the image's /var/task package (conftest.py: docker/python); no JVM starts: no script is configured
from handler import commit_retry, isolation, metrics


class _StubRuntime:
    """What the handler asks of spark_runtime.SparkRuntime, without a JVM: the first ensure() 'launches' one."""

    def __init__(self):
        self.root = None
        self.jvm_starts = 0

    def ensure(self):
        if self.root is None:
            self.root, self.jvm_starts = type("Root", (), {"_sc": None})(), 1
            self.unreported = True
        return self.root

    def take_jvm_start(self):
        taken, self.unreported = self.unreported, False
        return 1.25 if taken else None

    def death(self):
        return None

    def report(self, jvm_starts_before, started_at):
        return {"jvm_pid": 4242, "jvm_starts": self.jvm_starts, "context_starts": 1,
                "new_jvm": self.jvm_starts != jvm_starts_before, "jvm_launched_in": "invocation",
                "jvm_launch_lead_s": -0.01, "startup_s": 3.5, "heap_mib": 1024}


class _StubSession:
    def __init__(self, root):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Context:
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self):
        return 600_000


SCRIPTS = {
    "ok.py": "RESULT = {'rows': 3}\n",
    "fails.py": "raise ValueError('bad input')\n",
    # loses one commit race (the marker Delta raises), then succeeds; the count lives in a file the event names
    "races.py": ("import json, os, sys\n"
                 "p = json.loads(sys.argv[2])['counter']\n"
                 "n = int(open(p).read()) if os.path.exists(p) else 0\n"
                 "open(p, 'w').write(str(n + 1))\n"
                 "if n == 0:\n"
                 "    raise RuntimeError('io.delta.exceptions.ConcurrentAppendException: files were added')\n"
                 "RESULT = {'runs': n + 1}\n"),
}


@pytest.fixture
def lam(monkeypatch, tmp_path):
    """A configured function with a stub Spark runtime; returns invoke(script, event) -> (response or exception,
    the EMF documents printed)."""
    for k, v in {"SPARK_LAMBDA_SCRIPT_BUCKET": "b", "SPARK_LAMBDA_FRAMEWORK": "delta",
                 "AWS_LAMBDA_FUNCTION_NAME": "orders-job"}.items():
        monkeypatch.setenv(k, v)
    for k in ("SPARK_LAMBDA_METRICS", "SPARK_LAMBDA_METRICS_NAMESPACE", "POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_DEV"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setattr(handler, "_spark", _StubRuntime())
    monkeypatch.setattr(handler, "_invocations", 0)
    monkeypatch.setattr(metrics, "_cold", True)
    monkeypatch.setattr(isolation, "InvocationSession", _StubSession)
    monkeypatch.setattr(isolation, "SCRATCH_DIR", str(tmp_path / "invocation-scratch"))
    monkeypatch.setattr(isolation, "reclaim_tmp", lambda sc, pct: {"tmp_free_mib": 500, "tmp_total_mib": 512,
                                                                    "tmp_low": False})
    monkeypatch.setattr(commit_retry, "backoff_s", lambda attempt: 0.0)

    def fetch(bucket, key):
        path = str(tmp_path / key)
        return path, compile(SCRIPTS[key], path, "exec"), {"uri": f"s3://{bucket}/{key}", "etag": "e1", "cached": False}

    monkeypatch.setattr(handler, "fetch_script", fetch)

    def invoke(capsys, script="ok.py", event=None):
        monkeypatch.setenv("SPARK_LAMBDA_SCRIPT_KEY", script)
        capsys.readouterr()
        try:
            out = handler.handler(event or {}, _Context())
        except Exception as e:  # noqa: BLE001 - returned for the test to check
            out = e
        printed = capsys.readouterr().out
        docs = [json.loads(line) for line in printed.splitlines() if line.startswith("{") and '"_aws"' in line]
        return out, docs

    return invoke


def _metric_units(doc):
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    return {m["Name"]: m["Unit"] for m in directive["Metrics"]}


def test_a_successful_invocation_prints_one_emf_document(lam, capsys):
    out, docs = lam(capsys)
    assert out["status"] == "SUCCEEDED" and out["result"] == {"rows": 3}
    assert len(docs) == 1
    doc = docs[0]
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "SparkLambda"
    assert len(directive["Dimensions"]) == 1 and sorted(directive["Dimensions"][0]) == ["framework", "service"]
    assert doc["service"] == "orders-job" and doc["framework"] == "DELTA"
    assert isinstance(doc["_aws"]["Timestamp"], int)
    units = _metric_units(doc)
    assert units == {"ColdStart": "Count", "ScriptFetchSeconds": "Seconds", "JvmStartSeconds": "Seconds",
                     "SessionSeconds": "Seconds", "ScriptSeconds": "Seconds", "CleanupSeconds": "Seconds",
                     "CommitConflicts": "Count", "DurationSeconds": "Seconds", "Succeeded": "Count", "Failed": "Count"}
    assert units == {k: v for k, v in metrics.METRICS.items()}
    assert doc["ColdStart"] == [1.0] and doc["Succeeded"] == [1.0] and doc["Failed"] == [0.0]
    assert doc["CommitConflicts"] == [0.0] and doc["JvmStartSeconds"] == [1.25]
    for name in ("ScriptFetchSeconds", "SessionSeconds", "ScriptSeconds", "CleanupSeconds", "DurationSeconds"):
        assert len(doc[name]) == 1 and 0 <= doc[name][0] < 5, name
    assert doc["DurationSeconds"][0] >= doc["ScriptSeconds"][0]
    # properties, not dimensions: unbounded or per-invocation values
    assert doc["request_id"] == "req-1" and doc["jvm_pid"] == 4242 and doc["new_jvm"] is True
    assert doc["invocation"] == 1 and doc["script"] == "s3://b/ok.py" and doc["jvm_launched_in"] == "invocation"
    assert "error_type" not in doc
    assert not {"request_id", "jvm_pid", "error_type"} & set(directive["Dimensions"][0])


def test_cold_start_and_jvm_start_only_on_the_first_invocation(lam, capsys):
    _, first = lam(capsys)
    _, second = lam(capsys)
    assert first[0]["ColdStart"] == [1.0] and "JvmStartSeconds" in first[0]
    assert "ColdStart" not in second[0] and "ColdStart" not in _metric_units(second[0])
    assert "JvmStartSeconds" not in second[0], "the warm invocation neither started nor waited for the JVM"
    assert second[0]["new_jvm"] is False and second[0]["invocation"] == 2 and second[0]["Succeeded"] == [1.0]


def test_a_failing_invocation_emits_failed_and_its_error_type_then_raises(lam, capsys):
    out, docs = lam(capsys, "fails.py")
    assert isinstance(out, handler.ScriptFailedError), "the error still reaches Lambda (retries, destinations)"
    assert len(docs) == 1
    doc = docs[0]
    assert doc["Failed"] == [1.0] and doc["Succeeded"] == [0.0] and doc["error_type"] == "ScriptFailedError"
    assert sorted(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) == ["framework", "service"]
    assert doc["ScriptSeconds"][0] >= 0 and doc["DurationSeconds"][0] >= 0 and doc["ColdStart"] == [1.0]


def test_a_configuration_error_still_emits(lam, capsys, monkeypatch):
    monkeypatch.setenv("SPARK_LAMBDA_CONFLICT_RETRIES", "lots")
    out, docs = lam(capsys)
    assert isinstance(out, handler.ConfigurationError)
    assert docs[0]["Failed"] == [1.0] and docs[0]["error_type"] == "ConfigurationError"
    assert "ScriptSeconds" not in docs[0], "no figure for a phase that did not run"


def test_lost_commit_races_are_counted(lam, capsys, tmp_path):
    out, docs = lam(capsys, "races.py", {"counter": str(tmp_path / "runs")})
    assert out["result"] == {"runs": 2} and len(out["commit_conflicts"]) == 1
    doc = docs[0]
    assert doc["CommitConflicts"] == [1.0] and doc["Succeeded"] == [1.0] and doc["script_runs"] == 2
    assert doc["backoff_s"] == 0.0


def test_namespace_is_configurable(lam, capsys, monkeypatch):
    monkeypatch.setenv("SPARK_LAMBDA_METRICS_NAMESPACE", "Team/Orders")
    _, docs = lam(capsys)
    assert docs[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Team/Orders"


@pytest.mark.parametrize("value", ["off", "OFF", "0", "false"])
def test_switched_off_prints_nothing(lam, capsys, monkeypatch, value):
    monkeypatch.setenv("SPARK_LAMBDA_METRICS", value)
    out, docs = lam(capsys)
    assert out["status"] == "SUCCEEDED" and docs == []
    out, docs = lam(capsys, "fails.py")
    assert isinstance(out, handler.ScriptFailedError) and docs == []


def test_an_unknown_switch_value_keeps_metrics_on(lam, capsys, monkeypatch):
    monkeypatch.setenv("SPARK_LAMBDA_METRICS", "maybe")
    _, docs = lam(capsys)
    assert len(docs) == 1


def test_an_emission_failure_does_not_fail_the_invocation(lam, capsys, monkeypatch, caplog):
    def broken():
        raise RuntimeError("no EMF today")

    monkeypatch.setattr(metrics, "_provider_class", broken)
    out, docs = lam(capsys)
    assert out["status"] == "SUCCEEDED" and docs == []
    assert "could not emit the invocation's metrics" in caplog.text and "no EMF today" in caplog.text
    out, docs = lam(capsys, "fails.py")
    assert isinstance(out, handler.ScriptFailedError), "the script's own error, not the metrics' one"


def test_a_broken_stdout_does_not_fail_the_invocation(lam, capsys, monkeypatch):
    class Closed:
        def write(self, _):
            raise OSError("stdout closed")

        def flush(self):
            raise OSError("stdout closed")

    monkeypatch.setattr("sys.stdout", Closed())
    out, _ = lam(capsys)
    assert out["status"] == "SUCCEEDED"


def test_the_document_keeps_to_its_own_metric_set():
    """A script's own Powertools Metrics share state between their instances: ours must not pick theirs up."""
    from aws_lambda_powertools import Metrics

    theirs = Metrics(namespace="Theirs", service="s")
    theirs.add_metric(name="Orders", unit="Count", value=5)
    record = metrics.Invocation().finish()
    doc = record.provider({"AWS_LAMBDA_FUNCTION_NAME": "f"}).serialize_metric_set()
    assert "Orders" not in doc and doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    theirs.provider.clear_metrics()


def test_each_jvm_launch_is_taken_once_for_the_metrics():
    from handler import spark_runtime

    rt = spark_runtime.SparkRuntime()
    assert rt.take_jvm_start() is None, "no JVM launched yet"
    rt.jvm_start_s, rt.jvm_start_unreported = 0.42, True  # what _start sets after launching the gateway
    assert rt.take_jvm_start() == 0.42
    assert rt.take_jvm_start() is None, "the next invocation found the JVM running"
