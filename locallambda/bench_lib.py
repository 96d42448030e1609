# Pure logic of `make bench` (locallambda/bench.py), kept apart so the fast unit tests can check it without Spark:
# the deterministic inputs (windows of consecutive days built from the sample CSV), medians and the summary line, the
# --profile split of an invocation from Spark's event log, the --cpu-profile breakdown of the driver JVM's CPU and the
# --wall-profile breakdown of what Python's calls into the JVM wait for.
import csv
import datetime
import io
import json
import re
import statistics

SIZES = {"small": None, "10mb": 10 * 1024 * 1024}  # target bytes of one input file (None: the sample's own rows)
FORMATS = ("HUDI", "DELTA", "ICEBERG")


def sample_rows(path):
    """(header, rows) of the sample CSV; its dates are consecutive days (2012-01-01 .. 2015-12-31)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def rows_for(size, sample_len, sample_bytes):
    """Rows of one input file of `size`: the sample's count for "small", else enough whole copies of the sample to
    reach the target bytes (a copy's dates take as many bytes as the sample's: 4-digit years)."""
    target = SIZES[size]
    if target is None:
        return sample_len
    copies = -(-target // sample_bytes)  # ceil
    return copies * sample_len


def window(header, rows, n, k):
    """The CSV text of window k of n rows: consecutive days starting k * (n // 2) days after the sample's first date,
    the measured values cycling through the sample's rows. Window k and k+1 share n // 2 keys (matched by the MERGE)
    and window k+1 has n - n // 2 new ones: every timed write into a table seeded with window 0 updates and inserts."""
    first = datetime.date.fromisoformat(rows[0][0])
    start = k * (n // 2)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for i in range(start, start + n):
        r = rows[i % len(rows)]
        w.writerow([(first + datetime.timedelta(days=i)).isoformat(), *r[1:]])
    return out.getvalue()


def emf_value(doc, name):
    """A metric or property of an EMF document; Powertools writes metric values as lists (summed here)."""
    v = doc.get(name)
    return sum(v) if isinstance(v, list) else v


def median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def summary(fmt, size, cold_s, warm_s, submit_s, peer_s):
    """The bench-summary dict of one format and size (seconds are medians; ratios rounded to 2 places; None when
    either side is missing)."""
    return {"format": fmt, "size": size, "cold_s": cold_s, "warm_s": warm_s, "submit_s": submit_s, "peer_s": peer_s,
            "submit_over_warm": ratio(submit_s, warm_s), "warm_over_peer": ratio(warm_s, peer_s),
            "cold_over_submit": ratio(cold_s, submit_s)}


def projected_input_bytes(small_bytes, small_warm_s, big_bytes, big_warm_s, big_cold_s, budget_s):
    """The input size (bytes) at which a cold invocation would reach budget_s seconds, projected linearly from two
    measured sizes: the seconds per byte are the warm difference between the big and the small input (the fixed
    cost of a warm run cancels out), added to the big input's cold time (JVM, session and the format's first run).
    None when a figure is missing or the big input was not slower. Linear is an assumption that holds while the input
    fits the function's memory and /tmp: beyond it Spark spills, and time grows faster."""
    if None in (small_bytes, small_warm_s, big_bytes, big_warm_s, big_cold_s) or big_bytes <= small_bytes:
        return None
    per_byte = (big_warm_s - small_warm_s) / (big_bytes - small_bytes)
    if per_byte <= 0:
        return None
    return max(0, int(big_bytes + (budget_s - big_cold_s) / per_byte))


def summary_line(d):
    return "bench-summary: " + json.dumps(d)


def spark_events(text):
    """The events of a Spark event log (JSON lines; a torn last line of an in-progress log is skipped)."""
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def profile(events, start_ms, end_ms):
    """Where one invocation's time went, from the Spark event log of its JVM: the Spark jobs that started in the
    window [start_ms, end_ms] (epoch ms) with their description, duration, stages and tasks, and the seconds inside
    jobs (their union, so concurrent jobs count once) against the window's length; the rest is driver-side work
    outside jobs (planning, the table format's log and metadata reads, listing, the commit, Python). Returns
    {"window_s", "in_jobs_s", "outside_jobs_s", "jobs": [{"id", "what", "seconds", "stages", "tasks"}]}."""
    stages = {}
    for e in events:
        if e.get("Event") == "SparkListenerStageCompleted":
            info = e.get("Stage Info", {})
            stages[info.get("Stage ID")] = info.get("Number of Tasks", 0)
    jobs, ends = {}, {}
    for e in events:
        kind = e.get("Event")
        if kind == "SparkListenerJobStart" and start_ms <= e.get("Submission Time", -1) <= end_ms:
            props = e.get("Properties") or {}
            what = props.get("spark.job.description") or props.get("callSite.short") or ""
            ran = [s for s in e.get("Stage IDs", []) if s in stages]  # skipped stages never complete
            jobs[e["Job ID"]] = {"id": e["Job ID"], "what": what, "start": e["Submission Time"],
                                 "stages": len(ran), "tasks": sum(stages[s] for s in ran)}
        elif kind == "SparkListenerJobEnd":
            ends[e.get("Job ID")] = e.get("Completion Time")
    spans = []
    for j in jobs.values():
        start, end = j.pop("start"), ends.get(j["id"]) or end_ms  # a job still running at the window's end: cut there
        j["seconds"] = round((end - start) / 1000, 3)
        spans.append((start, end))
    busy, cur = 0.0, None
    for a, b in sorted(spans):
        if cur is None or a > cur[1]:
            if cur:
                busy += cur[1] - cur[0]
            cur = [a, b]
        else:
            cur[1] = max(cur[1], b)
    if cur:
        busy += cur[1] - cur[0]
    window = (end_ms - start_ms) / 1000
    return {"window_s": round(window, 3), "in_jobs_s": round(busy / 1000, 3),
            "outside_jobs_s": round(window - busy / 1000, 3), "jobs": sorted(jobs.values(), key=lambda j: j["id"])}


# --cpu-profile: async-profiler's "collapsed" output, one line per distinct stack: the thread as its first frame
# ("[name tid=N]", with the profiler's `threads` option), then the frames outermost first, ";"-separated, a space and
# the number of samples. Threads are grouped by what they are (numbers in their names folded).
THREAD_GROUPS = (
    ("driver: calls from Python (py4j)", re.compile(r"^\[Thread-\d+ ")),
    ("executor tasks", re.compile(r"^\[Executor task launch worker")),
    ("garbage collection", re.compile(r"^\[(VM Thread|GC Thread|VM Periodic)")),
    ("JIT compilation", re.compile(r"^\[C\d CompilerThre")),
    ("Spark scheduler", re.compile(r"^\[(dag-scheduler-event-loop|task-result-getter|dispatcher-event-loop)")),
)
# What the samples did, by a frame on their stack (a sample counts once per category; categories overlap, e.g. a
# Delta state reconstruction runs Spark jobs whose tasks read Parquet).
CPU_CATEGORIES = (
    ("generated code compiled (Janino)", ("CodeGenerator$.doCompile",)),
    ("query analysis and optimization", ("QueryExecution.assertAnalyzed", "QueryExecution.optimizedPlan",
                                         "QueryExecution.sparkPlan", "QueryExecution.executedPlan")),
    ("Delta: snapshot state reconstruction", ("org/apache/spark/sql/delta/Snapshot.cachedState",
                                              "org/apache/spark/sql/delta/Snapshot.computedState")),
    ("Delta: commit", ("OptimisticTransactionImpl.commitImpl", "OptimisticTransactionImpl.commitLarge")),
    ("Iceberg: commit", ("org/apache/iceberg/SnapshotProducer.commit",)),
    ("Hudi: commit, clean, archive", ("org/apache/hudi/client/BaseHoodieWriteClient.commit",
                                      "org/apache/hudi/client/BaseHoodieWriteClient.mayBeCleanAndArchive")),
    ("S3 client (s3a, AWS SDK)", ("org/apache/hadoop/fs/s3a/", "com/amazonaws/", "software/amazon/awssdk/")),
    ("data files written", ("org/apache/spark/sql/execution/datasources/FileFormatWriter",
                            "org/apache/spark/sql/execution/datasources/v2/DataWritingSparkTask")),
    ("Parquet", ("org/apache/parquet/",)),
    ("CSV parsing", ("org/apache/spark/sql/catalyst/csv/UnivocityParser",)),
    ("cached DataFrame built", ("org/apache/spark/sql/execution/columnar/CachedRDDBuilder",)),
    ("task and closure serialization", ("org/apache/spark/serializer/JavaSerializer",
                                        "org/apache/spark/util/ClosureCleaner")),
    ("class loading", ("java/lang/ClassLoader.loadClass", "SystemDictionary::")),
)
PY4J_CALL = "jdk/internal/reflect/NativeMethodAccessorImpl.invoke0"


def collapsed_stacks(text):
    """[(frames, samples)] of async-profiler's collapsed output; blank or malformed lines are skipped."""
    out = []
    for line in text.splitlines():
        stack, _, n = line.rstrip().rpartition(" ")
        if stack and n.isdigit():
            out.append((stack.split(";"), int(n)))
    return out


OTHER_THREADS = "other threads"


def thread_group(frames):
    name = frames[0] if frames else ""
    for group, pattern in THREAD_GROUPS:
        if pattern.match(name):
            return group
    return OTHER_THREADS


def python_call_at(frames):
    """Where a sample of a thread serving Python's calls (THREAD_GROUPS' py4j threads) is inside one: the index of
    py4j's reflective invoke (PY4J_CALL; the frame after it is the Java method Python called). None between calls and
    on every other thread (e.g. the main thread, which spark-submit also starts by reflection)."""
    if thread_group(frames) != THREAD_GROUPS[0][0]:
        return None
    return next((k for k, f in enumerate(frames) if f == PY4J_CALL), None)


def cpu_breakdown(stacks, top=8):
    """Where the driver JVM's CPU went: {"samples", "threads": {group: share}, "categories": {category: share},
    "python_calls": [(Java method Python called, share)] (the `top` largest, shares of all samples)}, shares in
    percent of all samples rounded to 0.1. Python's calls are the first frame after py4j's reflective invoke."""
    total = sum(n for _, n in stacks)
    threads, categories, calls = {}, {}, {}
    for frames, n in stacks:
        group = thread_group(frames)
        threads[group] = threads.get(group, 0) + n
        joined = ";".join(frames)
        for name, markers in CPU_CATEGORIES:
            if any(m in joined for m in markers):
                categories[name] = categories.get(name, 0) + n
        if group == THREAD_GROUPS[0][0]:
            i = python_call_at(frames)
            target = frames[i + 1] if i is not None and i + 1 < len(frames) else "(py4j itself)"
            calls[target] = calls.get(target, 0) + n

    def pct(v):
        return round(100.0 * v / total, 1) if total else 0.0

    by_share = sorted(calls.items(), key=lambda kv: -kv[1])[:top]
    return {"samples": total,
            "threads": {k: pct(v) for k, v in sorted(threads.items(), key=lambda kv: -kv[1])},
            "categories": {name: pct(categories.get(name, 0)) for name, _ in CPU_CATEGORIES},
            "python_calls": [(k.replace("/", "."), pct(v)) for k, v in by_share]}


# --wall-profile: a sample of a thread serving one of Python's calls is a wait when one of these frames is among its
# innermost ones (then the whole stack says what for, by WALL_WAITS, first match wins); otherwise it is running (on a
# CPU, or ready and waiting for one).
WALL_BLOCKING = ("java/lang/Thread.sleep", "jdk/internal/misc/Unsafe.park", "java/lang/Object.wait",
                 "sun/nio/ch/NioSocketImpl.read", "java/net/SocketInputStream.socketRead0", "__futex_abstimed_wait",
                 "epoll_wait")
WALL_INNERMOST = 8
WALL_WAITS = (
    ("sleeping (Thread.sleep)", ("java/lang/Thread.sleep",)),
    ("waiting for Spark jobs", ("org/apache/spark/scheduler/DAGScheduler.runJob",
                                "org/apache/spark/sql/execution/adaptive/AdaptiveSparkPlanExec.getFinalPhysicalPlan",
                                "org/apache/spark/util/ThreadUtils$.awaitResult")),
    ("waiting on the network (S3, DynamoDB, Glue)", ("sun/nio/ch/NioSocketImpl.read", "java/net/SocketInputStream",
                                                     "org/apache/http/impl/io/SessionInputBufferImpl")),
    ("waiting on another thread or a lock", ("",)),
)
WALL_RUNNING = "running (or ready to run)"


def blocked(frames):
    """Whether a wall-clock sample is a wait: a WALL_BLOCKING frame among its innermost WALL_INNERMOST frames."""
    return any(b in f for f in frames[-WALL_INNERMOST:] for b in WALL_BLOCKING)


# --cold-profile: besides WALL_BLOCKING, a thread whose innermost frame is one of these system calls is waiting (idle
# threads of the JVM and of Spark block in them: a server socket's accept, a read of a pipe such as Python's stdin).
WAITING_SYSCALLS = ("__GI_accept", "accept", "__GI_read", "read", "__poll", "poll", "recv", "nanosleep")


def thread_seconds(stacks, interval_ms):
    """Each thread group's wall-clock seconds in async-profiler's collapsed wall-clock stacks sampled every
    `interval_ms`, split into running (on a CPU, or ready for one) and waiting (a WALL_BLOCKING frame among the
    innermost WALL_INNERMOST, as in wall_breakdown, or one of WAITING_SYSCALLS innermost): {group: {"running",
    "waiting"}} for THREAD_GROUPS' groups that have samples, then OTHER_THREADS, largest running first, rounded to
    0.001. A group's seconds are summed over its threads, so they can exceed the wall time."""
    per = interval_ms / 1000.0
    groups = {}
    for frames, n in stacks:
        group = thread_group(frames)
        waiting = frames[-1] in WAITING_SYSCALLS or blocked(frames)
        g = groups.setdefault(group, {"running": 0, "waiting": 0})
        g["waiting" if waiting else "running"] += n
    order = sorted(groups.items(), key=lambda kv: (kv[0] == OTHER_THREADS, -kv[1]["running"]))
    return {k: {"running": round(v["running"] * per, 3), "waiting": round(v["waiting"] * per, 3)} for k, v in order}


def wall_breakdown(stacks, invocations, interval_ms, top=8):
    """What the driver JVM's threads serving Python's calls (py4j) spent their wall-clock time on, per invocation:
    {"seconds_in_calls", "python_calls": [(Java method Python called, seconds)] (the `top` largest), "waits": {kind:
    seconds} (WALL_WAITS and WALL_RUNNING), "sleeps": [(the method that called Thread.sleep, seconds)] (the `top`
    largest)}, from async-profiler's collapsed wall-clock stacks sampled every `interval_ms`; seconds are summed over
    the samples and divided by `invocations`, rounded to 0.001. Samples outside a call (py4j waiting for Python's next
    command) are not counted: that time is Python's."""
    per = interval_ms / 1000.0 / max(invocations, 1)
    calls, waits, sleeps = {}, {}, {}
    total = 0
    for frames, n in stacks:
        i = python_call_at(frames)
        if i is None:
            continue
        total += n
        target = frames[i + 1] if i + 1 < len(frames) else "(py4j itself)"
        calls[target] = calls.get(target, 0) + n
        kind = WALL_RUNNING
        if blocked(frames):
            joined = ";".join(frames[i:])
            kind = next(name for name, markers in WALL_WAITS if any(m in joined for m in markers))
        waits[kind] = waits.get(kind, 0) + n
        if kind == WALL_WAITS[0][0]:
            k = next(k for k, f in enumerate(frames) if "java/lang/Thread.sleep" in f)
            caller = next((f for f in reversed(frames[:k]) if not f.startswith(("java/", "jdk/"))), "(unknown)")
            sleeps[caller] = sleeps.get(caller, 0) + n

    def secs(v):
        return round(v * per, 3)

    def largest(d):
        return [(k.replace("/", "."), secs(v)) for k, v in sorted(d.items(), key=lambda kv: -kv[1])[:top]]

    return {"seconds_in_calls": secs(total), "python_calls": largest(calls),
            "waits": {name: secs(waits.get(name, 0)) for name in [w for w, _ in WALL_WAITS] + [WALL_RUNNING]},
            "sleeps": largest(sleeps)}
