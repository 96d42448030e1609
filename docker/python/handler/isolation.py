# Per-invocation isolation on a warm execution environment: each invocation gets its own SparkSession (what
# SparkSession.builder.getOrCreate() returns), and the Python process state the script may change (os.environ,
# sys.path, sys.argv, the working directory, modules it imported from outside the image, $TMPDIR) is snapshotted
# before the script and restored after it.
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
import gc
import logging
import os
import shutil
import sys
import sysconfig
import tempfile
import traceback

logger = logging.getLogger("handler")

TMP_ROOT = "/tmp"
_gc_frozen = False  # reclaim_tmp has frozen the runtime's own objects (gc.freeze)
SCRATCH_DIR = "/tmp/invocation-scratch"  # the script's TMPDIR; emptied after every invocation
# Never dropped from sys.modules after a script, even when the script imported them first: the JVM gateway, the AWS
# SDK, the handler and the script API (their module state is shared with the handler).
KEEP_MODULE_ROOTS = frozenset({"pyspark", "py4j", "boto3", "botocore", "s3transfer", "awslambdaric", "handler",
                               "sparklambda", "aws_lambda_powertools", "jmespath", "typing_extensions", "delta"})


class InvocationSession:
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


def keep_new_module(name, module, installed):
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


class ProcessState:
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
            if not keep_new_module(name, sys.modules.get(name), installed):
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


def run_script(path, code, event_json, module):
    """Runs the compiled script in `module` (as __main__) with `--event <json>` in sys.argv."""
    module.__file__ = path
    module.__builtins__ = __builtins__
    saved_argv, saved_main = sys.argv, sys.modules.get("__main__")
    sys.argv = [path, "--event", event_json]
    sys.modules["__main__"] = module
    try:
        with ProcessState():
            exec(code, module.__dict__)
    finally:
        sys.argv = saved_argv
        if saved_main is not None:
            sys.modules["__main__"] = saved_main


def reclaim_tmp(sc, min_free_pct, gc_free_pct, usage=shutil.disk_usage, root=TMP_ROOT):
    """After an invocation: drop the script's Python objects (a Python GC); below `gc_free_pct` of free space in /tmp
    also have the JVM collect (System.gc()) so that Spark's ContextCleaner deletes the shuffle and broadcast files
    of the objects no one can reach any more; below `min_free_pct` stop the SparkContext `sc` (deleting its block
    manager directories) so the next invocation starts a clean one. Returns what goes in the response.

    Why the JVM is not asked every time: its full collection is stop-the-world over the whole heap and grows with it
    (measured on warm Iceberg upserts of the sample: 0.10 s after the first, 0.25 s after 150 in one environment),
    while what it frees on disk only matters when /tmp runs short. The JVM's own collections free the same objects
    as its heap fills (the driver's memory, broadcast blocks included, needs no help), and so does Spark's
    periodic one (spark.cleaner.periodicGC.interval, 30 minutes)."""
    global _gc_frozen
    gc.collect()  # releases the script's py4j proxies, so the JVM objects behind them become unreachable
    if not _gc_frozen:
        # What is alive after the first clean-up is the runtime itself (pyspark, py4j, boto3, the handler: ~80,000
        # objects), which every later gc.collect() would scan again for nothing (measured: 16-27 ms of each warm
        # invocation, under 1 ms after this). gc.freeze() moves them to a generation the collector skips; objects
        # that invocations create are still collected. Done once: refreezing would pin an invocation's survivors.
        gc.freeze()
        _gc_frozen = True
    alive = sc is not None and sc._jsc is not None
    total, _, free = usage(root)
    collected = False
    if alive and (not total or free * 100.0 / total < gc_free_pct):
        try:
            sc._jvm.System.gc()
            collected = True
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
        if alive:
            try:
                sc.stop()
                stopped = True
            except Exception:
                logger.warning("could not stop the SparkContext:\n%s", traceback.format_exc())
        total, _, free = usage(root)
    return {"tmp_free_mib": free >> 20, "tmp_total_mib": total >> 20, "tmp_low": stopped, "jvm_gc": collected}
