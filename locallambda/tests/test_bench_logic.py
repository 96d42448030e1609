# Unit tests of the pure logic of `make bench` (locallambda/bench_lib.py): the generated inputs are deterministic,
# ~10 MB, consecutive keys whose windows overlap by half; the summary line's shape and ratio arithmetic. No Spark.
import csv
import io
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import bench_lib as bl  # noqa: E402

SAMPLE = os.path.join(HERE, "..", "..", "assets", "data", "seattle-weather.csv")


def keys(text):
    return [r["date"] for r in csv.DictReader(io.StringIO(text))]


def test_small_window_zero_is_the_sample_itself():
    header, rows = bl.sample_rows(SAMPLE)
    n = bl.rows_for("small", len(rows), os.path.getsize(SAMPLE))
    assert n == len(rows) == 1461
    with open(SAMPLE, newline="") as f:
        assert bl.window(header, rows, n, 0) == f.read().replace("\r\n", "\n")


def test_10mb_windows_are_deterministic_sized_and_half_overlapping():
    header, rows = bl.sample_rows(SAMPLE)
    n = bl.rows_for("10mb", len(rows), os.path.getsize(SAMPLE))
    w1, w2 = bl.window(header, rows, n, 1), bl.window(header, rows, n, 2)
    assert w1 == bl.window(header, rows, n, 1)  # deterministic
    assert 10 * 1024 * 1024 <= len(w1.encode()) <= 11 * 1024 * 1024
    k1, k2 = keys(w1), keys(w2)
    assert len(k1) == len(set(k1)) == n and k1 == sorted(k1)  # unique, consecutive ISO days
    assert len(set(k1) & set(k2)) == n // 2  # the MERGE matches half ...
    assert len(set(k2) - set(k1)) == n - n // 2  # ... and inserts the rest


def test_summary_ratios_and_nulls():
    d = bl.summary("DELTA", "small", 20.0, 4.0, 14.0, 0.05)
    assert d == {"format": "DELTA", "size": "small", "cold_s": 20.0, "warm_s": 4.0, "submit_s": 14.0,
                 "peer_s": 0.05, "submit_over_warm": 3.5, "warm_over_peer": 80.0, "cold_over_submit": 1.43}
    d = bl.summary("HUDI", "10mb", 30.0, None, 12.5, None)
    assert d["submit_over_warm"] is None and d["warm_over_peer"] is None and d["cold_over_submit"] == 2.4
    line = bl.summary_line(d)
    assert line.startswith("bench-summary: {")
    assert json.loads(line.split(": ", 1)[1]) == d
    assert list(json.loads(line.split(": ", 1)[1])) == ["format", "size", "cold_s", "warm_s", "submit_s", "peer_s",
                                                        "submit_over_warm", "warm_over_peer", "cold_over_submit"]


def test_median_skips_missing_runs():
    assert bl.median([3.0, None, 1.0, 2.0]) == 2.0
    assert bl.median([None]) is None


def test_emf_values_are_summed_lists_or_plain_properties():
    doc = {"_aws": {}, "JvmStartSeconds": [2.813], "ScriptSeconds": [1.5, 2.0], "spark_startup_s": 4.708}
    assert bl.emf_value(doc, "JvmStartSeconds") == 2.813 and bl.emf_value(doc, "ScriptSeconds") == 3.5
    assert bl.emf_value(doc, "spark_startup_s") == 4.708 and bl.emf_value(doc, "SessionSeconds") is None


def test_the_projected_input_rests_on_the_warm_difference_and_the_cold_time():
    mib = 2 ** 20
    # 1 s more warm for 10 MiB more input: 0.1 s per MiB; 20 s cold at 10 MiB leaves 280 s of a 300 s budget.
    assert bl.projected_input_bytes(0, 2.0, 10 * mib, 3.0, 20.0, 300) == 10 * mib + 2800 * mib
    # a cold time already above the budget: nothing larger fits
    assert bl.projected_input_bytes(0, 2.0, 10 * mib, 3.0, 400.0, 300) == 0
    # not slower with more input, or a figure missing: no projection rather than a made-up one
    assert bl.projected_input_bytes(0, 3.0, 10 * mib, 3.0, 20.0, 300) is None
    assert bl.projected_input_bytes(0, None, 10 * mib, 3.0, 20.0, 300) is None


def test_the_bench_function_is_the_constructs_default():
    """The routing projection applies the construct's default timeout to a function of its default memory."""
    import re
    import bench

    with open(os.path.join(HERE, "..", "..", "constructs", "sparklambda", "props.go")) as f:
        props = f.read()
    assert int(re.search(r"DefaultMemorySizeMiB = (\d+)", props).group(1)) == bench.MEMORY
    assert int(re.search(r"DefaultTimeoutSeconds = (\d+)", props).group(1)) == bench.DEFAULT_TIMEOUT_S


def test_profile_counts_jobs_in_the_window_once_and_the_rest_as_driver_time():
    def job(i, start, end, stages, desc=None):
        props = {"callSite.short": f"call {i}"}
        if desc:
            props["spark.job.description"] = desc
        return [{"Event": "SparkListenerJobStart", "Job ID": i, "Submission Time": start, "Stage IDs": stages,
                 "Properties": props},
                {"Event": "SparkListenerJobEnd", "Job ID": i, "Completion Time": end}]
    events = [*job(0, 500, 900, [0]),  # before the window: another invocation's
              *job(1, 1000, 1500, [1, 2], "Delta: Compute snapshot"), *job(2, 1200, 1800, [3]),  # overlapping
              *job(3, 2500, 2600, [4]),
              {"Event": "SparkListenerStageCompleted", "Stage Info": {"Stage ID": 1, "Number of Tasks": 50}},
              {"Event": "SparkListenerStageCompleted", "Stage Info": {"Stage ID": 3, "Number of Tasks": 4}},
              {"Event": "SparkListenerStageCompleted", "Stage Info": {"Stage ID": 4, "Number of Tasks": 1}}]
    text = "\n".join(json.dumps(e) for e in events) + '\n{"Event": "SparkListenerJobStart", "Job'  # torn last line
    p = bl.profile(bl.spark_events(text), 1000, 3000)
    assert [j["id"] for j in p["jobs"]] == [1, 2, 3]
    assert p["jobs"][0] == {"id": 1, "what": "Delta: Compute snapshot", "stages": 1, "tasks": 50, "seconds": 0.5}
    assert p["jobs"][1]["what"] == "call 2" and p["jobs"][1]["tasks"] == 4
    assert p["window_s"] == 2.0 and p["in_jobs_s"] == 0.9 and p["outside_jobs_s"] == 1.1  # 1000-1800 + 2500-2600


def test_cpu_breakdown_groups_threads_categories_and_python_calls():
    py4j = "java/lang/Thread.run;py4j/ClientServerConnection.run;" + bl.PY4J_CALL
    text = "\n".join([
        f"[Thread-9 tid=73];{py4j};org/apache/spark/sql/SparkSession.sql;"
        "org/apache/spark/sql/execution/QueryExecution.optimizedPlan;"
        "org/apache/spark/sql/catalyst/expressions/codegen/CodeGenerator$.doCompile 30",
        f"[Thread-9 tid=73];{py4j};org/apache/spark/sql/Dataset.collectToPython;"
        "org/apache/spark/sql/delta/Snapshot.cachedState 10",
        "[Thread-9 tid=73];py4j/ClientServerConnection.run;py4j/ClientServerConnection.waitForCommands 5",
        "[Executor task launch worker for task 1.0 in stage 3.0 (TID 7) tid=90];org/apache/parquet/hadoop/X.write 20",
        "[Executor task launch worker for task 2.0 in stage 4.0 (TID 9) tid=91];"
        "org/apache/hadoop/fs/s3a/S3AFileSystem.open 15",
        "[VM Thread tid=12];GenCollectedHeap::do_collection 10",
        "[C1 CompilerThre tid=20];CompileBroker::invoke_compiler_on_method 10",
        "",
        "a malformed line",
    ])
    b = bl.cpu_breakdown(bl.collapsed_stacks(text), top=2)
    assert b["samples"] == 100
    assert b["threads"] == {"driver: calls from Python (py4j)": 45.0, "executor tasks": 35.0,
                            "garbage collection": 10.0, "JIT compilation": 10.0}
    assert list(b["threads"]) == ["driver: calls from Python (py4j)", "executor tasks", "garbage collection",
                                  "JIT compilation"]  # largest first
    assert b["categories"]["generated code compiled (Janino)"] == 30.0
    assert b["categories"]["query analysis and optimization"] == 30.0  # the compile ran inside it: both count
    assert b["categories"]["Delta: snapshot state reconstruction"] == 10.0
    assert b["categories"]["Parquet"] == 20.0 and b["categories"]["S3 client (s3a, AWS SDK)"] == 15.0
    assert b["categories"]["Iceberg: commit"] == 0.0
    # Python's calls: the Java method after py4j's reflective invoke; py4j's own wait is not a call.
    assert b["python_calls"] == [("org.apache.spark.sql.SparkSession.sql", 30.0),
                                 ("org.apache.spark.sql.Dataset.collectToPython", 10.0)]
    assert bl.cpu_breakdown([])["samples"] == 0


def test_wall_breakdown_splits_pythons_calls_by_what_they_wait_for():
    call = "[Thread-8 tid=72];java/lang/Thread.run;py4j/ClientServerConnection.run;" + bl.PY4J_CALL
    text = "\n".join([
        # Spark SQL: 40 samples waiting for a job, 20 running (planning)
        f"{call};org/apache/spark/sql/SparkSession.sql;org/apache/spark/scheduler/DAGScheduler.runJob;"
        "java/util/concurrent/locks/LockSupport.park;jdk/internal/misc/Unsafe.park 40",
        f"{call};org/apache/spark/sql/SparkSession.sql;org/apache/spark/sql/execution/QueryExecution.optimizedPlan 20",
        # a save that sleeps in Hudi's time generator (10) and reads from S3 (10)
        f"{call};org/apache/spark/sql/DataFrameWriter.save;"
        "org/apache/hudi/client/timeline/SkewAdjustingTimeGenerator.generateTime;java/lang/Thread.sleep;"
        "__futex_abstimed_wait_common 10",
        f"{call};org/apache/spark/sql/DataFrameWriter.save;org/apache/hadoop/fs/s3a/S3AInputStream.read;"
        "sun/nio/ch/NioSocketImpl.read;read 10",
        f"{call};org/apache/spark/sql/DataFrameWriter.save;java/lang/Object.wait 5",
        # outside any call: py4j waiting for Python, and another thread: not counted
        "[Thread-8 tid=72];java/lang/Thread.run;py4j/ClientServerConnection.waitForCommands;"
        "java/io/BufferedReader.readLine 100",
        "[Executor task launch worker for task 1.0 in stage 3.0 (TID 7) tid=90];org/apache/parquet/X.write 50",
        # the main thread, which spark-submit started by reflection and which waits for the end of the application
        f"[main tid=1];org/apache/spark/deploy/SparkSubmit.main;{bl.PY4J_CALL};"
        "org/apache/spark/api/python/PythonGatewayServer.main;java/io/FileInputStream.read 300",
    ])
    b = bl.wall_breakdown(bl.collapsed_stacks(text), invocations=2, interval_ms=10)
    # 85 samples of 10 ms over 2 invocations
    assert b["seconds_in_calls"] == 0.425
    assert b["python_calls"] == [("org.apache.spark.sql.SparkSession.sql", 0.3),
                                 ("org.apache.spark.sql.DataFrameWriter.save", 0.125)]
    assert b["waits"] == {"sleeping (Thread.sleep)": 0.05, "waiting for Spark jobs": 0.2,
                          "waiting on the network (S3, DynamoDB, Glue)": 0.05,
                          "waiting on another thread or a lock": 0.025, "running (or ready to run)": 0.1}
    assert b["sleeps"] == [("org.apache.hudi.client.timeline.SkewAdjustingTimeGenerator.generateTime", 0.05)]
    assert bl.wall_breakdown([], 3, 5)["seconds_in_calls"] == 0.0


def test_thread_seconds_splits_each_thread_group_into_running_and_waiting():
    text = "\n".join([
        "[C1 CompilerThre tid=32];thread_native_entry;CompileBroker::invoke_compiler_on_method 30",
        "[C1 CompilerThre tid=34];thread_native_entry;CompileBroker::compiler_thread_loop;Monitor::wait;"
        "__futex_abstimed_wait_common 70",
        "[Thread-8 tid=72];java/lang/Thread.run;py4j/ClientServerConnection.run;" + bl.PY4J_CALL + ";"
        "org/apache/spark/sql/SparkSession.sql;org/apache/spark/sql/execution/QueryExecution.optimizedPlan 20",
        "[Thread-8 tid=72];java/lang/Thread.run;py4j/ClientServerConnection.waitForCommands;"
        "sun/nio/ch/NioSocketImpl.read;read 40",
        "[Executor task launch worker for task 1.0 in stage 3.0 (TID 7) tid=90];org/apache/parquet/X.write 10",
        "[Executor task launch worker for task 2.0 in stage 3.0 (TID 8) tid=91];org/apache/hudi/X.sizeOf;"
        "java/lang/Object.wait 5",
        "[qtp464843769-74 tid=101];java/lang/Thread.run;jdk/internal/misc/Unsafe.park 50",
        "[Thread-3 tid=40];java/lang/Thread.run;sun/nio/ch/Net.accept;__GI_accept 30",  # a py4j server, idle
        "[process reaper tid=41];java/io/FileInputStream.readBytes;__GI_read 20",
        "[VM Thread tid=12];VMThread::loop;VMThread::evaluate_operation 4",
    ])
    t = bl.thread_seconds(bl.collapsed_stacks(text), interval_ms=10)
    # largest running first, the threads of no group last; a group's threads are summed (two C1 threads here)
    assert list(t) == ["JIT compilation", "driver: calls from Python (py4j)", "executor tasks", "garbage collection",
                       bl.OTHER_THREADS]
    assert t["JIT compilation"] == {"running": 0.3, "waiting": 0.7}
    assert t["driver: calls from Python (py4j)"] == {"running": 0.2, "waiting": 0.7}
    assert t["executor tasks"] == {"running": 0.1, "waiting": 0.05}
    assert t["garbage collection"] == {"running": 0.04, "waiting": 0.0}
    assert t[bl.OTHER_THREADS] == {"running": 0.0, "waiting": 0.7}
    assert "Spark scheduler" not in t, "a group without samples is left out"
    assert bl.thread_seconds([], 5) == {}
