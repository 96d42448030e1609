# Unit tests of the pure logic of `make submit` (locallambda/submit.py): which executors ran tasks and on which worker,
# read from a Spark event log, and the script's RESULT taken from its stdout. No Spark, no cluster.
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import submit  # noqa: E402


def _event_log(tmp_path, events):
    path = tmp_path / "app-1"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return str(path)


def test_executors_and_their_workers_come_from_the_event_log(tmp_path):
    def added(eid, port):
        return {"Event": "SparkListenerExecutorAdded", "Executor ID": eid,
                "Executor Info": {"Log Urls": {"stdout": f"http://127.0.0.1:{port}/logPage/?appId=a&executorId={eid}"
                                                         "&logType=stdout"}}}

    def task_end(eid):
        return {"Event": "SparkListenerTaskEnd", "Task Info": {"Executor ID": eid}}

    log = _event_log(tmp_path, [
        {"Event": "SparkListenerApplicationStart", "App ID": "app-20261206-0000"},
        added("0", 8081), added("1", 8082), added("2", 8083),
        task_end("0"), task_end("1"), task_end("0"), task_end("driver"),
    ])
    app_id, tasks, workers = submit.read_event_log(log, {8081: "worker-a", 8082: "worker-b", 8083: "worker-c"})
    assert app_id == "app-20261206-0000"
    # executor 2 registered but ran nothing: it is not among those that ran tasks
    assert tasks == {"0": 2, "1": 1, "driver": 1}
    assert workers == {"0": "worker-a", "1": "worker-b", "2": "worker-c"}


def test_the_result_is_the_last_json_object_line_of_stdout():
    out = "\n".join(["starting", '{"rows": 1}', "[1, 2]", '{"rows": 2, "format": "DELTA"}', "{not json", "done"])
    assert submit.last_json_object(out) == {"rows": 2, "format": "DELTA"}
    assert submit.last_json_object("no result here\n[1]") is None
