# The Spark session lifecycle: one JVM/SparkContext per execution environment, started in the background during the
# init phase (or lazily), checked before every invocation (a JVM that died or is dying is replaced, never reused),
# and asked after a failed script whether it died, and why (heap exhausted, killed at the memory cap, crashed).
import glob
import logging
import os
import threading
import time
import traceback

from . import config
from .errors import SparkStartError

logger = logging.getLogger("handler")

SPARK_LAMBDA_CLASS_ERROR_FILE = os.environ.get("SPARK_LAMBDA_CLASS_ERROR_FILE", "/tmp/spark-class.err")
# spark-defaults.conf points the JVM's fatal-error log here (-XX:ErrorFile); %p is the JVM's pid.
JVM_CRASH_LOG = "/tmp/spark-jvm-crash-{pid}.log"
# Exit codes that name an out-of-memory death: Spark's uncaught-error handler exits with 52 (SparkExitCode.OOM) on an
# OutOfMemoryError in a task; -XX:+ExitOnOutOfMemoryError (spark-defaults.conf) exits with 3 on one anywhere else.
OOM_EXIT_CODES = {52: "Spark's handler for uncaught errors (exit code 52, java.lang.OutOfMemoryError)",
                  3: "-XX:+ExitOnOutOfMemoryError (exit code 3, java.lang.OutOfMemoryError)"}
DYING_JVM_WAIT_S = 15  # how long a JVM that stopped answering may take to exit before it is killed


def _gateway_proc():
    from pyspark import SparkContext

    return getattr(SparkContext._gateway, "proc", None)


class SparkRuntime:
    def __init__(self):
        self.lock = threading.Lock()
        self.root = None  # the root SparkSession; invocations get root.newSession()
        self.jvm_starts = 0  # JVM (py4j gateway) processes launched by this process
        self.context_starts = 0  # SparkContexts created (a script's spark.stop() forces a new one)
        self.jvm_pid = None
        self.heap_mib = None  # the driver's maximum heap, as the JVM reports it
        self.startup_s = None
        self.prestart = None  # background start thread, joined by the first invocation
        self.prestart_error = None
        self.jvm_launched_in = None  # "init" (the background start of the init phase) or "invocation"
        self.jvm_launched_at = None  # wall-clock time the running JVM's launch began
        self.jvm_start_s = None  # the running JVM's launch: process start to Py4J gateway ready
        self.jvm_start_unreported = False  # True until an invocation has taken jvm_start_s for its metrics
        # The init phase's warm-up of the table format (handler.warmup): None when it did not run, else {"ok",
        # "seconds", "rows"} or {"ok": False, "error"}
        self.init_warmup = None

    # --- health ------------------------------------------------------------------------------------------------
    def _answers(self):
        """True when the JVM answers a call through the Py4J gateway."""
        from pyspark import SparkContext

        try:
            SparkContext._jvm.java.lang.System.nanoTime()
            return True
        except Exception:  # Py4JNetworkError, ConnectionRefusedError, ...: the gateway is gone
            return False

    def _alive(self):
        from pyspark import SparkContext

        if self.root is None or self.root._sc._jsc is None or SparkContext._active_spark_context is None:
            return False
        proc = _gateway_proc()
        if proc is not None and proc.poll() is not None:
            return False
        return self._answers()

    def death(self):
        """After a failed script: None while the JVM is healthy, else a dict naming how it died. A JVM that stopped
        answering but has not exited yet (running its shutdown hooks) is waited for, then killed."""
        from pyspark import SparkContext

        proc = _gateway_proc()
        if proc is None or SparkContext._gateway is None:
            return None
        if proc.poll() is None:
            if self._answers():
                return None
            self._await_exit(proc)
        return self.describe_exit(proc.returncode)

    def _await_exit(self, proc):
        """A JVM that stopped answering but still runs (e.g. its shutdown hooks after an OutOfMemoryError): wait for it
        to exit, then kill it."""
        try:
            proc.wait(DYING_JVM_WAIT_S)
        except Exception:
            logger.warning("the Spark JVM (pid %s) stopped answering and did not exit within %ss: killing it",
                           self.jvm_pid, DYING_JVM_WAIT_S)
            proc.kill()
            proc.wait()

    def describe_exit(self, code):
        memory = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "?")
        heap = f"{self.heap_mib} MiB" if self.heap_mib else "unknown"
        if code in OOM_EXIT_CODES:
            cause = f"the driver ran out of heap: stopped by {OOM_EXIT_CODES[code]}"
            fix = ("give the function more memory (MemorySizeMiB; the heap is a share of it, or set "
                   "SPARK_LAMBDA_DRIVER_HEAP_MB), process less data per invocation (a smaller batch size, avoid "
                   "collect()/toPandas() of large data), or run the job on EMR Serverless")
        elif code in (-9, 137):
            cause = "the JVM was killed (SIGKILL), most likely at the function's memory cap (heap, off-heap and Python together)"
            fix = ("give the function more memory (MemorySizeMiB) or lower SPARK_LAMBDA_DRIVER_HEAP_MB to leave more "
                   "room off the heap, or process less data per invocation")
        else:
            crash = ""
            for path in glob.glob(JVM_CRASH_LOG.format(pid=self.jvm_pid or "*")):
                try:
                    with open(path, errors="replace") as f:
                        crash = " | " + " ".join(line.strip("# \n") for line in f.readlines()[:6] if line.strip("# \n"))
                except OSError:
                    pass
            cause = f"the JVM exited with code {code}" + (f" (signal {-code})" if code is not None and code < 0 else "")
            cause += crash
            fix = "see the function's log for the JVM's last words; the next invocation starts a new JVM"
        return {"exit_code": code, "cause": cause, "heap": heap, "memory_mib": memory, "fix": fix,
                "jvm_pid": self.jvm_pid}

    def _reset_dead_jvm(self):
        """Forget a JVM that exited or stopped answering, so the next start launches a new one."""
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        proc = _gateway_proc()
        gateway = SparkContext._gateway
        if gateway is not None and proc is not None:
            if proc.poll() is None and not self._answers():
                self._await_exit(proc)
            if proc.poll() is not None:
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

    # --- start ---------------------------------------------------------------------------------------------------
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

    def _write_hudi_defaults(self):
        text = config.hudi_defaults_conf()
        if not text:
            return
        os.makedirs(config.HUDI_CONF_DIR, exist_ok=True)
        with open(os.path.join(config.HUDI_CONF_DIR, "hudi-defaults.conf"), "w", encoding="utf-8") as f:
            f.write(text)
        os.environ["HUDI_CONF_DIR"] = config.HUDI_CONF_DIR  # inherited by the JVM, where Hudi reads it

    def _start(self, phase="invocation"):
        from pyspark import SparkConf, SparkContext
        from pyspark.sql import SparkSession

        self._reset_dead_jvm()
        if self.root is not None:
            logger.info("the SparkContext was stopped (by a script's spark.stop()?) or its JVM died: creating a new one")
        self.root = None
        settings = config.spark_settings()
        self._write_hudi_defaults()
        conf = SparkConf()
        for k, v in settings.items():
            conf.set(k, v)
        conf.setIfMissing("spark.app.name", os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "spark-on-lambda"))
        launching_jvm = SparkContext._gateway is None
        try:
            os.remove(SPARK_LAMBDA_CLASS_ERROR_FILE)
        except OSError:
            pass
        t0, launch_at = time.monotonic(), time.time()
        jvm_start_s = None
        try:
            if launching_jvm:
                # The gateway first (what SparkContext() would launch itself), so the JVM's launch is timed apart
                # from the SparkContext's start.
                SparkContext._ensure_initialized(conf=conf)
                jvm_start_s = round(time.monotonic() - t0, 3)
            sc = SparkContext(conf=conf)
        except BaseException as e:
            detail = ""
            try:
                with open(SPARK_LAMBDA_CLASS_ERROR_FILE, encoding="utf-8", errors="replace") as f:
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
            self.jvm_launched_in, self.jvm_launched_at = phase, launch_at
            self.jvm_start_s, self.jvm_start_unreported = jvm_start_s, True
        self.context_starts += 1
        self.root = SparkSession(sc)
        self.jvm_pid = int(sc._jvm.java.lang.ProcessHandle.current().pid())
        self.heap_mib = int(sc._jvm.java.lang.Runtime.getRuntime().maxMemory()) >> 20
        logger.info(
            "Spark started in %.1fs (jvm launch %s s, jvm pid %s, heap %s MiB, jvm starts %d, context starts %d)",
            self.startup_s, jvm_start_s, self.jvm_pid, self.heap_mib, self.jvm_starts, self.context_starts,
        )

    def start_in_background(self):
        def run():
            try:
                with self.lock:
                    self._start(phase="init")
            except BaseException as e:  # reported by the first invocation, never lost
                self.prestart_error = e

        logger.info("init phase: starting the JVM and the SparkContext in the background")
        self.prestart = threading.Thread(target=run, name="spark-prestart", daemon=True)
        self.prestart.start()

    def start_and_warm_up(self, warm_up):
        """The init phase's synchronous start (handler.warmup): the JVM and the SparkContext, then warm_up(root).
        A failure is logged and kept in init_warmup, never raised: the first invocation then runs as after any cold
        start (and starts Spark itself when it is not running)."""
        with self.lock:
            try:
                self._start(phase="init")
            except BaseException as e:
                self.init_warmup = {"ok": False, "error": f"Spark did not start: {type(e).__name__}: {e}"[:1000]}
                return
            try:
                self.init_warmup = {"ok": True, **warm_up(self.root)}
                logger.info("init phase: the table format warmed up in %.1fs", self.init_warmup["seconds"])
            except Exception as e:
                logger.warning("init phase: the table format's warm-up failed (the first invocation runs without "
                               "it):\n%s", traceback.format_exc())
                self.init_warmup = {"ok": False, "error": f"{type(e).__name__}: {e}"[:1000]}

    def take_jvm_start(self):
        """The running JVM's launch seconds for the first invocation that uses it (then None): each JVM launch is
        counted once in the metrics, by the invocation that started it or waited for (or found) it."""
        if not self.jvm_start_unreported:
            return None
        self.jvm_start_unreported = False
        return self.jvm_start_s

    def report(self, jvm_starts_before, invocation_started_at):
        """The Spark part of the response. jvm_launched_in says whether the running JVM was launched by the init
        phase's background start ("init") or by an invocation; jvm_launch_lead_s is how long before this invocation
        began its launch began (negative: during the invocation)."""
        return {
            "jvm_pid": self.jvm_pid,
            "jvm_starts": self.jvm_starts,
            "context_starts": self.context_starts,
            "new_jvm": self.jvm_starts != jvm_starts_before,
            "jvm_launched_in": self.jvm_launched_in,
            "jvm_launch_lead_s": (None if self.jvm_launched_at is None
                                  else round(invocation_started_at - self.jvm_launched_at, 3)),
            "startup_s": self.startup_s,
            "heap_mib": self.heap_mib,
            "init_warmup": self.init_warmup,
        }
