# AWS Lambda handler (run by awslambdaric as `handler.handler`): downloads a PySpark script from S3 and runs it with
# the invocation event, on one Spark JVM kept warm across invocations, with a fresh SparkSession per invocation.
#
# Environment (set by the SparkLambda construct; see docker/conf/spark-defaults.conf for the Spark side):
#   SCRIPT_BUCKET, SPARK_SCRIPT   required: the bucket and key of the PySpark script
#   SPARK_FRAMEWORK               DELTA | HUDI | ICEBERG (the image's table format)
#   SPARK_WAREHOUSE               optional s3://bucket/prefix where tables live
#   ICEBERG_CATALOG_TYPE          glue | hadoop (default hadoop) for the Iceberg catalog `lake`
#   GLUE_DATABASE                 optional database (namespace) for the tables; handed to Spark as the catalog default
#   AWS_ENDPOINT_URL_S3           local tests only: an S3-compatible endpoint (boto3 reads it natively; mapped to s3a)
#
# The script contract (works unchanged under spark-submit, e.g. on EMR Serverless):
#   - the event arrives as `--event <json>` in sys.argv;
#   - SparkSession.builder.getOrCreate() returns this invocation's session;
#   - an optional module-level dict `RESULT` is returned to the caller (spark-submit just ignores it);
#   - raising, or sys.exit() with a non-zero/non-None code, fails the invocation.
#
# Response: {"status": "SUCCEEDED", "duration_s", "result", "script": {...}, "spark": {"jvm_pid", "jvm_starts",
# "context_starts", "warm", "startup_s"}}. Every failure is raised (never returned), so the Runtime API reports the
# invocation as failed and Lambda's retries and failure destinations apply.
import json
import logging
import os
import re
import runpy
import sys
import threading
import time
import traceback
import types

logger = logging.getLogger("handler")
logger.setLevel(logging.INFO)

FRAMEWORKS = ("DELTA", "HUDI", "ICEBERG")
ICEBERG_CATALOG = "lake"
SCRIPT_DIR = "/tmp/spark-scripts"
SPARK_CLASS_ERROR_FILE = os.environ.get("SPARK_CLASS_ERROR_FILE", "/tmp/spark-class.err")


# --- errors: each names its cause in the type and the message --------------------------------------------------
class HandlerError(Exception):
    """Base of the errors this handler raises; awslambdaric reports the class name as errorType."""


class ConfigurationError(HandlerError):
    """A required environment variable is missing or invalid."""


class ScriptNotFoundError(HandlerError):
    """The script object (or its bucket) does not exist."""


class ScriptUnreadableError(HandlerError):
    """The script object exists but cannot be read (access denied, not UTF-8, ...)."""


class ScriptSyntaxError(HandlerError):
    """The script does not compile."""


class ScriptFailedError(HandlerError):
    """The script raised an exception."""


class ScriptExitError(HandlerError):
    """The script called sys.exit() with a non-zero code."""


class SparkStartError(HandlerError):
    """The JVM / SparkContext could not start."""


class EventError(HandlerError):
    """The event cannot be passed to the script (not JSON-serializable)."""


# --- environment ----------------------------------------------------------------------------------------------
def _require_env(name, fix):
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set: {fix}")
    return value


def _framework():
    value = os.environ.get("SPARK_FRAMEWORK", "").strip().upper()
    if value and value not in FRAMEWORKS:
        raise ConfigurationError(f"environment variable SPARK_FRAMEWORK={value!r} is not one of {', '.join(FRAMEWORKS)}")
    return value


def spark_settings(environ=None):
    """The environment-dependent Spark settings (static defaults come from spark-defaults.conf)."""
    env = os.environ if environ is None else environ
    conf = {}
    endpoint = env.get("AWS_ENDPOINT_URL_S3", "").strip() or env.get("AWS_ENDPOINT_URL", "").strip()
    framework = env.get("SPARK_FRAMEWORK", "").strip().upper()
    catalog_type = env.get("ICEBERG_CATALOG_TYPE", "").strip().lower() or "hadoop"
    warehouse = env.get("SPARK_WAREHOUSE", "").strip().rstrip("/")
    database = env.get("GLUE_DATABASE", "").strip()
    if endpoint:
        conf["spark.hadoop.fs.s3a.endpoint"] = endpoint
        conf["spark.hadoop.fs.s3a.path.style.access"] = "true"
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = "false" if endpoint.startswith("http://") else "true"
    region = env.get("AWS_REGION", "").strip() or env.get("AWS_DEFAULT_REGION", "").strip()
    if region:
        conf["spark.hadoop.fs.s3a.endpoint.region"] = region
    if warehouse:
        conf["spark.sql.warehouse.dir"] = warehouse
    if framework == "ICEBERG":
        if catalog_type not in ("glue", "hadoop"):
            raise ConfigurationError(f"environment variable ICEBERG_CATALOG_TYPE={catalog_type!r} is not glue or hadoop")
        prefix = f"spark.sql.catalog.{ICEBERG_CATALOG}"
        conf[prefix] = "org.apache.iceberg.spark.SparkCatalog"
        conf[f"{prefix}.type"] = catalog_type
        if catalog_type == "glue":
            if not warehouse:
                raise ConfigurationError("ICEBERG_CATALOG_TYPE=glue needs SPARK_WAREHOUSE (s3://bucket/prefix) for new tables")
            conf[f"{prefix}.io-impl"] = "org.apache.iceberg.aws.s3.S3FileIO"
            if endpoint:
                conf[f"{prefix}.s3.endpoint"] = endpoint
                conf[f"{prefix}.s3.path-style-access"] = "true"
        if warehouse:
            # The hadoop catalog goes through Hadoop's FileSystem: s3:// is mapped to s3a in spark-defaults.conf.
            conf[f"{prefix}.warehouse"] = warehouse
        if database:
            conf[f"{prefix}.default-namespace"] = database
    if database:
        # Readable by scripts as spark.conf.get("spark.lambda.database"); they may also take it from the event.
        conf["spark.lambda.database"] = database
    return conf


# --- the script: download once per ETag -----------------------------------------------------------------------
_s3 = None
_script_cache = {}  # (bucket, key) -> {"etag", "path", "code"}


def _s3_client():
    global _s3
    if _s3 is None:
        import boto3  # in the Lambda Python base image

        _s3 = boto3.client("s3")
    return _s3


def _local_name(bucket, key):
    return os.path.join(SCRIPT_DIR, re.sub(r"[^A-Za-z0-9._-]", "_", f"{bucket}__{key}"))


def fetch_script(bucket, key):
    """Returns (path, compiled code, info); downloads only when the object's ETag changed."""
    from botocore.exceptions import BotoCoreError, ClientError

    uri = f"s3://{bucket}/{key}"
    cached = _script_cache.get((bucket, key))
    kwargs = {"Bucket": bucket, "Key": key}
    if cached and os.path.exists(cached["path"]):
        kwargs["IfNoneMatch"] = cached["etag"]
    try:
        obj = _s3_client().get_object(**kwargs)
    except ClientError as e:
        err = e.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if cached and (code == "304" or status == 304):
            return cached["path"], cached["code"], {"uri": uri, "etag": cached["etag"], "cached": True}
        _script_cache.pop((bucket, key), None)
        if code in ("NoSuchKey", "404", "NotFound"):
            raise ScriptNotFoundError(f"script {uri} does not exist: upload it or fix SPARK_SCRIPT / SCRIPT_BUCKET") from e
        if code == "NoSuchBucket":
            raise ScriptNotFoundError(f"script bucket {bucket!r} does not exist ({uri}): fix SCRIPT_BUCKET") from e
        raise ScriptUnreadableError(f"cannot read script {uri}: {code or status}: {err.get('Message', e)}") from e
    except BotoCoreError as e:
        raise ScriptUnreadableError(f"cannot read script {uri}: {e}") from e
    body = obj["Body"].read()
    etag = obj.get("ETag", "")
    try:
        source = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ScriptUnreadableError(f"script {uri} is not UTF-8 text: {e}") from e
    path = _local_name(bucket, key)
    try:
        code = compile(source, path, "exec")
    except SyntaxError as e:
        _script_cache.pop((bucket, key), None)
        raise ScriptSyntaxError(f"script {uri} has a syntax error at line {e.lineno}: {e.msg}") from e
    os.makedirs(SCRIPT_DIR, exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(source)
    os.replace(path + ".tmp", path)
    _script_cache[(bucket, key)] = {"etag": etag, "path": path, "code": code}
    return path, code, {"uri": uri, "etag": etag, "cached": False}


# --- Spark: one JVM/SparkContext per execution environment, started lazily or in the background ---------------
class _Spark:
    def __init__(self):
        self.lock = threading.Lock()
        self.root = None  # the root SparkSession; invocations get root.newSession()
        self.jvm_starts = 0  # JVM (py4j gateway) processes launched by this process
        self.context_starts = 0  # SparkContexts created (a script's spark.stop() forces a new one)
        self.jvm_pid = None
        self.startup_s = None
        self.prestart = None  # background start thread, joined by the first invocation
        self.prestart_error = None

    def _alive(self):
        from pyspark import SparkContext

        if self.root is None or self.root._sc._jsc is None or SparkContext._active_spark_context is None:
            return False
        gateway = SparkContext._gateway
        proc = getattr(gateway, "proc", None)
        return proc is None or proc.poll() is None

    def _reset_dead_jvm(self):
        """Forget a JVM whose process exited (e.g. killed), so the next start launches a new one."""
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        gateway = SparkContext._gateway
        proc = getattr(gateway, "proc", None)
        if gateway is not None and proc is not None and proc.poll() is not None:
            logger.warning("the Spark JVM (pid %s) exited with %s: starting a new one", self.jvm_pid, proc.returncode)
            try:
                gateway.shutdown()
            except Exception:  # the process is gone already; the sockets may be too
                pass
            SparkContext._gateway = None
            SparkContext._jvm = None
            SparkContext._active_spark_context = None
        SparkSession._instantiatedSession = None
        SparkSession._activeSession = None

    def ensure(self):
        """Returns the live root session, starting the JVM/SparkContext if needed."""
        if self.prestart is not None:
            self.prestart.join()
            self.prestart = None
            if self.prestart_error is not None:
                err, self.prestart_error = self.prestart_error, None
                if self.root is None:
                    # A failure in the background start: retry once here so a transient one does not stick,
                    # and report the real error if it fails again.
                    logger.warning("background Spark start failed (%s); retrying in the invocation", err)
        with self.lock:
            if self._alive():
                return self.root
            self._start()
            return self.root

    def _start(self):
        from pyspark import SparkConf, SparkContext
        from pyspark.sql import SparkSession

        self._reset_dead_jvm()
        if self.root is not None:
            logger.info("the SparkContext was stopped (by a script's spark.stop()?): creating a new one")
        self.root = None
        settings = spark_settings()
        conf = SparkConf()
        for k, v in settings.items():
            conf.set(k, v)
        conf.setIfMissing("spark.app.name", os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "spark-on-lambda"))
        launching_jvm = SparkContext._gateway is None
        try:
            os.remove(SPARK_CLASS_ERROR_FILE)
        except OSError:
            pass
        t0 = time.monotonic()
        try:
            sc = SparkContext(conf=conf)
        except BaseException as e:
            detail = ""
            try:
                with open(SPARK_CLASS_ERROR_FILE, encoding="utf-8", errors="replace") as f:
                    detail = f.read().strip()
            except OSError:
                pass
            msg = f"Spark failed to start: {type(e).__name__}: {e}".strip()
            if detail:
                msg += f" | spark-class: {detail}"
            logger.error("%s\n%s", msg, traceback.format_exc())
            # A failed launch leaves no usable gateway: forget it so the next invocation tries afresh.
            if launching_jvm:
                SparkContext._gateway = None
                SparkContext._jvm = None
            raise SparkStartError(msg) from e
        self.startup_s = round(time.monotonic() - t0, 3)
        if launching_jvm:
            self.jvm_starts += 1
        self.context_starts += 1
        self.root = SparkSession(sc)
        self.jvm_pid = int(sc._jvm.java.lang.ProcessHandle.current().pid())
        logger.info(
            "Spark started in %.1fs (jvm pid %s, jvm starts %d, context starts %d)",
            self.startup_s, self.jvm_pid, self.jvm_starts, self.context_starts,
        )

    def start_in_background(self):
        def run():
            try:
                with self.lock:
                    self._start()
            except BaseException as e:  # reported by the first invocation, never lost
                self.prestart_error = e

        self.prestart = threading.Thread(target=run, name="spark-prestart", daemon=True)
        self.prestart.start()


_spark = _Spark()
_invocations = 0  # invocations this execution environment has served (1 = the cold one)


class _InvocationSession:
    """Makes `session` the one SparkSession.builder.getOrCreate() and SparkSession.active() return, then restores."""

    def __init__(self, root):
        self.root = root
        self.session = root.newSession()

    def _point_at(self, session):
        from pyspark.sql import SparkSession

        SparkSession._instantiatedSession = session
        SparkSession._activeSession = session
        jvm_session = session._jvm.SparkSession
        jvm_session.setDefaultSession(session._jsparkSession)
        jvm_session.setActiveSession(session._jsparkSession)

    def __enter__(self):
        self._point_at(self.session)
        return self.session

    def __exit__(self, *exc):
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        if self.root._sc._jsc is not None and SparkContext._active_spark_context is not None:
            try:
                self.root._sc.cancelAllJobs()
                self.root.catalog.clearCache()  # cached data lives in state shared by all sessions
                self._point_at(self.root)
            except Exception:
                logger.warning("could not reset the Spark session state:\n%s", traceback.format_exc())
        else:
            SparkSession._instantiatedSession = None
            SparkSession._activeSession = None
        return False


# --- running the script ---------------------------------------------------------------------------------------
def run_script(path, code, event_json, module):
    """Runs the compiled script in `module` (as __main__) with `--event <json>` in sys.argv."""
    module.__file__ = path
    module.__builtins__ = __builtins__
    saved_argv, saved_main = sys.argv, sys.modules.get("__main__")
    sys.argv = [path, "--event", event_json]
    sys.modules["__main__"] = module
    try:
        exec(code, module.__dict__)
    finally:
        sys.argv = saved_argv
        if saved_main is not None:
            sys.modules["__main__"] = saved_main


def _shorten(text, limit=6000):
    """Py4J errors carry whole Java stack traces: keep the head (which names the cause) and point at the log."""
    if len(text) <= limit:
        return text
    return text[:limit] + f" ... [{len(text) - limit} more characters: see the function's log]"


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def handler(event, context):
    global _invocations
    started = time.monotonic()
    bucket = _require_env("SCRIPT_BUCKET", "set it to the bucket that holds the PySpark script")
    key = _require_env("SPARK_SCRIPT", "set it to the S3 key of the PySpark script in SCRIPT_BUCKET")
    _framework()
    try:
        event_json = json.dumps(event, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise EventError(f"the event is not JSON-serializable: {e}") from e

    _invocations += 1
    path, code, script_info = fetch_script(bucket, key)
    jvm_starts_before = _spark.jvm_starts if _invocations > 1 else 0  # a background start belongs to the 1st
    root = _spark.ensure()
    logger.info("running %s (etag %s, %s)", script_info["uri"], script_info["etag"],
                "cached" if script_info["cached"] else "downloaded")
    module = types.ModuleType("__main__")
    try:
        with _InvocationSession(root):
            run_script(path, code, event_json, module)
    except SystemExit as e:
        if e.code is None or e.code == 0:
            logger.info("script exited with sys.exit(%r): success", e.code)
        else:
            logger.error("script %s called sys.exit(%r)", script_info["uri"], e.code)
            raise ScriptExitError(f"script {script_info['uri']} called sys.exit({e.code!r})") from None
    except Exception as e:
        logger.error("script %s raised:\n%s", script_info["uri"], traceback.format_exc())
        raise ScriptFailedError(f"script {script_info['uri']} raised {type(e).__name__}: {_shorten(str(e))}") from e
    # else: a KeyboardInterrupt or similar propagates as it is
    result = module.__dict__.get("RESULT")

    return {
        "status": "SUCCEEDED",
        "duration_s": round(time.monotonic() - started, 3),
        "result": _jsonable(result),
        "script": script_info,
        "spark": {
            "jvm_pid": _spark.jvm_pid,
            "jvm_starts": _spark.jvm_starts,
            "context_starts": _spark.context_starts,
            "invocation": _invocations,
            "new_jvm": _spark.jvm_starts != jvm_starts_before,
            "startup_s": _spark.startup_s,
        },
    }


# Init phase: start the JVM in the background so the (up to 10 s) init phase is not blocked and the first
# invocation only waits for the rest; nothing to start when the function is not configured.
if os.environ.get("SCRIPT_BUCKET") and os.environ.get("SPARK_SCRIPT") and os.environ.get("SPARK_PRESTART", "1") != "0":
    try:
        _spark.start_in_background()
    except Exception:  # never fail the init phase here; the first invocation starts Spark itself
        logger.warning("could not start Spark in the background:\n%s", traceback.format_exc())
