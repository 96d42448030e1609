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
#   AWS_ENDPOINT_URL_GLUE         local tests only: a Glue-compatible endpoint for the Iceberg glue catalog (mapped to
#                                 spark.sql.catalog.lake.glue.endpoint; Iceberg's own Glue client is given it explicitly)
#   SPARK_LAMBDA_TMP_MIN_FREE_PCT optional, default 10: below this share of /tmp free after an invocation, the
#                                 SparkContext is stopped so the next invocation starts on a clean spark.local.dir
#
# The script contract (works unchanged under spark-submit, e.g. on EMR Serverless):
#   - the event arrives as `--event <json>` in sys.argv;
#   - SparkSession.builder.getOrCreate() returns this invocation's session;
#   - an optional module-level dict `RESULT` is returned to the caller (spark-submit just ignores it);
#   - raising, or sys.exit() with a non-zero/non-None code, fails the invocation;
#   - tempfile / $TMPDIR point at a per-invocation scratch directory under /tmp that is removed after the invocation
#     (success or failure); files written elsewhere in /tmp stay for the next warm invocation (e.g. a cache).
#
# What is isolated between warm invocations, and what is not:
#   isolated  - the SparkSession (temp views, SQL conf, the session catalog's temp objects, cached data);
#             - os.environ, sys.path, sys.argv and the working directory (snapshotted and restored around the script);
#             - modules the script imported that were not loaded before it and do not come from the image's installed
#               code (e.g. a helper on a path the script added): dropped from sys.modules, so the next invocation
#               imports them afresh. pyspark/py4j/boto3/botocore and every module loaded before the script stay, as do
#               newly imported installed packages (numpy, pandas, ... cannot be re-imported in one process);
#             - the scratch directory ($TMPDIR).
#   shared    - the JVM and the SparkContext: hadoopConfiguration(), local properties, broadcast variables, accumulators,
#               JVM system properties and static state, registered JVM UDFs, the persistent (warehouse) catalog;
#             - files written to /tmp outside the scratch directory; state kept in installed modules.
# After each invocation the handler asks the JVM to GC (so Spark's ContextCleaner deletes unreferenced shuffle and
# broadcast files), measures free /tmp (`tmp_free_mib`) and, when it stays below SPARK_LAMBDA_TMP_MIN_FREE_PCT,
# stops the SparkContext (its block manager files go with it) and logs why; the next invocation starts a new one.
#
# Response: {"status": "SUCCEEDED", "duration_s", "result", "script": {...}, "spark": {"jvm_pid", "jvm_starts",
# "context_starts", "invocation", "new_jvm", "startup_s", "tmp_free_mib", "tmp_total_mib", "tmp_low"}}. NaN and
# +-Infinity in RESULT become null (JSON has no such numbers). Every failure is raised (never returned), so the Runtime API reports the
# invocation as failed and Lambda's retries and failure destinations apply.
import gc
import json
import logging
import math
import os
import re
import shutil
import sys
import sysconfig
import tempfile
import threading
import time
import traceback
import types

logger = logging.getLogger("handler")
logger.setLevel(logging.INFO)

FRAMEWORKS = ("DELTA", "HUDI", "ICEBERG")
ICEBERG_CATALOG = "lake"
SCRIPT_DIR = "/tmp/spark-scripts"
TMP_ROOT = "/tmp"
SCRATCH_DIR = "/tmp/invocation-scratch"  # the script's TMPDIR; emptied after every invocation
TMP_MIN_FREE_PCT_DEFAULT = 10.0
# Never dropped from sys.modules after a script, even when the script imported them first: the JVM gateway and the
# AWS SDK (their module state is shared with the handler).
KEEP_MODULE_ROOTS = frozenset({"pyspark", "py4j", "boto3", "botocore", "s3transfer", "awslambdaric", "handler"})
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


def _tmp_min_free_pct(environ=None):
    env = os.environ if environ is None else environ
    raw = env.get("SPARK_LAMBDA_TMP_MIN_FREE_PCT", "").strip()
    if not raw:
        return TMP_MIN_FREE_PCT_DEFAULT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100:
        raise ConfigurationError(f"environment variable SPARK_LAMBDA_TMP_MIN_FREE_PCT={raw!r} is not a number from 0 to 100")
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
    glue_endpoint = env.get("AWS_ENDPOINT_URL_GLUE", "").strip() or env.get("AWS_ENDPOINT_URL", "").strip()
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
            if glue_endpoint:
                # Iceberg's GlueCatalog builds its own AWS SDK v2 client: give it the endpoint as a catalog property
                # (AwsProperties "glue.endpoint") rather than relying on the SDK reading AWS_ENDPOINT_URL_GLUE.
                conf[f"{prefix}.glue.endpoint"] = glue_endpoint
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


# --- the Python process state around a script -----------------------------------------------------------------
def _installed_dirs(paths):
    """The directories of the image's installed code: the interpreter's stdlib/site-packages and every sys.path
    entry from before the script that is not under /tmp (e.g. /var/task, the runtime's site-packages)."""
    dirs = {p for k, p in sysconfig.get_paths().items() if k in ("stdlib", "platstdlib", "purelib", "platlib") and p}
    for p in paths:
        p = os.path.abspath(p or os.getcwd())
        if not (p == TMP_ROOT or p.startswith(TMP_ROOT + os.sep)):
            dirs.add(p)
    return tuple(sorted(d.rstrip(os.sep) + os.sep for d in dirs))


def _module_files(module):
    f = getattr(module, "__file__", None)
    if f:
        return [f]
    return [p for p in (getattr(module, "__path__", None) or [])]


def _keep_new_module(name, module, installed):
    """A module first imported by the script stays loaded when it belongs to the image's installed code."""
    if name.split(".", 1)[0] in KEEP_MODULE_ROOTS or name in sys.builtin_module_names:
        return True
    if module is None:
        return False
    spec = getattr(module, "__spec__", None)
    if spec is not None and spec.origin in ("built-in", "frozen"):
        return True
    files = _module_files(module)
    return bool(files) and all(os.path.abspath(f).startswith(installed) for f in files)


class _ProcessState:
    """Snapshots os.environ, sys.path, the working directory and sys.modules before a script and restores them after;
    points tempfile/$TMPDIR at a fresh scratch directory for the script."""

    def __enter__(self):
        self.environ = dict(os.environ)
        self.path = list(sys.path)
        self.modules = set(sys.modules)
        self.tempdir = tempfile.tempdir
        try:
            self.cwd = os.getcwd()
        except OSError:
            self.cwd = None
        shutil.rmtree(SCRATCH_DIR, ignore_errors=True)
        os.makedirs(SCRATCH_DIR, exist_ok=True)
        os.environ["TMPDIR"] = SCRATCH_DIR
        tempfile.tempdir = SCRATCH_DIR
        return self

    def __exit__(self, *exc):
        installed = _installed_dirs(self.path)
        dropped = []
        for name in set(sys.modules) - self.modules:
            if not _keep_new_module(name, sys.modules.get(name), installed):
                sys.modules.pop(name, None)
                dropped.append(name)
        if dropped:
            logger.info("dropped %d module(s) the script imported: %s", len(dropped), ", ".join(sorted(dropped)[:20]))
        for k in set(os.environ) - set(self.environ):
            del os.environ[k]
        for k, v in self.environ.items():
            if os.environ.get(k) != v:
                os.environ[k] = v
        sys.path[:] = self.path
        tempfile.tempdir = self.tempdir
        if self.cwd is not None:
            try:
                os.chdir(self.cwd)
            except OSError:
                logger.warning("could not return to the working directory %s", self.cwd)
        shutil.rmtree(SCRATCH_DIR, ignore_errors=True)
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
        with _ProcessState():
            exec(code, module.__dict__)
    finally:
        sys.argv = saved_argv
        if saved_main is not None:
            sys.modules["__main__"] = saved_main


# --- /tmp after each invocation -------------------------------------------------------------------------------
def reclaim_tmp(sc, min_free_pct, usage=shutil.disk_usage, root=TMP_ROOT):
    """After an invocation: let Spark's ContextCleaner delete unreferenced shuffle/broadcast files (a Python then a JVM
    GC), measure free space in /tmp and, below `min_free_pct`, stop the SparkContext `sc` (deleting its block manager
    directories) so the next invocation starts a clean one. Returns what goes in the response."""
    gc.collect()  # releases the script's py4j proxies, so the JVM objects behind them become unreachable
    if sc is not None and sc._jsc is not None:
        try:
            sc._jvm.System.gc()
        except Exception:
            logger.warning("could not ask the JVM to GC:\n%s", traceback.format_exc())
    total, _, free = usage(root)
    stopped = False
    if total and free * 100.0 / total < min_free_pct:
        logger.warning(
            "only %d of %d MiB free in %s after the invocation (below SPARK_LAMBDA_TMP_MIN_FREE_PCT=%g%%): stopping "
            "the SparkContext so its local files are deleted and the next invocation starts a new one",
            free >> 20, total >> 20, root, min_free_pct,
        )
        if sc is not None and sc._jsc is not None:
            try:
                sc.stop()
                stopped = True
            except Exception:
                logger.warning("could not stop the SparkContext:\n%s", traceback.format_exc())
        total, _, free = usage(root)
    return {"tmp_free_mib": free >> 20, "tmp_total_mib": total >> 20, "tmp_low": stopped}


def _shorten(text, limit=6000):
    """Py4J errors carry whole Java stack traces: keep the head (which names the cause) and point at the log."""
    if len(text) <= limit:
        return text
    return text[:limit] + f" ... [{len(text) - limit} more characters: see the function's log]"


def _finite(value):
    """NaN and +-Infinity are not JSON: they become None (null), at any depth."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _jsonable(value):
    return _finite(json.loads(json.dumps(value, default=str)))


def handler(event, context):
    global _invocations
    started = time.monotonic()
    bucket = _require_env("SCRIPT_BUCKET", "set it to the bucket that holds the PySpark script")
    key = _require_env("SPARK_SCRIPT", "set it to the S3 key of the PySpark script in SCRIPT_BUCKET")
    _framework()
    min_free_pct = _tmp_min_free_pct()
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
    tmp_report = {}
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
    finally:
        result = module.__dict__.get("RESULT")
        module.__dict__.clear()  # the script's DataFrames etc.: unreachable now, so GC can clean up after them
        try:
            tmp_report = reclaim_tmp(root._sc, min_free_pct)
        except Exception:  # never mask the script's own outcome
            logger.warning("could not reclaim /tmp after the invocation:\n%s", traceback.format_exc())

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
            **tmp_report,
        },
    }


# Init phase: start the JVM in the background so the (up to 10 s) init phase is not blocked and the first
# invocation only waits for the rest; nothing to start when the function is not configured.
if os.environ.get("SCRIPT_BUCKET") and os.environ.get("SPARK_SCRIPT") and os.environ.get("SPARK_PRESTART", "1") != "0":
    try:
        _spark.start_in_background()
    except Exception:  # never fail the init phase here; the first invocation starts Spark itself
        logger.warning("could not start Spark in the background:\n%s", traceback.format_exc())
