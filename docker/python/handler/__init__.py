# AWS Lambda handler (run by awslambdaric as `handler.handler`): downloads a PySpark script from S3 and runs it with
# the invocation event, on one Spark JVM kept warm across invocations, with a fresh SparkSession per invocation.
#
# The package, one concern a module:
#   config          the environment the SparkLambda construct sets, and the Spark settings derived from it
#   script_source   the script from S3, cached while its ETag is unchanged
#   spark_runtime   the JVM/SparkContext lifecycle: background start, health checks, how a dead JVM died
#   isolation       the per-invocation SparkSession, process state restored around the script, /tmp reclaimed
#   events          the event in (JSON, the script API's current event), the batch outcome out
#   commit_retry    retries of a script that lost a commit race with a concurrent writer
#   response        the response, its partial batch failures and Lambda's 6 MB limit
#   metrics         per-phase figures as CloudWatch embedded metric format (EMF) metrics, one document per invocation
#   routing         events too big for Lambda handed to EMR Serverless (StartJobRun), by input size or the script's say
#   errors          one error type per failure cause
#
# The script contract (works unchanged under spark-submit, e.g. on EMR Serverless):
#   - the event arrives as `--event <json>` in sys.argv (and as sparklambda.events.current());
#   - SparkSession.builder.getOrCreate() returns this invocation's session;
#   - an optional module-level dict `RESULT` is returned to the caller (spark-submit just ignores it);
#   - raising, or sys.exit() with a non-zero/non-None code, fails the invocation;
#   - records marked with sparklambda.events.fail() are returned in batchItemFailures (SQS, Kinesis, DynamoDB Streams);
#   - a failure that is a lost commit race with a concurrent writer (sparklambda.conflicts) runs the script again,
#     with jittered backoff, within the invocation: scripts must be safe to re-run for the same event (idempotent
#     upserts), as Lambda's own retries already require;
#   - sparklambda.events.hand_off(reason), called before writing anything, ends the run and hands the event to EMR
#     Serverless (with routing on; see routing.py); under spark-submit it returns False and the script carries on;
#   - tempfile / $TMPDIR point at a per-invocation scratch directory under /tmp that is removed after the invocation
#     (success or failure); files written elsewhere in /tmp stay for the next warm invocation (e.g. a cache).
#
# Response: {"status": "SUCCEEDED", "duration_s", "result", "script": {...}, "spark": {"jvm_pid", "jvm_starts",
# "context_starts", "invocation", "new_jvm", "startup_s", "heap_mib", "tmp_free_mib", "tmp_total_mib", "tmp_low",
# "jvm_gc" (the JVM was asked to collect after the script: /tmp below SPARK_LAMBDA_TMP_GC_FREE_PCT free)},
# "commit_conflicts" (only after a retry), "batchItemFailures" (batch events only)}. NaN and +-Infinity in RESULT
# become null. An event handed to EMR Serverless instead: {"status": "HANDED_OFF", "engine": "emr-serverless",
# "application_id", "job_run_id", "job_run_arn", "client_token", "decided_by" ("input_size" or "script"), "reason",
# "input_bytes", "threshold_bytes", "event_by_reference", "event_uri" (only then), "duration_s", "script": {"uri"},
# "batchItemFailures": [] (batch events only)}. Every failure is raised (never returned), so the Runtime API reports
# the invocation as failed and Lambda's retries and failure destinations apply. Every invocation, success or failure,
# first prints its metrics (metrics.py; SPARK_LAMBDA_METRICS=off switches them off).
import logging
import os
import time
import traceback
import types

from sparklambda import conflicts

from . import commit_retry, config, events, isolation, metrics, response, routing, warmup
from .errors import (CommitConflictError, ConfigurationError, EventError, HandlerError, HandOffError,  # noqa: F401
                     ResponseTooLargeError, ScriptExitError, ScriptFailedError, ScriptNotFoundError, ScriptSyntaxError,
                     ScriptUnreadableError, SparkDriverDiedError, SparkStartError)
from .script_source import fetch_script
from .spark_runtime import SparkRuntime

logger = logging.getLogger("handler")
logger.setLevel(logging.INFO)

_spark = SparkRuntime()
_invocations = 0  # invocations this execution environment has served (1 = the cold one)


def _shorten(text, limit=6000):
    """Py4J errors carry whole Java stack traces: keep the head (which names the cause) and point at the log."""
    if len(text) <= limit:
        return text
    return text[:limit] + f" ... [{len(text) - limit} more characters: see the function's log]"


def _died(uri, death, during):
    return SparkDriverDiedError(
        f"the Spark driver JVM (pid {death['jvm_pid']}) died while script {uri} {during}: {death['cause']}; driver "
        f"heap {death['heap']}, function memory {death['memory_mib']} MiB. Fix: {death['fix']}. The next invocation "
        f"starts a new JVM.")


def _run_once(root, path, code, event, event_json, uri, record, asked_at):
    """One run of the script on its own session. Returns (RESULT, batch response); raises a HandlerError. `record`
    (metrics.Invocation) gets the seconds from `asked_at` (asking for Spark) to the session ready, and the script's."""
    module = types.ModuleType("__main__")
    events.begin(event)
    try:
        with isolation.InvocationSession(root):
            t0 = time.monotonic()
            record.add("SessionSeconds", t0 - asked_at)
            try:
                isolation.run_script(path, code, event_json, module)
            finally:
                record.add("ScriptSeconds", time.monotonic() - t0)
    except events.HandOffRequested:  # sparklambda.events.hand_off(): the caller hands the event to EMR Serverless
        events.abandon()
        logger.info("script %s declared its event too big for Lambda", uri)
        raise
    except SystemExit as e:
        if e.code is not None and e.code != 0:
            events.abandon()
            death = _spark.death()
            if death:
                raise _died(uri, death, f"called sys.exit({e.code!r})") from None
            logger.error("script %s called sys.exit(%r)", uri, e.code)
            raise ScriptExitError(f"script {uri} called sys.exit({e.code!r})") from None
        logger.info("script exited with sys.exit(%r): success", e.code)
    except Exception as e:
        events.abandon()
        logger.error("script %s raised:\n%s", uri, traceback.format_exc())
        death = _spark.death()
        if death:
            raise _died(uri, death, f"ran ({type(e).__name__})") from e
        raise ScriptFailedError(f"script {uri} raised {type(e).__name__}: {_shorten(str(e))}") from e
    finally:
        result = module.__dict__.get("RESULT")
        module.__dict__.clear()  # the script's DataFrames etc.: unreachable now, so GC can clean up after them
    return result, events.finish()


def handler(event, context):
    record = metrics.Invocation(context)
    try:
        out = _handle(event, context, record)
    except BaseException as e:
        metrics.emit(record, error=e)  # never raises: the invocation's own error is what Lambda sees
        raise
    metrics.emit(record)
    return out


def _handle(event, context, record):
    global _invocations
    started, started_at = time.monotonic(), time.time()
    bucket = config.require_env("SPARK_LAMBDA_SCRIPT_BUCKET", "set it to the bucket that holds the PySpark script")
    key = config.require_env("SPARK_LAMBDA_SCRIPT_KEY", "set it to the S3 key of the PySpark script in SPARK_LAMBDA_SCRIPT_BUCKET")
    config.framework()
    config.coordination()
    warmup.enabled()  # a bad SPARK_LAMBDA_INIT_WARMUP fails every invocation with its fix
    min_free_pct = config.tmp_min_free_pct()
    gc_free_pct = config.tmp_gc_free_pct()
    max_retries = config.conflict_retries()
    event_json = events.serialize(event)
    route = routing.settings()

    _invocations += 1
    record.prop(invocation=_invocations)
    script_uri = f"s3://{bucket}/{key}"
    decision = routing.decide(event, route) if route is not None else None
    if decision is not None:  # decided from the event alone: no script download, no Spark
        return _hand_off(route, decision, event, event_json, context, script_uri, record, started)
    t0 = time.monotonic()
    path, code, script_info = fetch_script(bucket, key)
    record.set("ScriptFetchSeconds", time.monotonic() - t0)
    jvm_starts_before = _spark.jvm_starts if _invocations > 1 else 0  # a background start belongs to the 1st
    uri = script_info["uri"]
    record.prop(script=uri, script_cached=script_info["cached"])
    logger.info("running %s (etag %s, %s)", uri, script_info["etag"], "cached" if script_info["cached"] else "downloaded")

    conflict_log = []
    attempt = 0
    tmp_report = {}
    try:
        while True:
            asked_at = time.monotonic()
            root = _spark.ensure()
            jvm_start_s = _spark.take_jvm_start()
            if jvm_start_s is not None:
                record.set("JvmStartSeconds", jvm_start_s)
            spark = _spark.report(jvm_starts_before, started_at)
            record.prop(jvm_pid=spark["jvm_pid"], new_jvm=spark["new_jvm"], jvm_launched_in=spark["jvm_launched_in"],
                        jvm_launch_lead_s=spark["jvm_launch_lead_s"], spark_startup_s=spark["startup_s"],
                        script_runs=attempt + 1)
            t0 = time.monotonic()
            try:
                result, batch = _run_once(root, path, code, event, event_json, uri, record, asked_at)
                break
            except events.HandOffRequested as e:
                decision = routing.script_decision(e.reason, event)
                break
            except ScriptFailedError as e:
                marker = conflicts.conflict_marker(e.__cause__ or e)
                if marker is None:
                    raise
                attempt += 1
                record.set("CommitConflicts", attempt)
                wait = commit_retry.backoff_s(attempt)
                remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else None
                conflict_log.append({"attempt": attempt, "conflict": marker, "seconds": round(time.monotonic() - t0, 3)})
                if not commit_retry.may_retry(attempt, max_retries, remaining, time.monotonic() - t0, wait):
                    raise CommitConflictError(
                        f"script {uri} lost {attempt} commit race(s) with concurrent writers of the same table "
                        f"(last: {marker}) and no retry is left (SPARK_LAMBDA_CONFLICT_RETRIES={max_retries}, "
                        f"{'unknown' if remaining is None else round(remaining)} s left). Nothing was committed by "
                        f"this invocation; Lambda's retries apply. Fix: fewer concurrent writers per table (lower "
                        f"the trigger's batch/concurrency, or ReservedConcurrency) or a longer timeout.") from e
                logger.warning("script %s lost a commit race (%s): running it again in %.2f s (retry %d of %d)",
                               uri, marker, wait, attempt, max_retries)
                time.sleep(wait)
                record.prop(backoff_s=round(record.properties.get("backoff_s", 0) + wait, 3))
    finally:
        t0 = time.monotonic()
        try:
            if _spark.root is not None and _spark.death() is None:
                tmp_report = isolation.reclaim_tmp(_spark.root._sc, min_free_pct, gc_free_pct)
        except Exception:  # never mask the script's own outcome
            logger.warning("could not reclaim /tmp after the invocation:\n%s", traceback.format_exc())
        record.set("CleanupSeconds", time.monotonic() - t0)

    if decision is not None:
        if route is None:
            raise HandOffError(
                f"script {uri} declared its event too big for Lambda (sparklambda.events.hand_off: {decision.reason}), "
                f"but routing to EMR Serverless is off ({routing.ENV_APPLICATION_ID} is not set). Fix: route the "
                f"function to an EMR Serverless application (RouteLargeInputsTo), or send smaller events")
        return _hand_off(route, decision, event, event_json, context, uri, record, started, script_info)
    return response.build(
        result, round(time.monotonic() - started, 3), script_info,
        {**_spark.report(jvm_starts_before, started_at), "invocation": _invocations, **tmp_report},
        batch=batch, conflicts=conflict_log)


def _hand_off(route, decision, event, event_json, context, script_uri, record, started, script_info=None):
    """StartJobRun for the event (routing.hand_off); the invocation's response, its figures in `record`."""
    record.prop(handoff_decided_by=decision.decided_by, input_bytes=decision.input_bytes)
    out = routing.hand_off(route, decision, event, event_json, context, script_uri)
    record.set("HandedOff", 1)
    record.prop(engine=out["engine"], job_run_id=out["job_run_id"], event_by_reference=out["event_by_reference"])
    out["duration_s"] = round(time.monotonic() - started, 3)
    if script_info is not None:
        out["script"] = script_info
    return out


def _warm_up(root):
    """The init phase's warm-up of the function's table format (handler.warmup), then its shuffle files removed by
    a full JVM collection whatever /tmp's free space: it is the init phase's time, not an invocation's."""
    out = warmup.run(root, config.framework(), isolation)
    isolation.reclaim_tmp(root._sc, config.tmp_min_free_pct(), 100.0)
    return out


def _init_warm_up():
    try:
        return warmup.enabled()
    except ConfigurationError as e:  # reported by every invocation (_handle), never fails the init phase itself
        logger.error("%s", e)
        return False


# Init phase: start the JVM in the background so the (up to 10 s) init phase is not blocked and the first
# invocation only waits for the rest; nothing to start when the function is not configured. Where the init phase has
# the time (provisioned concurrency, handler.warmup), start it in the init phase itself and warm the table format up.
if (os.environ.get("SPARK_LAMBDA_SCRIPT_BUCKET") and os.environ.get("SPARK_LAMBDA_SCRIPT_KEY")
        and os.environ.get("SPARK_LAMBDA_PRESTART", "1") != "0"):
    try:
        if _init_warm_up():
            _spark.start_and_warm_up(_warm_up)
        else:
            _spark.start_in_background()
    except Exception:  # never fail the init phase here; the first invocation starts Spark itself
        logger.warning("could not start Spark in the init phase:\n%s", traceback.format_exc())
# Also during init (after the JVM's launch has begun): the metrics library, so no invocation pays for its import.
if metrics.enabled():
    metrics.preload()
