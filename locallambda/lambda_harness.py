# Local Lambda harness for `make invoke` and the end-to-end tests: moto's server on 127.0.0.1 (a real S3-compatible
# server, with the DynamoDB and Glue APIs of the same process for commit coordination and the Iceberg Glue catalog),
# and a "function": the Runtime Interface Emulator + awslambdaric + the handler package (docker/python) running inside
# locallambda/lambda-sandbox.sh (Lambda's rules), invoked over HTTP through the Runtime API's Invoke endpoint.
# Only 127.0.0.1 is ever contacted; every process started here is stopped by the context managers.
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
VENV = os.environ.get("E2E_VENV", os.path.join(ROOT, ".venv-e2e"))
RIE = os.path.join(VENV, "bin", "aws-lambda-rie")
LAMBDA_BASE = os.path.join(VENV, "lambda-base")
SANDBOX = os.path.join(ROOT, "locallambda", "lambda-sandbox.sh")
RUNTIME_DIR = os.environ.get("RUNTIME_DIR", os.path.join(ROOT, ".runtime"))
PYTHON_DIR = os.path.join(ROOT, "docker", "python")  # the image's Python packages (the source of the task root)


def lock_sh(*args, lock=None):
    """stdout of docker/lock.sh (the one reader of the version lock) with `args`, stripped; `lock`: another lock file
    of the same format (VERSIONS_LOCK) instead of docker/versions.lock. Raises CalledProcessError when it fails."""
    env = {**os.environ, "VERSIONS_LOCK": lock} if lock else None
    return subprocess.run(["sh", os.path.join(ROOT, "docker", "lock.sh"), *args], check=True, capture_output=True,
                          text=True, env=env).stdout.strip()


INVOKE_PATH = "/2015-03-31/functions/function/invocations"
# Role-like dummy credentials: the moto server accepts any; s3a and boto3 read them from the environment.
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ASIAE2ETESTKEY000000",
    "AWS_SECRET_ACCESS_KEY": "e2e-test-secret-not-a-real-key",
    "AWS_SESSION_TOKEN": "e2e-test-session-token",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def progress(msg):
    print(f"[e2e {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening on 127.0.0.1:{port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s")


def _stop(proc, timeout=20):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class AwsServer:
    """moto's server on 127.0.0.1:<free port>, in its own process: S3, DynamoDB and Glue on one endpoint (moto routes
    each request by its signature's service)."""

    def __init__(self, log_dir):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(log_dir, "aws-server.log")
        self.proc = None

    def __enter__(self):
        progress(f"starting the S3/DynamoDB/Glue server (moto) on {self.url}")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(VENV, "bin", "python"), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, env={**_base_env(), **DUMMY_CREDENTIALS},
        )
        log.close()
        wait_for_port(self.port, self.proc, 60, "the moto server")
        return self

    def __exit__(self, *exc):
        _stop(self.proc)
        return False

    def client(self, service="s3"):
        import boto3

        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])

    def list_keys(self, bucket, prefix=""):
        keys = []
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
        return keys


def _base_env():
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp"}


def function_processes(name):
    """(pid, executable's base name) of every running process of the local function `name`, found by the
    AWS_LAMBDA_FUNCTION_NAME in its environment (read as root through /proc)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().split(b"\0")
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
        except OSError:
            continue
        if f"AWS_LAMBDA_FUNCTION_NAME={name}".encode() in env:
            yield pid, exe


def sandbox_tmp(name, program="java"):
    """The /tmp of the running sandbox of function `name` (its own tmpfs), through /proc/<pid>/root of its process
    whose executable's name starts with `program` (the driver JVM by default; "python" for the runtime, which
    outlives a JVM that has exited), or None."""
    for pid, exe in function_processes(name):
        if exe.startswith(program):
            return f"/proc/{pid}/root/tmp"
    return None


def runtime_env(framework):
    """The environment of the installed local Spark runtime (locallambda/runtime-env.sh)."""
    path = os.path.join(RUNTIME_DIR, f"env-{framework}.sh")
    if not os.path.exists(os.path.join(RUNTIME_DIR, f"READY-{framework}")) or not os.path.exists(path):
        raise RuntimeError(f"the {framework} Spark runtime is not installed: run 'make runtime FRAMEWORK={framework}'")
    out = subprocess.run(["bash", "-c", '. "$1" && env -0', "env", path], env=_base_env(),
                         check=True, capture_output=True).stdout
    return dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)


class InvokeResult:
    def __init__(self, status, headers, body, seconds):
        self.http_status = status
        self.headers = headers
        self.raw = body
        self.seconds = seconds
        try:
            self.payload = json.loads(body) if body else None
        except ValueError:
            self.payload = body
        p = self.payload if isinstance(self.payload, dict) else {}
        # The RIE answers a timed-out invocation with a plain-text body and no error header: a failure all the same.
        self.timed_out = isinstance(self.payload, str) and self.payload.startswith("Task timed out after")
        self.failed = bool(headers.get("X-Amz-Function-Error")) or ("errorType" in p and "errorMessage" in p) \
            or status >= 400 or self.timed_out
        self.error_type = ("TimedOut" if self.timed_out else p.get("errorType")) if self.failed else None
        self.error_message = (body if self.timed_out else p.get("errorMessage", body)) if self.failed else None

    def __repr__(self):
        return f"InvokeResult(failed={self.failed}, seconds={self.seconds:.1f}, payload={self.raw[:2000]!r})"


class LambdaFunction:
    """One execution environment: RIE + awslambdaric + the handler in the Lambda sandbox; invoke() posts events."""

    def __init__(self, framework, function_env, log_dir, memory=3008, tmp_size=1024, timeout=900,
                 name="spark-e2e", cpus=None):
        """cpus: pin the environment (RIE, Python, the JVM) to the first `cpus` CPUs with taskset, as a Lambda
        function of that many vCPUs (1 vCPU at 1,769 MiB, AWS Lambda Developer Guide "Configure memory"); None: all."""
        self.framework = framework
        self.cpus = cpus
        self.function_env = dict(function_env)
        self.memory = memory
        self.tmp_size = tmp_size
        self.timeout = timeout
        self.name = name
        self.log_path = os.path.join(log_dir, f"lambda-{name}.log")
        self.port = free_port()
        self.api_port = free_port()
        self.proc = None
        self.task_root = None

    def __enter__(self):
        env = runtime_env(self.framework)
        env.update({k: v for k, v in _base_env().items() if k != "PATH"})
        env.update({
            # what the Lambda Python base image sets
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(self.timeout),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            # what Lambda sets for an on-demand environment ("provisioned-concurrency" for a provisioned one)
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            # the base image's packages, then the framework's own (the runtime's pylib-<FW>, as in the image)
            "PYTHONPATH": ":".join(p for p in (LAMBDA_BASE, env.get("PYTHONPATH", "")) if p),
            "PYTHONUNBUFFERED": "1",
            "TZ": ":UTC",
        })
        env.update(DUMMY_CREDENTIALS)
        env.update(self.function_env)
        # Lambda sets no HOME for the function (it is not among Lambda's defined runtime variables, and the Python
        # base image does not set it), and nothing outside /tmp is writable there: run without one, so anything that
        # would write under ~ (ivy, caches) fails here as it would in Lambda. The harness's own tools keep HOME=/tmp.
        env.pop("HOME", None)
        env = {k: v for k, v in env.items() if v is not None}
        # /var/task (read-only in the sandbox) is the runtime's task root, which docker/install-spark-home.sh filled
        # as it fills the image's LAMBDA_TASK_ROOT: the handler is never copied here in a way of the harness's own.
        self.task_root = env["RUNTIME_TASK_ROOT"]
        if not os.path.isfile(os.path.join(self.task_root, "handler", "__init__.py")):
            raise RuntimeError(f"the runtime's task root {self.task_root} has no handler package: run 'make runtime'")
        pin = ["taskset", "-c", f"0-{self.cpus - 1}"] if self.cpus else []
        cmd = [*pin, "bash", SANDBOX, "--memory", str(self.memory), "--tmp-size", str(self.tmp_size),
               "--task-root", self.task_root, "--",
               RIE, "--log-level", "info",
               "--runtime-interface-emulator-address", f"127.0.0.1:{self.port}",
               "--runtime-api-address", f"127.0.0.1:{self.api_port}",
               env["PYTHON"], "-m", "awslambdaric", "handler.handler"]
        progress(f"starting the {self.framework} function '{self.name}' (RIE on 127.0.0.1:{self.port}, "
                 f"{self.memory} MiB) in the Lambda sandbox; log: {self.log_path}")
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        wait_for_port(self.port, self.proc, 60, "the Runtime Interface Emulator")
        return self

    def __exit__(self, *exc):
        if self.proc is not None:
            _stop(self.proc, timeout=30)
            self._log.close()
        return False

    def invoke(self, event, timeout=None):
        data = json.dumps(event).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{INVOKE_PATH}", data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout + 60) as resp:
                status, headers, body = resp.status, dict(resp.headers), resp.read().decode()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, dict(e.headers), e.read().decode()
        return InvokeResult(status, headers, body, time.monotonic() - t0)

    def log_tail(self, n=60):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


BUCKET = "spark-lambda-local"
SCRIPT_KEY = "scripts/job.py"
DATA_KEY = "data/seattle-weather.csv"
SAMPLE_DATA = os.path.join(ROOT, "assets", "data", "seattle-weather.csv")
SAMPLE_SCRIPT = os.path.join(ROOT, "assets", "scripts", "table_job.py")


# The key schema of the commit-coordination table: what the SparkLambda construct creates (constructs/sparklambda),
# what Iceberg's DynamoDbLockManager expects, and what the image's Delta and Hudi commit locks use (docker/java).
LOCK_TABLE_KEYS = [("entityId", "HASH")]


def lock_table_name(bucket, framework):
    return f"{bucket}-{framework.lower()}-commits"


def create_lock_table(server, framework, name):
    """The commit-coordination table, as the construct creates it (on-demand); no-op when it exists."""
    ddb = server.client("dynamodb")
    keys = LOCK_TABLE_KEYS
    try:
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": a, "KeyType": t} for a, t in keys],
                         AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a, _ in keys])
    except ddb.exceptions.ResourceInUseException:
        pass
    return name


def function_env(framework, s3, bucket=BUCKET, script_key=SCRIPT_KEY, coordination="dynamodb"):
    """The environment the SparkLambda construct gives the function, pointed at the local moto server. With
    coordination "dynamodb" (the construct's default) the commit-coordination table is created too; "none" is the
    construct's explicit single-writer opt-out."""
    env = {
        "SPARK_LAMBDA_SCRIPT_BUCKET": bucket,
        "SPARK_LAMBDA_SCRIPT_KEY": script_key,
        "SPARK_LAMBDA_FRAMEWORK": framework,
        "SPARK_LAMBDA_WAREHOUSE": f"s3://{bucket}/tables",
        "SPARK_LAMBDA_ICEBERG_CATALOG": "hadoop",  # deployed: glue
        "AWS_ENDPOINT_URL_S3": s3.url,
        "AWS_ENDPOINT_URL_DYNAMODB": s3.url,
        "AWS_ENDPOINT_URL_GLUE": s3.url,  # one moto server: S3, DynamoDB and Glue state for the whole run
        "SPARK_LAMBDA_COMMIT_COORDINATION": coordination,
    }
    if coordination == "dynamodb":
        env["SPARK_LAMBDA_LOCK_TABLE"] = create_lock_table(s3, framework, lock_table_name(bucket, framework))
    return env


def prepare_bucket(s3, script_path, bucket=BUCKET, data_path=SAMPLE_DATA, data_paths=None):
    """Creates the bucket and uploads the script to SCRIPT_KEY, the sample CSV to DATA_KEY and each of data_paths to
    data/<basename>."""
    c = s3.client()
    try:
        c.create_bucket(Bucket=bucket)
    except c.exceptions.BucketAlreadyOwnedByYou:
        pass
    with open(script_path, "rb") as f:
        c.put_object(Bucket=bucket, Key=SCRIPT_KEY, Body=f.read())
    uploaded = []
    for path in dict.fromkeys([data_path, *(data_paths or [])]):
        key = "data/" + os.path.basename(path)
        with open(path, "rb") as f:
            c.put_object(Bucket=bucket, Key=key, Body=f.read())
        uploaded.append(f"s3://{bucket}/{key}")
    progress(f"uploaded {os.path.relpath(script_path, ROOT)} to s3://{bucket}/{SCRIPT_KEY} and the data to "
             f"{', '.join(uploaded)}")
    return uploaded


def run_rounds(functions, rounds, on_result=None):
    """Runs `rounds` (a list of lists of events) on `functions` (execution environments): each round's events at the
    same time, the i-th on functions[i]; the next round starts when the last one ended. Returns one entry per
    invocation, in round order then environment order: {"round", "environment", "status", "seconds", "result", "cold",
    and "error" / "batchItemFailures" / "commit_conflicts" where there are some, "invoke": the InvokeResult}."""
    entries = []
    warm = set()  # environments that have served an invocation: the first one of each is its cold start
    for round_no, events in enumerate(rounds, start=1):
        if len(events) > len(functions):
            raise ValueError(f"round {round_no} has {len(events)} events for {len(functions)} environments")
        got = [None] * len(events)

        def call(i, event):
            got[i] = functions[i].invoke(event)

        threads = [threading.Thread(target=call, args=(i, e)) for i, e in enumerate(events)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i, r in enumerate(got):
            p = r.payload if isinstance(r.payload, dict) else {}
            entry = {"round": round_no, "environment": i + 1, "status": "FAILED" if r.failed else "SUCCEEDED",
                     "seconds": round(r.seconds, 3), "result": None if r.failed else p.get("result"),
                     "cold": i not in warm, "invoke": r}
            warm.add(i)
            if r.failed:
                entry["error"] = {"errorType": r.error_type, "errorMessage": str(r.error_message)[:2000]}
            if "batchItemFailures" in p:
                entry["batchItemFailures"] = p["batchItemFailures"]
            if p.get("commit_conflicts"):
                entry["commit_conflicts"] = p["commit_conflicts"]
            entries.append(entry)
            if on_result:
                on_result(entry)
    return entries


def summary(entries):
    """The machine-readable summary of run_rounds' entries (the `invoke-summary:` line's JSON)."""
    return {
        "invocations": len(entries),
        "failed": sum(e["status"] == "FAILED" for e in entries),
        "results": [{k: v for k, v in e.items() if k != "invoke"} for e in entries],
    }


# the SAM CLI's sample events (install-tools.sh extracts them into .venv-e2e, or with --unit into .venv-unit)
SAM_EVENTS = os.environ.get("SAM_EVENTS", os.path.join(VENV, "sam-events"))


def sam_event(name, **values):
    """A SAM CLI sample event (e.g. "s3/S3Put.json") with its {{{placeholders}}} filled in (values are JSON-escaped
    into the strings; region, partition and account_id have defaults)."""
    with open(os.path.join(SAM_EVENTS, name)) as f:
        text = f.read()
    defaults = {"region": "us-east-1", "partition": "aws", "account_id": "123456789012"}
    defaults.update(values)

    def fill(m):
        if m.group(1) not in defaults:
            raise KeyError(f"{name} needs a value for {m.group(1)}")
        return json.dumps(str(defaults[m.group(1)]))[1:-1]
    return json.loads(re.sub(r"\{\{\{(\w+)\}\}\}", fill, text))


def s3put(bucket, *keys):
    """One S3 notification (SAM's S3Put record per key; keys as S3 sends them, URL-encoded)."""
    records = []
    for key in keys:
        records += sam_event("s3/S3Put.json", bucket=bucket, key=key)["Records"]
    return {"Records": records}
