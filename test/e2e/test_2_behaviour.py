# End-to-end handler behaviour on the warm DELTA function: any JSON event reaches the script intact (and never
# os.environ), invocations are isolated (temp views, SQL conf), getOrCreate() returns the invocation's session,
# sys.exit(0) is a success, a changed script is downloaded again (ETag), a script's spark.stop() is survived, and a
# JVM that died (e.g. killed for memory) is replaced on the next invocation.
import json

import pytest

WARM = ("DELTA", "table-delta")


@pytest.fixture
def f(pool):
    return pool.get(*WARM)


def _ok(r, f):
    assert not r.failed, f"invocation failed: {r.raw[:3000]}\n--- function log:\n{f.log_tail()}"
    return r.payload


def test_event_with_nested_lists_numbers_and_nulls_arrives_intact(f):
    f.put_script("echo_event.py")
    event = {
        "nested": {"list": [1, 2.5, -3e-7, None, [True, False, []], {"deep": {"deeper": [None]}}]},
        "numbers": [0, -1, 12345678901234567, 1.5e300],
        "null": None,
        "text": "ünïcødé \"quoted\" ${NOT_EXPANDED} $(not run)",
        "PATH": "/must/not/reach/os.environ",
        "E2E_EVENT_KEY": 42,
    }
    got = _ok(f.invoke(event), f)["result"]
    assert got["event"] == json.loads(json.dumps(event))
    assert got["argv_len"] == 3  # script path, --event, the JSON
    assert got["env_values"]["E2E_EVENT_KEY"] is None
    assert got["env_values"]["PATH"] != event["PATH"]


def test_top_level_list_event_arrives_intact(f):
    f.put_script("echo_event.py")
    event = [1, None, {"a": [2, 3]}, "x"]
    assert _ok(f.invoke(event), f)["result"]["event"] == event


def test_temp_views_and_sql_conf_do_not_leak_between_invocations(f):
    f.put_script("isolation_probe.py")
    first = _ok(f.invoke({"phase": "set"}), f)
    second = _ok(f.invoke({"phase": "check"}), f)
    assert first["result"]["view_visible"] is True
    assert first["result"]["shuffle_partitions"] == "77"
    assert first["result"]["marker"] == "set-by-first-invocation"
    assert second["result"]["view_visible"] is False
    assert second["result"]["shuffle_partitions"] == "4"  # the Spark defaults' value
    assert second["result"]["marker"] is None
    assert first["result"]["session_id"] != second["result"]["session_id"]
    for r in (first, second):
        assert r["result"]["builder_is_active"] is True
        assert r["result"]["jvm_active_is_builder"] is True
    assert second["spark"]["jvm_pid"] == first["spark"]["jvm_pid"] and second["spark"]["new_jvm"] is False


def test_sys_exit_0_is_success_and_keeps_result(f):
    f.put_script("exit0.py")
    r = _ok(f.invoke({}), f)
    assert r["status"] == "SUCCEEDED" and r["result"] == {"exited": "cleanly"}


def test_changed_script_is_downloaded_again(f):
    f.put_script(source=b"# version one\nRESULT = {'version': 1}\n")
    one = _ok(f.invoke({}), f)
    again = _ok(f.invoke({}), f)
    f.put_script(source=b"# version two\nRESULT = {'version': 2}\n")
    two = _ok(f.invoke({}), f)
    assert (one["result"], one["script"]["cached"]) == ({"version": 1}, False)
    assert (again["result"], again["script"]["cached"]) == ({"version": 1}, True)
    assert (two["result"], two["script"]["cached"]) == ({"version": 2}, False)
    assert two["script"]["etag"] != one["script"]["etag"]


def test_script_calling_spark_stop_gets_a_new_context_next_time(f):
    f.put_script("spark_stop.py")
    stopped = _ok(f.invoke({}), f)
    assert stopped["result"] == {"count": 4}
    f.put_script("isolation_probe.py")
    after = _ok(f.invoke({"phase": "check"}), f)
    assert after["spark"]["context_starts"] == stopped["spark"]["context_starts"] + 1
    assert after["result"]["builder_is_active"] is True
    # pyspark keeps its JVM gateway across SparkContexts: same JVM, new context.
    assert after["spark"]["jvm_starts"] == stopped["spark"]["jvm_starts"]


def test_dead_jvm_is_replaced_on_the_next_invocation(f):
    f.put_script("kill_jvm.py")
    killed = _ok(f.invoke({}), f)  # the script returned normally; its JVM died under it
    f.put_script("isolation_probe.py")
    after = _ok(f.invoke({"phase": "check"}), f)
    assert after["spark"]["new_jvm"] is True
    assert after["spark"]["jvm_starts"] == killed["spark"]["jvm_starts"] + 1
    assert after["result"]["builder_is_active"] is True
    again = _ok(f.invoke({"phase": "check"}), f)  # and the new JVM stays warm
    assert again["spark"]["new_jvm"] is False and again["spark"]["jvm_pid"] == after["spark"]["jvm_pid"]
