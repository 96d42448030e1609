# Driver of `make bench`: one side-by-side measurement, interleaved, of the sample job (read a CSV, MERGE/upsert it
# on `date` into a Hudi/Delta/Iceberg table, count) run three ways, N times each, medians reported (never asserted):
#   A  this function: RIE + awslambdaric + the handler in the Lambda sandbox (lambda_harness), cold (a new execution
#      environment: from its launch, init included, to the first response) and warm (its next invocation);
#   B  a new spark-submit per invocation in the same sandbox: only the format's extensions/catalog and the s3a
#      endpoint/credentials of the local S3 server (an empty SPARK_CONF_DIR: none of docker/conf's tuning);
#   C  the no-JVM peer, warm (bench_peer.py: delta-rs for Delta, pyiceberg for Iceberg; none for Hudi).
# Inputs (bench_lib.window): the sample CSV's size and ~10 MB, windows of consecutive days, so each timed write into a
# table seeded (untimed) with window 0 matches half its keys and inserts the other half. Prints per-phase cold
# timings of A (from the handler's EMF document), peak memory (the sandbox's REPORT line), A's peak at 2048/3008/10240
# MiB for the 10 MB input, and one `bench-summary: {...}` line per format and size.
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_lib as bl  # noqa: E402
import lambda_harness as h  # noqa: E402

CACHE = os.path.join(h.ROOT, ".cache", "bench")
BENCH_PY = os.path.join(h.ROOT, ".venv-bench", "bin", "python")
PEER = os.path.join(h.ROOT, "locallambda", "bench_peer.py")
WAREHOUSE = f"s3://{h.BUCKET}/tables"
MEMORY = 3008  # the construct's DefaultMemorySizeMiB (constructs/sparklambda/props.go)
DEFAULT_TIMEOUT_S = 600  # the construct's DefaultTimeoutSeconds
EMF_PHASES = ("JvmStartSeconds", "SessionSeconds", "ScriptSeconds", "DurationSeconds")


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def world_readable(path):
    for d, _, files in os.walk(path):
        os.chmod(d, 0o755)
        for f in files:
            os.chmod(os.path.join(d, f), 0o644)


def make_inputs(sizes, windows):
    """{size: [csv path of window 0..windows-1]} in .cache/bench/data (deterministic; written when missing)."""
    header, rows = bl.sample_rows(h.SAMPLE_DATA)
    out = {}
    os.makedirs(os.path.join(CACHE, "data"), exist_ok=True)
    for size in sizes:
        n = bl.rows_for(size, len(rows), os.path.getsize(h.SAMPLE_DATA))
        out[size] = []
        for k in range(windows):
            path = os.path.join(CACHE, "data", f"{size}-{n}rows-w{k}.csv")
            if not os.path.exists(path):
                with open(path + ".tmp", "w") as f:
                    f.write(bl.window(header, rows, n, k))
                os.replace(path + ".tmp", path)
            out[size].append(path)
    world_readable(CACHE)
    return out


def report_peak(text):
    """The peak memory (MiB) of the sandbox's last REPORT line in text, or None."""
    m = re.findall(r"lambda-sandbox: REPORT .*?max_memory_used=(\d+)MB", text)
    return int(m[-1]) if m else None


def emf_docs(log_path):
    """The handler's EMF documents (one per invocation) in a function log, in order."""
    docs = []
    with open(log_path, errors="replace") as f:
        for line in f:
            if '"_aws"' in line:
                try:
                    docs.append(json.loads(line[line.index("{"):]))
                except ValueError:
                    pass
    return docs


def event(path, table):
    return {"input": f"s3://{h.BUCKET}/data/{os.path.basename(path)}", "table": table, "warehouse": WAREHOUSE,
            "database": "bench"}


def run_function(fw, env, name, events, memory=MEMORY, cpus=None):
    """A: one new execution environment serving `events` (on the first `cpus` CPUs; None: all). Returns (runs, peak
    MiB): runs[i] = {"seconds" (the first: from the environment's launch, init included), "ok", "emf", "error"}."""
    runs = []
    t0 = time.monotonic()
    with h.LambdaFunction(fw, env, LOG_DIR, memory=memory, name=name, cpus=cpus) as fn:
        for e in events:
            r = fn.invoke(e)
            runs.append({"seconds": round(time.monotonic() - t0 if not runs else r.seconds, 3), "ok": not r.failed,
                         "error": None if not r.failed else f"{r.error_type}: {str(r.error_message)[:500]}"})
    with open(fn.log_path, errors="replace") as f:
        text = f.read()
    for run, doc in zip(runs, emf_docs(fn.log_path)):
        run["emf"] = doc
    for run in runs:
        if not run["ok"]:
            log(f"{name} FAILED: {run['error']}\n{fn.log_tail(40)}")
    return runs, report_peak(text)


def submit_conf(fw, server):
    conf = {
        "spark.driver.bindAddress": "127.0.0.1", "spark.driver.host": "127.0.0.1",  # the sandbox has no hostname
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",  # the function's s3:// paths
        "spark.hadoop.fs.s3a.endpoint": server.url, "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
        "spark.hadoop.fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider",
        "spark.hadoop.fs.s3a.access.key": h.DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "spark.hadoop.fs.s3a.secret.key": h.DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "spark.hadoop.fs.s3a.session.token": h.DUMMY_CREDENTIALS["AWS_SESSION_TOKEN"],
    }
    conf.update({
        "DELTA": {"spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
                  "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog"},
        "HUDI": {"spark.serializer": "org.apache.spark.serializer.KryoSerializer",
                 "spark.kryo.registrator": "org.apache.spark.HoodieSparkKryoRegistrar",
                 "spark.sql.extensions": "org.apache.spark.sql.hudi.HoodieSparkSessionExtension",
                 "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.hudi.catalog.HoodieCatalog"},
        "ICEBERG": {"spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
                    "spark.sql.catalog.lake": "org.apache.iceberg.spark.SparkCatalog",
                    "spark.sql.catalog.lake.type": "hadoop", "spark.sql.catalog.lake.warehouse": WAREHOUSE},
    }[fw])
    return conf


def run_submit(fw, server, ev, name):
    """B: one spark-submit of the job in the sandbox; (whole wall seconds or None, peak MiB)."""
    env = {**h.runtime_env(fw), "HOME": "/tmp", "LANG": "C.UTF-8", **h.DUMMY_CREDENTIALS,
           "SPARK_CONF_DIR": os.path.join(CACHE, "empty-conf"), "SPARK_LAMBDA_FRAMEWORK": fw}
    env["PYTHONPATH"] = ":".join(p for p in (env["RUNTIME_TASK_ROOT"], env.get("PYTHONPATH")) if p)  # sparklambda
    env.pop("SPARK_LAMBDA_CDS_ARCHIVE", None)  # the reference way has no class-data sharing archive
    os.makedirs(env["SPARK_CONF_DIR"], mode=0o755, exist_ok=True)
    args = [a for k, v in submit_conf(fw, server).items() for a in ("--conf", f"{k}={v}")]
    cmd = ["bash", h.SANDBOX, "--memory", str(MEMORY), "--", env["SPARK_HOME"] + "/bin/spark-submit", *args,
           h.SAMPLE_SCRIPT, "--event", json.dumps(ev)]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    seconds = round(time.monotonic() - t0, 3)
    with open(os.path.join(LOG_DIR, f"{name}.log"), "w") as f:
        f.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        log(f"{name} FAILED (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        return None, report_peak(proc.stderr)
    return seconds, report_peak(proc.stderr)


class Peer:
    """C: bench_peer.py for one format in the sandbox, kept running between requests."""

    def __init__(self, fw):
        self.log_path = os.path.join(LOG_DIR, f"peer-{fw.lower()}.log")
        self._log = open(self.log_path, "w")
        with socket.socket() as listener:  # the sandbox gives a command no stdin: requests go over 127.0.0.1
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            listener.settimeout(300)
            self.proc = subprocess.Popen(
                ["bash", h.SANDBOX, "--memory", str(MEMORY), "--tmp-size", "2048", "--", BENCH_PY, PEER, fw,
                 "/tmp/peer", str(listener.getsockname()[1])], stdout=self._log, stderr=subprocess.STDOUT,
                env=h._base_env())
            self.conn = listener.accept()[0]
        self.stream = self.conn.makefile("rw")
        if self.stream.readline().strip() != "peer-ready":
            raise RuntimeError(f"the {fw} peer did not start: see {self.log_path}")

    def run(self, path, table, seed=False):
        self.stream.write(json.dumps({"input": path, "table": table, "seed": seed}) + "\n")
        self.stream.flush()
        line = self.stream.readline()
        out = json.loads(line.split("peer-result: ", 1)[1]) if line.startswith("peer-result: ") else {"error": line}
        if "error" in out:
            log(f"peer {table} FAILED: {out['error']}")
        return out.get("seconds")

    def close(self):
        self.stream.close()
        self.conn.close()
        self.proc.wait(60)
        self._log.close()
        with open(self.log_path) as f:
            return report_peak(f.read())


# --jvm-variants: the driver JVM's GC and JIT flags (docker/spark-class's SPARK_LAMBDA_DRIVER_JVM_FLAGS, which
# replaces the image's choice), measured on A alone, cold and warm, on 1 CPU at the construct's minimum memory and on
# 2 CPUs at its default (Lambda gives 1 vCPU per 1,769 MiB). "jvm-ergonomics" is no flag: the JVM picks G1 on 2+ CPUs
# and Serial on 1 (a machine with fewer than 2 CPUs is not "server class").
JVM_VARIANTS = {
    "jvm-ergonomics": "",
    "serial-gc": "-XX:+UseSerialGC",
    "c1-only": "-XX:TieredStopAtLevel=1",
    "serial-gc+c1-only": "-XX:+UseSerialGC -XX:TieredStopAtLevel=1",
    "parallel-gc+c1-only": "-XX:+UseParallelGC -XX:TieredStopAtLevel=1",
}
CPU_SHAPES = ((1, 2048), (2, MEMORY))  # (CPUs, function memory MiB)
JVM_WARM_RUNS = 3  # warm invocations per environment after its cold one
# ... and the driver heap's share of the function memory (docker/spark-class: 65% unless SPARK_LAMBDA_DRIVER_HEAP_MB),
# on the 10 MB input at the construct's minimum memory, where the rest (Python, metaspace, code cache, threads,
# direct buffers, and the sandbox's /tmp tmpfs) is tightest: a share too large is killed by the memory limit, one
# too small runs out of heap.
HEAP_SHARES = (0.5, 0.65, 0.8)
HEAP_MEMORY = 2048


def jvm_variants(args, frameworks):
    """The --jvm-variants measurement: per format, CPU shape and variant, interleaved, `args.runs` environments of one
    cold and JVM_WARM_RUNS warm upserts of the small input into the variant's own seeded table. Prints medians and one
    `bench-jvm: {...}` line each; returns the exit status."""
    per_env = 1 + JVM_WARM_RUNS
    inputs = make_inputs(["small"], 1 + args.runs * per_env)["small"]
    big = make_inputs(["10mb"], 1 + args.runs)["10mb"]
    log(f"JVM flag variants {list(JVM_VARIANTS)} on {frameworks}, CPUs/memory {CPU_SHAPES}, {args.runs} run(s) of "
        f"1 cold + {JVM_WARM_RUNS} warm; logs: {LOG_DIR}")
    keys = [(fw, c, m, v) for fw in frameworks for c, m in CPU_SHAPES for v in JVM_VARIANTS]
    res = {k: {"cold": [], "warm": [], "jvm": []} for k in keys}
    heap = {}  # (format, share): cold seconds, peaks, errors (an error here is a finding, not a bench failure)
    failed = False
    with h.AwsServer(LOG_DIR) as server:
        h.prepare_bucket(server, h.SAMPLE_SCRIPT, data_paths=inputs + big)
        envs = {fw: h.function_env(fw, server) for fw in frameworks}
        table = {k: f"jvm_{k[1]}cpu_{k[3].replace('-', '_').replace('+', '_')}" for k in keys}
        heap_table = {share: f"heap_{round(share * 100)}" for share in HEAP_SHARES}
        for fw in frameworks:
            log(f"{fw}: seeding {len(keys) // len(frameworks) + len(HEAP_SHARES)} tables (untimed)")
            runs, _ = run_function(fw, envs[fw], f"seed-jvm-{fw.lower()}",
                                   [event(inputs[0], table[k]) for k in keys if k[0] == fw] +
                                   [event(big[0], t) for t in heap_table.values()])
            failed |= not all(r["ok"] for r in runs)
        for run in range(args.runs):
            for k in keys:
                fw, cpus, mem, variant = k
                first = 1 + run * per_env
                env = {**envs[fw], "SPARK_LAMBDA_DRIVER_JVM_FLAGS": JVM_VARIANTS[variant]}
                runs, _ = run_function(fw, env, f"jvm-{fw.lower()}-{cpus}cpu-{variant}-r{run + 1}",
                                       [event(inputs[first + i], table[k]) for i in range(per_env)], memory=mem,
                                       cpus=cpus)
                failed |= not all(r["ok"] for r in runs)
                r = res[k]
                if runs[0]["ok"]:
                    r["cold"].append(runs[0]["seconds"])
                    r["jvm"].append(bl.emf_value(runs[0].get("emf", {}), "JvmStartSeconds"))
                r["warm"] += [x["seconds"] for x in runs[1:] if x["ok"]]
                log(f"{fw} {cpus} CPU(s) {variant} run {run + 1}: cold {fmt_s(runs[0]['seconds'])}, warm "
                    f"{[x['seconds'] for x in runs[1:]]}")
            for fw in frameworks:
                for share in HEAP_SHARES:
                    heap_mib = int(HEAP_MEMORY * share)
                    env = {**envs[fw], "SPARK_LAMBDA_DRIVER_HEAP_MB": str(heap_mib)}
                    runs, peak = run_function(fw, env, f"heap-{fw.lower()}-{round(share * 100)}-r{run + 1}",
                                              [event(big[1 + run], heap_table[share])], memory=HEAP_MEMORY)
                    r = heap.setdefault((fw, share), {"cold": [], "peak": [], "errors": []})
                    if runs[0]["ok"]:
                        r["cold"].append(runs[0]["seconds"])
                    else:
                        r["errors"].append(runs[0]["error"][:200])
                    r["peak"].append(peak)
                    log(f"{fw} heap {heap_mib} MiB of {HEAP_MEMORY} run {run + 1}: "
                        f"{fmt_s(runs[0]['seconds']) if runs[0]['ok'] else runs[0]['error'][:200]}, peak {peak} MiB")
    print("\n--- JVM flag variants (SPARK_LAMBDA_DRIVER_JVM_FLAGS): medians, small input (reported, not asserted)")
    for k in keys:
        fw, cpus, mem, variant = k
        r = res[k]
        line = {"format": fw, "cpus": cpus, "memory_mib": mem, "variant": variant, "flags": JVM_VARIANTS[variant],
                "cold_s": bl.median(r["cold"]), "warm_s": bl.median(r["warm"]),
                "jvm_start_s": bl.median(r["jvm"])}
        print("bench-jvm: " + json.dumps(line))
    print(f"--- driver heap share of {HEAP_MEMORY} MiB, 10 MB input, cold: medians, peak memory (the sandbox's /tmp "
          f"tmpfs included), failures")
    for (fw, share), r in heap.items():
        line = {"format": fw, "memory_mib": HEAP_MEMORY, "heap_share": share, "heap_mib": int(HEAP_MEMORY * share),
                "cold_s": bl.median(r["cold"]), "peak_mib": max(filter(None, r["peak"]), default=None),
                "failed": len(r["errors"]), "errors": r["errors"]}
        print("bench-heap: " + json.dumps(line))
    return 1 if failed else 0


def jvm_event_log(name):
    """The Spark event log of the JVM in the running sandbox of function `name`, or ""."""
    tmp = h.sandbox_tmp(name)
    logs = [e for e in os.listdir(tmp) if e.startswith(("local-", "app-"))] if tmp else []
    if logs:
        with open(os.path.join(tmp, sorted(logs)[-1]), errors="replace") as f:
            return f.read()
    return ""


# --profile: Spark's event log, written to the sandbox's /tmp (a local file is flushed at each job and stage end).
PROFILE_SUBMIT_ARGS = "--conf spark.eventLog.enabled=true --conf spark.eventLog.dir=file:/tmp pyspark-shell"


def profile_mode(frameworks, sizes):
    """--profile: per format and size, one environment of a cold and two warm upserts with Spark's event log on;
    prints, per invocation, its seconds inside Spark jobs and outside them and its longest jobs. Returns the exit
    status. The event log costs a little itself: read the split, not the totals."""
    inputs = make_inputs(sizes, 4)
    failed = False
    with h.AwsServer(LOG_DIR) as server:
        h.prepare_bucket(server, h.SAMPLE_SCRIPT, data_paths=[p for s in sizes for p in inputs[s]])
        for fw in frameworks:
            env = {**h.function_env(fw, server), "PYSPARK_SUBMIT_ARGS": PROFILE_SUBMIT_ARGS}
            for s in sizes:
                name = f"profile-{fw.lower()}-{s}"
                windows = []
                with h.LambdaFunction(fw, env, LOG_DIR, name=name) as fn:
                    fn.invoke(event(inputs[s][0], f"profile_{s}"))  # seed (cold), untimed
                    for k in (1, 2, 3):
                        t0 = time.time()
                        r = fn.invoke(event(inputs[s][k], f"profile_{s}"))
                        windows.append((int(t0 * 1000), int(time.time() * 1000), r))
                        failed |= r.failed
                    events = bl.spark_events(jvm_event_log(name))
                print(f"\n--- profile {fw} {s} ({len(events)} events; the table seeded by a cold run first)")
                for k, (a, b, r) in enumerate(windows, 1):
                    p = bl.profile(events, a, b)
                    print(f"warm {k}: {p['window_s']} s: in Spark jobs {p['in_jobs_s']} s ({len(p['jobs'])} jobs, "
                          f"{sum(j['tasks'] for j in p['jobs'])} tasks), outside jobs {p['outside_jobs_s']} s"
                          f"{' FAILED: ' + str(r.error_message)[:300] if r.failed else ''}")
                    for j in sorted(p["jobs"], key=lambda j: -j["seconds"])[:10]:
                        print(f"  {j['seconds']:7.3f} s  {j['stages']} stage(s) {j['tasks']:4d} task(s)  "
                              f"{j['what'][:110]}")
    return 1 if failed else 0


# --cpu-profile: async-profiler (locallambda/bench-tools.lock, fetched by make bench into TOOLS) inside the driver JVM,
# started and stopped by two small scripts the handler runs like any other (swapped in at the script's key: the
# handler fetches a script again when its ETag changes), so only the warm invocations between them are sampled.
TOOLS = os.path.join(CACHE, "tools")
CPU_WARM_RUNS = 3
# CPU time (itimer: no perf events needed, which the sandbox's user namespace does not allow), every
# CPU_SAMPLE_MS, per thread.
CPU_SAMPLE_MS = 2
CPU_PROFILER_START = f"start,event=itimer,interval={CPU_SAMPLE_MS}ms,threads"
# --wall-profile: wall-clock time instead (every thread sampled whether it runs or waits), every WALL_SAMPLE_MS.
WALL_SAMPLE_MS = 5
WALL_PROFILER_START = f"start,event=wall,interval={WALL_SAMPLE_MS}ms,threads"
PROFILER_SCRIPT = """# make bench --cpu-profile / --wall-profile / --cold-profile: runs one async-profiler command in this JVM.
# The profiler's Java API is loaded from its jar by a class loader of its own instead of from the driver's class path:
# the JVM maps the class-data sharing archive only with the class path it was made with, and a deployed function
# runs with the archive. The instance is kept in the JVM's system properties, because a second class loader cannot
# load the same native library again.
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
gateway = spark.sparkContext._gateway
jvm = gateway.jvm
properties = jvm.java.lang.System.getProperties()
profiler = properties.get("bench.async-profiler")
if profiler is None:
    urls = gateway.new_array(jvm.java.net.URL, 1)
    urls[0] = jvm.java.io.File({jar!r}).toURI().toURL()
    api = jvm.java.lang.Class.forName("one.profiler.AsyncProfiler", True, jvm.java.net.URLClassLoader(urls))
    types = gateway.new_array(jvm.java.lang.Class, 1)
    types[0] = jvm.java.lang.Class.forName("java.lang.String")
    args = gateway.new_array(jvm.java.lang.Object, 1)
    args[0] = {lib!r}
    profiler = api.getMethod("getInstance", types).invoke(None, args)
    properties.put("bench.async-profiler", profiler)
RESULT = {{"profiler": str(profiler.execute({command!r}))}}
"""


def profiler_files():
    """(jar, native library) of async-profiler: the jar make bench fetched, its linux-x64 library extracted next to
    it (world-readable: the sandbox's JVM runs as another user)."""
    import zipfile

    ga, version, _ = h.lock_sh("jars", "COMMON", lock=os.path.join(h.ROOT, "locallambda", "bench-tools.lock")).split()
    jar = os.path.join(TOOLS, f"{ga.split(':')[1]}-{version}.jar")
    if not os.path.isfile(jar):
        raise SystemExit(f"{jar} is missing: run --cpu-profile through make bench, which fetches it")
    lib = os.path.join(TOOLS, f"linux-x64-{version}", "libasyncProfiler.so")
    if not os.path.isfile(lib):
        with zipfile.ZipFile(jar) as z:
            data = z.read("linux-x64/libasyncProfiler.so")
        os.makedirs(os.path.dirname(lib), exist_ok=True)
        with open(lib + ".tmp", "wb") as f:
            f.write(data)
        os.replace(lib + ".tmp", lib)
    world_readable(TOOLS)
    return jar, lib


def profiler_command(server, fn, jar, lib, command, job):
    """Runs one async-profiler `command` in fn's driver JVM: PROFILER_SCRIPT swapped in at the script's key for one
    invocation, then the job (bytes) put back. Raises RuntimeError when the invocation fails."""
    server.client().put_object(Bucket=h.BUCKET, Key=h.SCRIPT_KEY,
                               Body=PROFILER_SCRIPT.format(jar=jar, lib=lib, command=command).encode())
    r = fn.invoke({})
    server.client().put_object(Bucket=h.BUCKET, Key=h.SCRIPT_KEY, Body=job)
    if r.failed:
        raise RuntimeError(f"async-profiler '{command}' failed: {str(r.error_message)[:2000]}")


def print_wall_breakdown(b):
    """Prints bench_lib.wall_breakdown's result: Python's calls, what they waited for, who slept."""
    print("calls:     " + ", ".join(f"{k} {v} s" for k, v in b["python_calls"]))
    print("waits:     " + ", ".join(f"{k} {v} s" for k, v in b["waits"].items()))
    print("sleeps:    " + (", ".join(f"{k} {v} s" for k, v in b["sleeps"]) or "none"))


def cpu_profile_mode(frameworks, sizes, wall=False):
    """--cpu-profile: per format and size, one environment: a cold seed and a first warm upsert (unsampled), then
    CPU_WARM_RUNS warm upserts sampled by async-profiler in the driver JVM; prints where their CPU went (thread
    groups, categories by frame, the Java calls Python made) and one `bench-cpu: {...}` line each. With `wall`
    (--wall-profile) it samples wall-clock time instead and prints, per upsert, the seconds of each Java call Python
    made, what those calls waited for (Spark jobs, the network, sleeps and who slept) and one `bench-wall: {...}` line
    each. The collapsed stacks are kept in the log directory (for a flame graph: async-profiler's own converter).
    Returns the exit status."""
    jar, lib = profiler_files()
    inputs = make_inputs(sizes, 2 + CPU_WARM_RUNS)
    failed = False
    with h.AwsServer(LOG_DIR) as server:
        h.prepare_bucket(server, h.SAMPLE_SCRIPT, data_paths=[p for s in sizes for p in inputs[s]])
        with open(h.SAMPLE_SCRIPT, "rb") as f:
            job = f.read()

        for fw in frameworks:
            env = h.function_env(fw, server)  # the class path, and with it the archive, as deployed
            for s in sizes:
                name = f"cpu-{fw.lower()}-{s}"
                table = f"cpu_{s}"
                seconds = []
                with h.LambdaFunction(fw, env, LOG_DIR, name=name) as fn:
                    for k in (0, 1):  # the seed (cold) and the first upsert: unsampled
                        r = fn.invoke(event(inputs[s][k], table))
                        failed |= r.failed
                    profiler_command(server, fn, jar, lib, WALL_PROFILER_START if wall else CPU_PROFILER_START, job)
                    for k in range(2, 2 + CPU_WARM_RUNS):
                        r = fn.invoke(event(inputs[s][k], table))
                        failed |= r.failed
                        seconds.append(round(r.seconds, 3))
                    profiler_command(server, fn, jar, lib, "stop,file=/tmp/cpu.collapsed,collapsed", job)
                    with open(os.path.join(h.sandbox_tmp(name), "cpu.collapsed")) as f:
                        text = f.read()
                kept = os.path.join(LOG_DIR, f"{name}{'-wall' if wall else ''}.collapsed")
                with open(kept, "w") as f:
                    f.write(text)
                if wall:
                    b = bl.wall_breakdown(bl.collapsed_stacks(text), CPU_WARM_RUNS, WALL_SAMPLE_MS)
                    mean = round(sum(seconds) / len(seconds), 3)
                    print(f"\n--- wall-clock profile {fw} {s}: {CPU_WARM_RUNS} warm upserts ({', '.join(map(str, seconds))} "
                          f"s, mean {mean} s), per upsert: {b['seconds_in_calls']} s in Python's calls into the JVM, "
                          f"the rest in Python and the handler; stacks: {kept}")
                    print_wall_breakdown(b)
                    print("bench-wall: " + json.dumps({"format": fw, "size": s, "warm_s": seconds, **b}))
                    continue
                b = bl.cpu_breakdown(bl.collapsed_stacks(text))
                print(f"\n--- cpu profile {fw} {s}: {CPU_WARM_RUNS} warm upserts ({', '.join(map(str, seconds))} s), "
                      f"{b['samples']} samples of the driver JVM's CPU ({CPU_SAMPLE_MS} ms each); stacks: {kept}")
                print("threads:   " + ", ".join(f"{k} {v}%" for k, v in b["threads"].items()))
                print("what:      " + ", ".join(f"{k} {v}%" for k, v in b["categories"].items() if v))
                print("from Python: " + ", ".join(f"{k} {v}%" for k, v in b["python_calls"]))
                print("bench-cpu: " + json.dumps({"format": fw, "size": s, "warm_s": seconds, **b}))
    return 1 if failed else 0


# --cold-profile: async-profiler loaded as an agent when the driver JVM starts, through SPARK_SUBMIT_OPTS (spark-class
# puts it before its own options, so the class path, the class-data sharing archive and the image's JIT/GC flags stay as
# deployed), sampling every thread's wall-clock time from the JVM's launch; PROFILER_SCRIPT dumps it after the cold
# upsert.
COLD_PROFILER_AGENT = "-agentpath:{lib}=start,event=wall,interval=" + str(WALL_SAMPLE_MS) + "ms,threads"


def cold_profile_mode(frameworks, sizes):
    """--cold-profile: per format and size, a table seeded (untimed) in one environment, then one new environment
    whose driver JVM runs async-profiler from its launch (COLD_PROFILER_AGENT): one cold upsert, then the profile is
    dumped. Prints the cold seconds, what Python's calls into the JVM waited for (as --wall-profile does for warm
    upserts), each thread group's running and waiting seconds (JIT compilation, garbage collection and executor
    tasks compete for the CPUs with the driver), and one `bench-cold: {...}` line each; keeps the collapsed stacks in
    the log directory. Returns the exit status."""
    jar, lib = profiler_files()
    inputs = make_inputs(sizes, 2)
    failed = False
    with h.AwsServer(LOG_DIR) as server:
        h.prepare_bucket(server, h.SAMPLE_SCRIPT, data_paths=[p for s in sizes for p in inputs[s]])
        with open(h.SAMPLE_SCRIPT, "rb") as f:
            job = f.read()
        for fw in frameworks:
            env = h.function_env(fw, server)
            for s in sizes:
                name = f"cold-{fw.lower()}-{s}"
                table = f"cold_{s}"
                seed, _ = run_function(fw, env, f"{name}-seed", [event(inputs[s][0], table)])
                failed |= not seed[0]["ok"]
                t0 = time.monotonic()
                with h.LambdaFunction(fw, {**env, "SPARK_SUBMIT_OPTS": COLD_PROFILER_AGENT.format(lib=lib)}, LOG_DIR,
                                      name=name) as fn:
                    r = fn.invoke(event(inputs[s][1], table))
                    cold = round(time.monotonic() - t0, 3)
                    failed |= r.failed
                    profiler_command(server, fn, jar, lib, "stop,file=/tmp/cold.collapsed,collapsed", job)
                    with open(os.path.join(h.sandbox_tmp(name), "cold.collapsed")) as f:
                        text = f.read()
                kept = os.path.join(LOG_DIR, f"{name}.collapsed")
                with open(kept, "w") as f:
                    f.write(text)
                stacks = bl.collapsed_stacks(text)
                b = bl.wall_breakdown(stacks, 1, WALL_SAMPLE_MS)
                threads = bl.thread_seconds(stacks, WALL_SAMPLE_MS)
                print(f"\n--- cold-start profile {fw} {s}: {cold} s from the environment's launch"
                      f"{' FAILED: ' + str(r.error_message)[:300] if r.failed else ''}; {b['seconds_in_calls']} s in "
                      f"Python's calls into the JVM; stacks: {kept}")
                print_wall_breakdown(b)
                print("threads:   " + ", ".join(f"{k} {v['running']} s running / {v['waiting']} s waiting"
                                                for k, v in threads.items()))
                print("bench-cold: " + json.dumps({"format": fw, "size": s, "cold_s": cold, **b, "threads": threads}))
    return 1 if failed else 0


def fmt_s(v):
    return "n/a" if v is None else f"{v:.2f} s"


def main():
    global LOG_DIR
    ap = argparse.ArgumentParser(description="Side-by-side timings of the sample job: this function (cold, warm), "
                                             "spark-submit, the no-JVM peer.")
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS") or 3))
    ap.add_argument("--frameworks", default=os.environ.get("BENCH_FRAMEWORKS"))
    ap.add_argument("--sizes", default=os.environ.get("BENCH_SIZES") or "small,10mb")
    ap.add_argument("--quick", action="store_true", help="1 run, small input only, one format (the first given, "
                                                         "DELTA by default)")
    ap.add_argument("--jvm-variants", action="store_true",
                    help="instead: the driver's GC/JIT flag variants, A only, cold and warm, on 1 and 2 CPUs")
    ap.add_argument("--profile", action="store_true",
                    help="instead: where warm invocations spend their time, from Spark's event log")
    ap.add_argument("--cpu-profile", action="store_true",
                    help="instead: where warm invocations spend the driver JVM's CPU, sampled by async-profiler")
    ap.add_argument("--wall-profile", action="store_true",
                    help="instead: what Python's calls into the driver JVM wait for in warm invocations (async-profiler, "
                         "wall clock)")
    ap.add_argument("--cold-profile", action="store_true",
                    help="instead: where a cold upsert's time goes, async-profiler (wall clock) from the driver JVM's "
                         "launch")
    ap.add_argument("--log-dir", default=os.path.join(CACHE, "logs"), help="emptied first (default .cache/bench/logs)")
    args = ap.parse_args()
    given = args.frameworks is not None
    frameworks = [f.upper() for f in re.split(r"[ ,]+", (args.frameworks or ",".join(bl.FORMATS)).strip()) if f]
    sizes = [s for s in re.split(r"[ ,]+", args.sizes.strip()) if s]
    if args.quick:
        frameworks = frameworks[:1] if given else ["DELTA"]
        sizes, args.runs = ["small"], 1
    bad = [f for f in frameworks if f not in bl.FORMATS] + [s for s in sizes if s not in bl.SIZES]
    if bad or args.runs < 1:
        raise SystemExit(f"unknown format/size {bad} or runs < 1 (formats {bl.FORMATS}, sizes {list(bl.SIZES)})")
    mem_sizes = (2048, 3008, 10240) if "10mb" in sizes and not args.quick else ()
    LOG_DIR = os.path.abspath(args.log_dir)
    shutil.rmtree(LOG_DIR, ignore_errors=True)  # the function logs are appended to and parsed for EMF documents
    os.makedirs(LOG_DIR)
    world_readable(CACHE)
    if args.jvm_variants:
        return jvm_variants(args, frameworks)
    if args.profile:
        return profile_mode(frameworks, sizes)
    if args.cold_profile:
        return cold_profile_mode(frameworks, sizes)
    if args.cpu_profile or args.wall_profile:
        return cpu_profile_mode(frameworks, sizes, wall=args.wall_profile)
    inputs = make_inputs(sizes, args.runs + 1 + len(mem_sizes))
    log(f"formats {frameworks}, sizes {sizes}, {args.runs} run(s), function memory {MEMORY} MiB; logs: {LOG_DIR}")

    res = {(fw, s): {"cold": [], "warm": [], "submit": [], "peer": [], "phases": [], "peak_fn": [], "peak_submit": [],
                     "peak_peer": None} for fw in frameworks for s in sizes}
    failed = False
    with h.AwsServer(LOG_DIR) as server:
        h.prepare_bucket(server, h.SAMPLE_SCRIPT, data_paths=[p for s in sizes for p in inputs[s]])
        envs = {fw: h.function_env(fw, server) for fw in frameworks}
        peers = {fw: Peer(fw) for fw in frameworks if fw != "HUDI"}
        # Untimed seeds (window 0): the function's tables (cold, warm) and spark-submit's, in one environment per
        # format (same warehouse and catalog as spark-submit's), and the peer's.
        for fw in frameworks:
            seeds = [event(inputs[s][0], f"{kind}_{s}") for s in sizes for kind in ("cold", "warm", "submit")]
            log(f"{fw}: seeding {len(seeds)} tables (untimed)")
            runs, _ = run_function(fw, envs[fw], f"seed-{fw.lower()}", seeds)
            failed |= not all(r["ok"] for r in runs)
            for s in sizes:
                if fw in peers:
                    peers[fw].run(inputs[s][0], f"peer_{s}", seed=True)
        for k in range(1, args.runs + 1):
            for fw in frameworks:
                for s in sizes:
                    r = res[(fw, s)]
                    tag = f"{fw} {s} run {k}"
                    runs, peak = run_function(fw, envs[fw], f"{fw.lower()}-{s}-r{k}",
                                              [event(inputs[s][k], f"cold_{s}"), event(inputs[s][k], f"warm_{s}")])
                    failed |= not all(x["ok"] for x in runs)
                    if runs[0]["ok"]:
                        r["cold"].append(runs[0]["seconds"])
                        r["phases"].append(runs[0].get("emf", {}))
                    if runs[1]["ok"]:
                        r["warm"].append(runs[1]["seconds"])
                    r["peak_fn"].append(peak)
                    sub, speak = run_submit(fw, server, event(inputs[s][k], f"submit_{s}"), f"submit-{fw.lower()}-{s}-r{k}")
                    failed |= sub is None
                    r["submit"].append(sub)
                    r["peak_submit"].append(speak)
                    if fw in peers:
                        r["peer"].append(peers[fw].run(inputs[s][k], f"peer_{s}"))
                    log(f"{tag}: A cold {fmt_s(runs[0]['seconds'] if runs[0]['ok'] else None)}, "
                        f"A warm {fmt_s(runs[1]['seconds'] if runs[1]['ok'] else None)}, B spark-submit {fmt_s(sub)}, "
                        f"C peer {fmt_s(r['peer'][-1] if r['peer'] else None)}")
        mem = {}
        for fw in frameworks:
            for i, m in enumerate(mem_sizes):
                runs, peak = run_function(fw, envs[fw], f"{fw.lower()}-10mb-{m}mib",
                                          [event(inputs["10mb"][args.runs + 1 + i], "cold_10mb")], memory=m)
                mem[(fw, m)] = (runs[0]["seconds"] if runs[0]["ok"] else None, peak)
        for fw, p in peers.items():
            peak = p.close()
            for s in sizes:
                res[(fw, s)]["peak_peer"] = peak

    print("\n--- per format and size: medians (reported, not asserted)")
    lines = []
    for (fw, s), r in res.items():
        cold, warm, sub, peer = (bl.median(r[k]) for k in ("cold", "warm", "submit", "peer"))
        print(f"{fw} {s}: A cold {fmt_s(cold)}, A warm {fmt_s(warm)}, B spark-submit {fmt_s(sub)}, "
              f"C peer {fmt_s(peer) if fw != 'HUDI' else 'none (no Hudi writer without a JVM)'}")
        ph = {p: bl.median([bl.emf_value(d, p) for d in r["phases"]]) for p in EMF_PHASES + ("spark_startup_s",)}
        init = round(cold - ph["DurationSeconds"], 3) if cold is not None and ph["DurationSeconds"] else None
        print(f"  A cold phases: launch to handler start (sandbox, RIE, init phase) {fmt_s(init)}; handler "
              f"{fmt_s(ph['DurationSeconds'])} = JVM up (JvmStartSeconds) {fmt_s(ph['JvmStartSeconds'])}, "
              f"session ready (SessionSeconds, from asking) {fmt_s(ph['SessionSeconds'])}, "
              f"job (ScriptSeconds) {fmt_s(ph['ScriptSeconds'])}; spark_startup_s {ph['spark_startup_s']}. "
              f"First action and commit are not separable: they are inside ScriptSeconds (table_job.py reports no "
              f"per-step timings)")
        print(f"  peak memory (MiB): A environment (cold + warm) {max(filter(None, r['peak_fn']), default=None)}, "
              f"B spark-submit {max(filter(None, r['peak_submit']), default=None)}, C peer process "
              f"{r['peak_peer'] if fw != 'HUDI' else 'n/a'}")
        lines.append(bl.summary_line(bl.summary(fw, s, cold, warm, sub, peer)))
    if "small" in sizes and "10mb" in sizes:
        # What the EMR Serverless routing threshold (RouteLargeInputsTo's ThresholdMiB) rests on: the measured
        # function memory is the construct's default (DefaultMemorySizeMiB), so its default timeout applies.
        print(f"--- routing: the input at which a cold invocation of the default function ({MEMORY} MiB) would reach "
              f"half its {DEFAULT_TIMEOUT_S} s timeout, projected linearly from the small and 10 MB medians")
        small_b, big_b = os.path.getsize(inputs["small"][1]), os.path.getsize(inputs["10mb"][1])
        for fw in frameworks:
            small, big = res[(fw, "small")], res[(fw, "10mb")]
            b = bl.projected_input_bytes(small_b, bl.median(small["warm"]), big_b, bl.median(big["warm"]),
                                         bl.median(big["cold"]), DEFAULT_TIMEOUT_S / 2)
            per_mib = (None if None in (bl.median(small["warm"]), bl.median(big["warm"])) else
                       (bl.median(big["warm"]) - bl.median(small["warm"])) / ((big_b - small_b) / 2 ** 20))
            print(f"{fw}: {'n/a' if per_mib is None else f'{per_mib:.2f} s'} per MiB of input beyond the fixed "
                  f"cost; half the timeout at {'n/a' if b is None else f'~{b // 2 ** 20:,} MiB'}")
    if mem:
        print("--- A, 10 MB input, one cold invocation per function memory: seconds, peak memory")
        for (fw, m), (sec, peak) in mem.items():
            print(f"{fw} {m} MiB: {fmt_s(sec)}, peak {peak} MiB")
    for line in lines:
        print(line)
    return 1 if failed else 0


LOG_DIR = None

if __name__ == "__main__":
    sys.exit(main())
