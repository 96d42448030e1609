# Driver of `make submit FRAMEWORK=X [SCRIPT=path] [EVENT=file.json] [DATA="a.csv b.csv"] [WORKERS=2]`: a local
# rehearsal of a job on a real distributed engine, for when a job outgrows Lambda. Starts Spark's own standalone
# cluster manager (org.apache.spark.deploy.master.Master and N org.apache.spark.deploy.worker.Worker, launched with the
# runtime's spark-class from the pinned .runtime/, each worker with few cores and little memory) and moto's server (S3,
# DynamoDB, Glue), everything bound to 127.0.0.1; uploads the script and DATA as `make invoke` does
# (s3://${BUCKET}/data/<basename>), creates the commit-coordination table (or the Glue database), then runs the script
# with `spark-submit --master spark://127.0.0.1:<port>` on the cluster: the script API (docker/python/sparklambda)
# shipped with --py-files, the event as `--event <json>`, the Spark settings the image would use (its spark-defaults.conf
# from the format's runtime, plus handler/config.py's settings for the same environment: s3a at the local server,
# warehouse, catalog, commit coordination). Every process is stopped at the end, also on failure and Ctrl-C.
#
# The cluster and the driver run as ordinary host processes, not in the Lambda sandbox: a cluster is what a job moves
# to when it leaves Lambda, so Lambda's rules (read-only root, no /dev/fd, one uid) are not the ones to reproduce;
# each process gets its own directories under the run's log directory instead of a private /tmp.
# One cluster can serve jobs of every format: the daemons run on PySpark's own Spark distribution (no table-format
# jar), and each job brings its format's jars (those the format's runtime adds to Spark's) as the executors' class
# path. They are local paths, not --jars: every worker is on this machine, and --jars would copy the 280 MB AWS SDK
# bundle into every executor's work directory per job.
#
# The last line is `submit-summary: <json>` with
#   framework       DELTA | HUDI | ICEBERG
#   exit_status     spark-submit's exit status
#   seconds         wall time of the spark-submit
#   app_id          Spark's application id
#   executors       the ids of the executors that ran tasks, from the job's event log (SparkListenerTaskEnd)
#   tasks           {executor id: tasks it ran}
#   executor_workers {executor id: the id of the worker that ran it} (from the executor's log URLs in the event log)
#   result          the script's RESULT: under spark-submit a script reports it by printing it as one JSON object line
#                   on stdout (as the sample job does); the last such line, or null
#   event_log       the event log file
# Exit status 1 when spark-submit failed.
import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lambda_harness as h  # noqa: E402

sys.path.insert(0, h.PYTHON_DIR)
from handler import config  # noqa: E402  (the handler's own settings, so the job gets what the Lambda gets)

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
DAEMON_HEAP_MIB = 256  # master and worker daemons: they schedule, the executors do the work


def pyspark_home():
    """PySpark's own Spark distribution in the runtime's venv: Spark's jars alone, no table-format jar."""
    homes = glob.glob(os.path.join(h.RUNTIME_DIR, "venv", "lib", "python3*", "site-packages", "pyspark"))
    if len(homes) != 1 or not os.path.isdir(os.path.join(homes[0], "jars")):
        raise RuntimeError(f"no PySpark in {h.RUNTIME_DIR}/venv: run 'make runtime'")
    return homes[0]


def scala_version():
    """Spark's launcher library, which a worker uses to build its executors' command, needs SPARK_SCALA_VERSION in a
    distribution without build directories; stock bin/spark-class sets it (load-spark-env.sh), the runtime's does not
    (the Lambda only runs SparkSubmit): take it from the lock."""
    return h.lock_sh("version", "scala")


def format_jars(framework):
    """The jars the format's runtime adds to Spark's (table format, hadoop-aws + the AWS SDK, the coordination jar)."""
    home = h.runtime_env(framework)["SPARK_HOME"]
    spark_jars = set(os.listdir(os.path.join(pyspark_home(), "jars")))
    return [os.path.realpath(os.path.join(home, "jars", j)) for j in sorted(os.listdir(os.path.join(home, "jars")))
            if j.endswith(".jar") and j not in spark_jars]


def _stop_group(proc, timeout=30):
    """Stops a process started with start_new_session and everything it started (a worker's executors and their
    Python workers): SIGTERM to its process group, then SIGKILL."""
    if proc is None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
            # the leader is gone; its children (executors) may still be exiting: make sure of them too
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            break
        except subprocess.TimeoutExpired:
            continue
        break
    if proc.poll() is None:
        proc.wait()


def _get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.load(resp)


class Cluster:
    """A Spark standalone cluster on 127.0.0.1: one master and `workers` workers of `cores` cores and `memory_mib`
    MiB each, launched with the runtime's spark-class (from the runtime of `framework`, which only supplies Java and
    spark-class: the daemons run on PySpark's Spark distribution). `url` is the master's spark:// URL; `workers` maps
    each worker's web UI port to its id (how an executor's log URL names its worker)."""

    def __init__(self, log_dir, workers=2, cores=1, memory_mib=1024, framework="ICEBERG"):
        self.dir = os.path.join(log_dir, "cluster")
        self.n, self.cores, self.memory_mib, self.framework = workers, cores, memory_mib, framework
        self.port, self.webui_port = h.free_port(), h.free_port()
        self.url = f"spark://127.0.0.1:{self.port}"
        self.procs = []
        self.workers = {}

    def _start(self, name, args, extra_env=None):
        env = h.runtime_env(self.framework)
        spark_class = os.path.join(env["SPARK_HOME"], "bin", "spark-class")
        conf_dir = os.path.join(self.dir, "conf")  # empty: no spark-defaults.conf of the Lambda image here
        os.makedirs(conf_dir, exist_ok=True)
        env.update({k: v for k, v in h._base_env().items() if k != "PATH"})
        env.update(h.DUMMY_CREDENTIALS)  # the machines' credentials, which executors inherit (s3a's default chain)
        env.update({"SPARK_HOME": pyspark_home(), "SPARK_CONF_DIR": conf_dir, "SPARK_LOCAL_IP": "127.0.0.1",
                    "SPARK_LAMBDA_DRIVER_HEAP_MB": str(DAEMON_HEAP_MIB), "SPARK_SCALA_VERSION": scala_version(),
                    **(extra_env or {})})
        env.pop("SPARK_LAMBDA_FRAMEWORK", None)
        log_path = os.path.join(self.dir, f"{name}.log")
        with open(log_path, "ab") as log:
            proc = subprocess.Popen([spark_class, *args], stdout=log, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)
        self.procs.append(proc)
        return proc, log_path

    def __enter__(self):
        try:
            return self._up()
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def _up(self):
        t0 = time.monotonic()
        h.progress(f"starting the Spark standalone master on {self.url} (web UI 127.0.0.1:{self.webui_port})")
        master, log = self._start("master", [MASTER_CLASS, "--host", "127.0.0.1", "--port", str(self.port),
                                             "--webui-port", str(self.webui_port)])
        h.wait_for_port(self.port, master, 120, f"the Spark master (log: {log})")
        for i in range(1, self.n + 1):
            wdir = os.path.join(self.dir, f"worker-{i}")
            os.makedirs(os.path.join(wdir, "local"), exist_ok=True)
            self._start(f"worker-{i}", [WORKER_CLASS, "--host", "127.0.0.1", "--port", str(h.free_port()),
                                        "--webui-port", str(h.free_port()), "--cores", str(self.cores),
                                        "--memory", f"{self.memory_mib}m", "--work-dir", os.path.join(wdir, "work"),
                                        self.url],
                        extra_env={"SPARK_LOCAL_DIRS": os.path.join(wdir, "local")})
        # Ready when the master itself lists every worker as ALIVE (its JSON API).
        deadline = time.monotonic() + 180
        while True:
            dead = [p for p in self.procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"a cluster process exited with {dead[0].returncode}: see the logs in {self.dir}")
            try:
                alive = [w for w in _get_json(f"http://127.0.0.1:{self.webui_port}/json/").get("workers", [])
                         if w.get("state") == "ALIVE"]
            except OSError:
                alive = []
            if len(alive) == self.n:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(alive)} of {self.n} workers registered with the master within 180 s: "
                                   f"see the logs in {self.dir}")
            time.sleep(0.5)
        self.workers = {urllib.parse.urlsplit(w["webuiaddress"]).port: w["id"] for w in alive}
        h.progress(f"cluster up in {time.monotonic() - t0:.1f} s: {self.n} workers x {self.cores} core(s), "
                   f"{self.memory_mib} MiB; logs: {self.dir}")
        return self

    def __exit__(self, *exc):
        for proc in reversed(self.procs):  # workers (and their executors) first, then the master
            _stop_group(proc)
        self.procs = []
        return False


def submit_env(framework, server, bucket, coordination, glue_database):
    """(the driver's environment, the function environment the construct would set) for a job of `framework`."""
    fn_env = h.function_env(framework, server, bucket=bucket,
                            coordination="none" if coordination == "glue" else coordination)
    if coordination == "glue":
        if framework != "ICEBERG":
            raise SystemExit("COORDINATION=glue serves Iceberg tables only (FRAMEWORK=ICEBERG)")
        glue = server.client("glue")
        if glue_database not in [d["Name"] for d in glue.get_databases()["DatabaseList"]]:
            glue.create_database(DatabaseInput={"Name": glue_database})
        fn_env.update({"SPARK_LAMBDA_ICEBERG_CATALOG": "glue", "SPARK_LAMBDA_GLUE_DATABASE": glue_database,
                       "SPARK_LAMBDA_COMMIT_COORDINATION": "glue"})
    env = h.runtime_env(framework)
    env.update({k: v for k, v in h._base_env().items() if k != "PATH"})
    env.update(h.DUMMY_CREDENTIALS)
    env.update(fn_env)
    return env, fn_env


def job_conf(cluster, framework, fn_env, run_dir):
    """The job's Spark settings beyond the format runtime's spark-defaults.conf: handler/config.py's settings for the
    function environment, the cluster's executors and the event log."""
    conf = dict(config.spark_settings({**fn_env, **h.DUMMY_CREDENTIALS}))
    hudi = config.hudi_write_defaults(fn_env)
    if hudi:  # Hudi reads its write defaults from $HUDI_CONF_DIR/hudi-defaults.conf, as the handler writes them
        hudi_dir = os.path.join(run_dir, "hudi-conf")
        os.makedirs(hudi_dir, exist_ok=True)
        with open(os.path.join(hudi_dir, "hudi-defaults.conf"), "w", encoding="utf-8") as f:
            f.write("# Written by locallambda/submit.py from handler/config.py's hudi_write_defaults\n")
            f.writelines(f"{k} {v}\n" for k, v in hudi.items())
        conf["spark.executorEnv.HUDI_CONF_DIR"] = hudi_dir
    conf.update({
        "spark.executor.extraClassPath": ":".join(format_jars(framework)),
        "spark.executor.cores": str(cluster.cores),
        "spark.executor.memory": f"{cluster.memory_mib}m",
        "spark.cores.max": str(cluster.n * cluster.cores),
        # start the job only when every worker's executor has registered, so that the work is spread over all
        "spark.scheduler.minRegisteredResourcesRatio": "1.0",
        "spark.scheduler.maxRegisteredResourcesWaitingTime": "120s",
        # A small input still makes several tasks (about its size / spark.default.parallelism per split instead of
        # one split per file under 4 MiB); large files keep the usual 128 MiB splits.
        "spark.sql.files.openCostInBytes": "8k",
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": "file://" + os.path.join(run_dir, "events"),
        "spark.local.dir": os.path.join(run_dir, "local"),
    })
    return conf, (hudi_dir if hudi else None)


def read_event_log(path, workers):
    """(app id, {executor id: tasks ended on it}, {executor id: worker id}) from a Spark event log."""
    app_id, tasks, executor_workers = None, {}, {}
    with open(path, errors="replace") as f:
        for line in f:
            ev = json.loads(line)
            kind = ev.get("Event")
            if kind == "SparkListenerApplicationStart":
                app_id = ev.get("App ID")
            elif kind == "SparkListenerTaskEnd":
                eid = ev["Task Info"]["Executor ID"]
                tasks[eid] = tasks.get(eid, 0) + 1
            elif kind == "SparkListenerExecutorAdded":
                urls = ev.get("Executor Info", {}).get("Log Urls", {})
                port = urllib.parse.urlsplit(urls.get("stdout", "")).port
                executor_workers[ev["Executor ID"]] = workers.get(port)
    return app_id, tasks, executor_workers


def last_json_object(text):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if isinstance(doc, dict):
                return doc
    return None


def run_job(cluster, framework, server, script, event, log_dir, name, bucket=h.BUCKET, coordination="dynamodb",
            glue_database="spark_lambda_local", timeout=1800):
    """One spark-submit of `script` with `event` on `cluster`; returns the summary (the `submit-summary:` JSON)."""
    run_dir = os.path.join(log_dir, name)
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(os.path.join(run_dir, "events"))
    env, fn_env = submit_env(framework, server, bucket, coordination, glue_database)
    conf, hudi_dir = job_conf(cluster, framework, fn_env, run_dir)
    if hudi_dir:
        env["HUDI_CONF_DIR"] = hudi_dir
    py_files = shutil.make_archive(os.path.join(run_dir, "sparklambda"), "zip", h.PYTHON_DIR, "sparklambda")
    cmd = [os.path.join(env["SPARK_HOME"], "bin", "spark-submit"), "--master", cluster.url, "--py-files", py_files,
           *[a for k, v in conf.items() for a in ("--conf", f"{k}={v}")], script, "--event", json.dumps(event)]
    log_path = os.path.join(run_dir, "driver.log")
    h.progress(f"spark-submit {os.path.relpath(script, h.ROOT)} ({framework}) on {cluster.url}; log: {log_path}")
    t0 = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, env=env, cwd=run_dir,
                                start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except BaseException:  # a timeout, Ctrl-C: the driver (JVM and Python) goes with it
            _stop_group(proc, timeout=10)
            raise
        finally:
            seconds = round(time.monotonic() - t0, 3)
    out = out.decode(errors="replace")
    with open(os.path.join(run_dir, "driver.stdout"), "w") as f:
        f.write(out)
    logs = glob.glob(os.path.join(run_dir, "events", "*"))
    app_id, tasks, executor_workers = read_event_log(logs[0], cluster.workers) if len(logs) == 1 else (None, {}, {})
    return {
        "framework": framework,
        "exit_status": proc.returncode,
        "seconds": seconds,
        "app_id": app_id,
        "executors": sorted((e for e, n in tasks.items() if n), key=lambda e: (len(e), e)),
        "tasks": dict(sorted(tasks.items(), key=lambda kv: (len(kv[0]), kv[0]))),
        "executor_workers": executor_workers,
        "result": last_json_object(out),
        "event_log": logs[0] if len(logs) == 1 else None,
        "stdout": out,
        "log": log_path,
    }


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)  # unwinds the context managers: every process is stopped


def main():
    ap = argparse.ArgumentParser(description="Run a PySpark script with spark-submit on a local Spark standalone "
                                             "cluster against the local S3 server.")
    ap.add_argument("--framework", required=True, choices=list(config.FRAMEWORKS))
    ap.add_argument("--script", default=h.SAMPLE_SCRIPT)
    ap.add_argument("--event", default=os.path.join(h.ROOT, "test", "e2e", "events", "sample.json"))
    ap.add_argument("--data", default="", help="space-separated files uploaded to s3://BUCKET/data/<basename>")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--worker-cores", type=int, default=1)
    ap.add_argument("--worker-memory", type=int, default=1024, help="MiB per worker (its one executor's heap)")
    ap.add_argument("--coordination", default="dynamodb", choices=["dynamodb", "glue", "none"],
                    help="commit coordination (glue: the Iceberg Glue catalog, FRAMEWORK=ICEBERG)")
    ap.add_argument("--log-dir", default=None)
    args = ap.parse_args()
    if args.workers < 1:
        raise SystemExit("WORKERS must be at least 1")
    with open(args.event) as f:
        event = json.loads(f.read().replace("${BUCKET}", h.BUCKET))
    if isinstance(event, dict) and set(event) == {"rounds"}:
        raise SystemExit(f"{args.event}: make submit runs one event (rounds of concurrent events are make invoke's)")
    data = [os.path.abspath(p) for p in args.data.split()]
    for p in data:
        if not os.path.isfile(p):
            raise SystemExit(f"DATA file {p} does not exist")
    log_dir = args.log_dir or tempfile.mkdtemp(prefix="submit-")
    os.makedirs(log_dir, exist_ok=True)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)

    with h.AwsServer(log_dir) as server, Cluster(log_dir, workers=args.workers, cores=args.worker_cores,
                                                 memory_mib=args.worker_memory, framework=args.framework) as cluster:
        h.prepare_bucket(server, os.path.abspath(args.script), data_paths=data)
        s = run_job(cluster, args.framework, server, os.path.abspath(args.script), event, log_dir,
                    f"submit-{args.framework.lower()}", coordination=args.coordination)
    print(s.pop("stdout"), end="")
    log = s.pop("log")
    if s["exit_status"] != 0:
        with open(log, errors="replace") as f:
            print(f"--- driver log (last lines of {log}):\n" + "".join(f.readlines()[-60:]), file=sys.stderr)
    print(f"--- spark-submit exited with {s['exit_status']} in {s['seconds']:.1f} s; tasks per executor "
          f"{s['tasks']} on {s['executor_workers']}; logs: {log_dir}")
    print("submit-summary: " + json.dumps(s))
    return 0 if s["exit_status"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
