# Whole handler invocations without Spark, for the unit tests: a stub Spark runtime (no JVM; a real script runs
# in-process on a stub session), a Lambda context, and stand_up(), which configures the function around them and
# returns invoke(capsys, script, event) -> (response or exception, the EMF documents printed).
import json

import handler  # the image's /var/task package (conftest.py: docker/python)
from handler import commit_retry, isolation, metrics


class StubRuntime:
    """What the handler asks of spark_runtime.SparkRuntime, without a JVM: the first ensure() 'launches' one."""

    def __init__(self):
        self.root = None
        self.jvm_starts = 0
        self.ensured = 0  # how often the handler asked for Spark

    def ensure(self):
        self.ensured += 1
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


class StubSession:
    def __init__(self, root):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Context:
    def __init__(self, request_id="req-1"):
        self.aws_request_id = request_id

    def get_remaining_time_in_millis(self):
        return 600_000


def stand_up(monkeypatch, tmp_path, scripts, env=None):
    """A configured function (bucket b, framework DELTA unless `env` says otherwise, function orders-job) whose
    scripts are `scripts` (name -> source, fetched without S3) on a StubRuntime (handler._spark)."""
    for k, v in {"SPARK_LAMBDA_SCRIPT_BUCKET": "b", "SPARK_LAMBDA_FRAMEWORK": "delta",
                 "AWS_LAMBDA_FUNCTION_NAME": "orders-job", **(env or {})}.items():
        monkeypatch.setenv(k, v)
    for k in ("SPARK_LAMBDA_METRICS", "SPARK_LAMBDA_METRICS_NAMESPACE", "POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_DEV"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setattr(handler, "_spark", StubRuntime())
    monkeypatch.setattr(handler, "_invocations", 0)
    monkeypatch.setattr(metrics, "_cold", True)
    monkeypatch.setattr(isolation, "InvocationSession", StubSession)
    monkeypatch.setattr(isolation, "SCRATCH_DIR", str(tmp_path / "invocation-scratch"))
    monkeypatch.setattr(isolation, "reclaim_tmp", lambda sc, *pcts: {"tmp_free_mib": 500, "tmp_total_mib": 512,
                                                                       "tmp_low": False, "jvm_gc": False})
    monkeypatch.setattr(commit_retry, "backoff_s", lambda attempt: 0.0)

    def fetch(bucket, key):
        path = str(tmp_path / key)
        return path, compile(scripts[key], path, "exec"), {"uri": f"s3://{bucket}/{key}", "etag": "e1", "cached": False}

    monkeypatch.setattr(handler, "fetch_script", fetch)

    def invoke(capsys, script="ok.py", event=None, context=None):
        monkeypatch.setenv("SPARK_LAMBDA_SCRIPT_KEY", script)
        capsys.readouterr()
        try:
            out = handler.handler(event or {}, context or Context())
        except Exception as e:  # noqa: BLE001 - returned for the test to check
            out = e
        printed = capsys.readouterr().out
        docs = [json.loads(line) for line in printed.splitlines() if line.startswith("{") and '"_aws"' in line]
        return out, docs

    return invoke
