# End-to-end bad-input table: each case must be a FAILED invocation (a Runtime API error response) whose error
# type and message name the cause, and must commit no table data. Most cases reuse the warm DELTA function; the
# missing-variable and heap cases need functions configured differently.
import pytest

import lambda_harness as h

WARM = ("DELTA", "table-delta")  # the same function test_1_frameworks leaves warm


def _table_keys(f):
    return sorted(f.s3.list_keys(f.bucket, "tables/"))


def _commits(keys):
    return [k for k in keys if "/_delta_log/" in k]


def _ensure_table(f):
    """The halfway case needs a committed table to protect: create it if this module runs alone."""
    f.put_script()
    r = f.invoke(f.sample_event(action="read"))
    if r.failed:
        r = f.invoke(f.sample_event())
        assert not r.failed, r.raw
    return r.payload["result"]["rows"]


# id, function (framework, name, extra env, dropped env), setup(f) -> event, error type, message fragments
CASES = [
    ("missing-script-object", WARM, {}, (), lambda f: (f.s3.client().delete_object(Bucket=f.bucket, Key=h.SCRIPT_KEY),
                                                       f.sample_event())[1],
     "ScriptNotFoundError", [f"s3://e2e-table-delta/{h.SCRIPT_KEY}", "does not exist"]),
    ("syntax-error", WARM, {}, (), lambda f: (f.put_script("syntax_error.py"), f.sample_event())[1],
     "ScriptSyntaxError", ["syntax error", "line 4"]),
    ("script-raises", WARM, {}, (), lambda f: (f.put_script("raise_error.py"), f.sample_event())[1],
     "ScriptFailedError", ["RuntimeError", "boom-from-script"]),
    ("sys-exit-3", WARM, {}, (), lambda f: (f.put_script("exit3.py"), f.sample_event())[1],
     "ScriptExitError", ["sys.exit(3)"]),
    ("bad-s3-path-in-event", WARM, {}, (),
     lambda f: (f.put_script(), f.sample_event(input=f"s3://{f.bucket}/nope/missing.csv"))[1],
     "ScriptFailedError", ["Path does not exist", "nope/missing.csv"]),
    ("event-without-input", WARM, {}, (), lambda f: (f.put_script(), {"action": "write", "table": "seattle_weather"})[1],
     "ScriptFailedError", ['the event has no "input"']),
    ("fails-halfway-through-write", WARM, {}, (), lambda f: (f.put_script("fail_halfway.py"), f.sample_event())[1],
     "ScriptFailedError", ["injected failure halfway through the table write"]),
    ("missing-env-SPARK_LAMBDA_SCRIPT_BUCKET", ("DELTA", "no-bucket-var"), {}, ("SPARK_LAMBDA_SCRIPT_BUCKET",), lambda f: f.sample_event(),
     "ConfigurationError", ["SPARK_LAMBDA_SCRIPT_BUCKET is not set"]),
    ("missing-env-SPARK_LAMBDA_SCRIPT_KEY", ("DELTA", "no-script-var"), {}, ("SPARK_LAMBDA_SCRIPT_KEY",), lambda f: f.sample_event(),
     "ConfigurationError", ["SPARK_LAMBDA_SCRIPT_KEY is not set"]),
    ("heap-too-large-for-memory", ("DELTA", "huge-heap"), {"SPARK_LAMBDA_DRIVER_HEAP_MB": "4096"}, (),
     lambda f: f.sample_event(),
     "SparkStartError", ["Spark failed to start", "4096", "SPARK_LAMBDA_DRIVER_HEAP_MB", "3008"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_clearly_and_commits_nothing(case, pool):
    name, (framework, fname), extra_env, drop_env, setup, error_type, fragments = case
    f = pool.get(framework, fname, extra_env=extra_env, drop_env=drop_env)
    rows_before = _ensure_table(f) if name == "fails-halfway-through-write" else None
    keys_before = _table_keys(f)
    event = setup(f)

    r = f.invoke(event)

    assert r.failed, f"expected a failed invocation, got {r.raw[:2000]}"
    assert r.http_status == 200 and r.payload.get("errorType"), "the Runtime API must return an error payload"
    assert r.error_type == error_type, r.raw[:3000]
    for fragment in fragments:
        assert fragment in r.error_message, f"{fragment!r} not in the error message: {r.error_message[:3000]}"
    keys_after = _table_keys(f)
    if name == "fails-halfway-through-write":
        # Data files of the aborted tasks may remain as orphans, but no commit may reference them.
        assert _commits(keys_after) == _commits(keys_before)
        f.put_script()
        after = f.invoke(f.sample_event(action="read"))
        assert not after.failed, after.raw
        assert after.payload["result"]["rows"] == rows_before
    else:
        assert keys_after == keys_before, "a failed invocation must not write table data"


def test_result_above_lambdas_6_mb_response_limit_fails_clearly(pool):
    f = pool.get(*WARM)
    f.put_script("huge_result.py")
    r = f.invoke({})
    assert r.failed and r.error_type == "ResponseTooLargeError", r.raw[:2000]
    assert "6 MB" in r.error_message and "write large results to S3" in r.error_message


def test_driver_out_of_heap_is_named_and_the_next_invocation_starts_a_new_jvm(pool):
    f = pool.get(*WARM)
    f.put_script("oom_driver.py")
    r = f.invoke({})
    assert r.failed and r.error_type == "SparkDriverDiedError", r.raw[:3000]
    for fragment in ("OutOfMemoryError", "heap", "function memory 3008 MiB", "MemorySizeMiB",
                     "next invocation starts a new JVM"):
        assert fragment in r.error_message, f"{fragment!r} not in {r.error_message}"
    f.put_script("echo_event.py")  # needs no table: the test also runs alone
    after = f.invoke({"after": "oom"})
    assert not after.failed, after.raw[:3000]
    assert after.payload["spark"]["new_jvm"] is True
