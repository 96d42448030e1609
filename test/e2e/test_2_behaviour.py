# End-to-end handler behaviour on the warm DELTA function: any JSON event reaches the script intact (and never
# os.environ), invocations are isolated (temp views, SQL conf), getOrCreate() returns the invocation's session,
# sys.exit(0) is a success, a changed script is downloaded again (ETag), a script's spark.stop() is survived, a
# JVM that died (e.g. killed for memory) is replaced on the next invocation, os.environ / sys.path / helper modules /
# the working directory do not leak into the next invocation, and /tmp is given back (scratch TMPDIR removed, shuffle
# files cleaned when /tmp runs short, free space reported).
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


# Sets an environment variable, adds a sys.path entry, writes and imports a helper module there and changes the
# working directory; reports what it saw of the previous invocation's doing before that.
PROCESS_PROBE = b"""
import json, os, sys
event = json.loads(sys.argv[sys.argv.index("--event") + 1])
helpers = "/tmp/e2e-leak-helpers"
seen = {
    "env": os.environ.get("E2E_LEAK_VAR"),
    "path_has_helpers": helpers in sys.path,
    "helper_loaded": "e2e_leak_helper" in sys.modules,
    "cwd": os.getcwd(),
}
os.environ["E2E_LEAK_VAR"] = event["value"]
os.makedirs(helpers, exist_ok=True)
with open(os.path.join(helpers, "e2e_leak_helper.py"), "w") as f:
    f.write("VALUE = %r\\n" % event["value"])
sys.path.insert(0, helpers)
import e2e_leak_helper
os.chdir(helpers)
RESULT = {"seen": seen, "helper_value": e2e_leak_helper.VALUE, "pyspark_loaded": "pyspark" in sys.modules}
"""


def test_environment_sys_path_and_helper_modules_do_not_leak_between_invocations(f):
    f.put_script(source=PROCESS_PROBE)
    first = _ok(f.invoke({"value": "first"}), f)
    second = _ok(f.invoke({"value": "second, longer"}), f)  # another size: the helper's .pyc is stale for sure
    assert first["result"]["helper_value"] == "first"
    seen = second["result"]["seen"]
    assert seen["env"] is None, "os.environ set by the previous invocation leaked"
    assert seen["path_has_helpers"] is False, "sys.path entry added by the previous invocation leaked"
    assert seen["helper_loaded"] is False, "a helper module imported by the previous invocation stayed loaded"
    assert second["result"]["helper_value"] == "second, longer", "the helper module was not imported afresh"
    assert seen["cwd"] == first["result"]["seen"]["cwd"] != "/tmp/e2e-leak-helpers"
    assert second["result"]["pyspark_loaded"] is True
    assert second["spark"]["new_jvm"] is False and second["spark"]["jvm_pid"] == first["spark"]["jvm_pid"]
    # The JVM gateway survived the module clean-up: Spark still works in the same JVM.
    f.put_script("isolation_probe.py")
    after = _ok(f.invoke({"phase": "check"}), f)
    assert after["result"]["builder_is_active"] is True and after["spark"]["jvm_pid"] == first["spark"]["jvm_pid"]


# Writes `write_mib` MiB into a temporary file (tempfile: the invocation's scratch TMPDIR) and, with "shuffle",
# shuffles data; with "fill_below_pct" fills /tmp outside the scratch directory (a file that outlives the invocation,
# like a cache) until that share of it is free, and "unfill" removes that file; reports the free /tmp space and the
# shuffle ids with files in spark.local.dir when it started and when it ended.
TMP_PROBE = b"""
import json, os, shutil, sys, tempfile
from pyspark.sql import SparkSession
event = json.loads(sys.argv[sys.argv.index("--event") + 1])
FILL = "/tmp/e2e-fill.bin"
free_at_start = shutil.disk_usage("/tmp").free >> 20
spark = SparkSession.builder.getOrCreate()
local_dir = spark.sparkContext.getConf().get("spark.local.dir")
def shuffle_ids():  # shuffle_<shuffle id>_<map id>_<reduce id>.data / .index
    return sorted({int(n.split("_")[1]) for _, _, names in os.walk(local_dir) for n in names
                   if n.startswith("shuffle_")})
ids_at_start = shuffle_ids()
if event.get("unfill") and os.path.exists(FILL):
    os.remove(FILL)
if event.get("fill_below_pct"):
    usage = shutil.disk_usage("/tmp")
    with open(FILL, "wb") as f:
        for _ in range(max(0, (usage.free - usage.total * event["fill_below_pct"] // 100) >> 20)):
            f.write(bytes(1 << 20))
path = None
if event["write_mib"]:
    with tempfile.NamedTemporaryFile(delete=False, suffix=".bin") as f:
        chunk = os.urandom(1 << 20)
        for _ in range(event["write_mib"]):
            f.write(chunk)
        path = f.name
groups = None
if event.get("shuffle"):
    df = spark.range(0, 3000000).selectExpr("id % 997 AS k", "uuid() AS v").repartition(8, "k")
    groups = df.groupBy("k").count().count()
RESULT = {"free_at_start_mib": free_at_start, "tmpdir": tempfile.gettempdir(), "file": path,
          "previous_file_exists": bool(event.get("previous")) and os.path.exists(event["previous"]),
          "groups": groups, "shuffle_ids_at_start": ids_at_start, "shuffle_ids": shuffle_ids()}
"""


def test_tmp_space_is_given_back_after_an_invocation(f):
    f.put_script(source=TMP_PROBE)
    try:
        before = _ok(f.invoke({"write_mib": 0}), f)
        small = _ok(f.invoke({"write_mib": 0, "shuffle": True}), f)
        # /tmp more than half free (SPARK_LAMBDA_TMP_GC_FREE_PCT's default, 50): no full JVM collection after an
        # invocation, the JVM's own collections free its objects (and with them their shuffle files) as they come.
        assert before["spark"]["jvm_gc"] is False and small["spark"]["jvm_gc"] is False
        fill = _ok(f.invoke({"write_mib": 0, "fill_below_pct": 40}), f)
        big = _ok(f.invoke({"write_mib": 200, "shuffle": True}), f)
        again = _ok(f.invoke({"write_mib": 0, "shuffle": True}), f)
        after = _ok(f.invoke({"write_mib": 0, "previous": big["result"]["file"]}), f)
        later = _ok(f.invoke({"write_mib": 0, "unfill": True}), f)
        end = _ok(f.invoke({"write_mib": 0}), f)
    finally:
        f.invoke({"write_mib": 0, "unfill": True})
    assert fill["spark"]["tmp_free_mib"] * 100 < fill["spark"]["tmp_total_mib"] * 50, "the fill proves nothing"
    for r in (fill, big, again, after):  # below half free: the JVM collects after each invocation
        assert r["spark"]["jvm_gc"] is True
    assert later["spark"]["jvm_gc"] is False and end["spark"]["jvm_gc"] is False  # the fill is gone again
    assert big["result"]["tmpdir"].startswith("/tmp/") and big["result"]["tmpdir"] != "/tmp"
    assert big["result"]["file"].startswith(big["result"]["tmpdir"] + "/")
    assert big["result"]["groups"] == 997
    assert after["result"]["previous_file_exists"] is False, "the scratch file outlived its invocation"
    # The 200 MiB came back (a little slack for Spark's and Python's own files).
    assert after["result"]["free_at_start_mib"] >= fill["spark"]["tmp_free_mib"] - 32
    assert end["result"]["free_at_start_mib"] >= before["result"]["free_at_start_mib"] - 32
    # Shuffle files: with /tmp short, the handler drops the script's objects and asks both GCs to run after each
    # invocation, so Spark's ContextCleaner removes the shuffles no one can reach any more (asynchronously: an
    # invocation that follows at once may still see them). Those an invocation wrote are gone once the next one has
    # ended, so their number does not grow from one warm invocation to the next; those of an invocation before (written
    # while /tmp was more than half free) are gone once the invocation after the first collection has ended.
    runs = (("before", before), ("small", small), ("fill", fill), ("big", big), ("again", again), ("after", after),
            ("later", later))
    shuffles = {name: (set(r["result"]["shuffle_ids_at_start"]), set(r["result"]["shuffle_ids"])) for name, r in runs}
    print(f"shuffle ids in spark.local.dir (at start, at end): {shuffles}")
    for name, following in (("small", "again"), ("big", "after"), ("again", "later")):
        written = shuffles[name][1] - shuffles[name][0]
        assert written, f"the {name} invocation wrote no shuffle files: the check would prove nothing"
        left = written & shuffles[following][0]
        assert not left, f"shuffle files of the {name} invocation ({sorted(left)}) outlived the next invocation"
    assert len(shuffles["later"][0]) <= len(shuffles["before"][0]), "shuffle files accumulate across invocations"
    for r in (before, small, fill, big, again, after, later, end):
        assert 0 < r["spark"]["tmp_free_mib"] <= r["spark"]["tmp_total_mib"]
        assert r["spark"]["tmp_low"] is False
    assert big["spark"]["tmp_free_mib"] >= fill["spark"]["tmp_free_mib"] - 32, "reported after the clean-up"
    assert end["spark"]["new_jvm"] is False and end["spark"]["context_starts"] == before["spark"]["context_starts"]


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
