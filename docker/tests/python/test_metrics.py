# Unit tests of the handler's CloudWatch EMF metrics (docker/python/handler/metrics.py) without Spark: whole handler
# invocations against a stub Spark runtime (a real script runs in-process on a stub session), and the EMF document
# each prints to stdout: namespace, dimensions, each metric's unit and value, ColdStart only on the first invocation,
# Failed with the error type on a failing one, nothing when switched off, and an emission failure that fails nothing.
import pytest
from stub_lambda import stand_up

import handler  # the image's /var/task package (conftest.py: docker/python); no JVM starts: no script is configured
from handler import metrics


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
    return stand_up(monkeypatch, tmp_path, SCRIPTS)


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
                     "CommitConflicts": "Count", "HandedOff": "Count", "DurationSeconds": "Seconds",
                     "Succeeded": "Count", "Failed": "Count"}
    assert units == {k: v for k, v in metrics.METRICS.items()}
    assert doc["ColdStart"] == [1.0] and doc["Succeeded"] == [1.0] and doc["Failed"] == [0.0]
    assert doc["CommitConflicts"] == [0.0] and doc["JvmStartSeconds"] == [1.25] and doc["HandedOff"] == [0.0]
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
