# Routing of events too big for Lambda to EMR Serverless, from the same trigger (the SparkLambda construct's
# RouteLargeInputsTo sets the SPARK_LAMBDA_EMR_* variables below; routing is on only with
# SPARK_LAMBDA_EMR_APPLICATION_ID). Per event, before Spark is asked for: do its S3 inputs sum above the threshold?
# Or, during the script, its own declaration (sparklambda.events.hand_off). Either way the handler starts the same
# script with the same event on the application (StartJobRun) and returns where the event went; it does not wait for
# the job run (failed runs reach the function's failure queue through the construct's EventBridge rule).
#
#   the event        `--event <json>` when it fits one entryPointArgument (limit read from botocore's emr-serverless
#                    model), else written to <staging>events/<request id>.json and passed as `--event-uri s3://...`,
#                    which sparklambda.events.current() reads back whole on the EMR side;
#   the settings     config.spark_settings() of this function (warehouse, Iceberg catalog, commit coordination) minus
#                    what only Lambda's local mode uses, as `--conf` in sparkSubmitParameters; the application itself
#                    carries the table format's static settings and jars;
#   Hudi's defaults  hudi-defaults.conf cannot travel as Spark conf (Hudi 1.0's DataFrame writer reads no Spark conf for
#                    its write options): it is staged at <staging>hudi-conf/<sha256>/hudi-defaults.conf and the job's
#                    driver and executors get HUDI_CONF_DIR pointing there (Hudi reads that directory through Hadoop's
#                    filesystem, so an s3:// directory works);
#   the lock classes the image's coordination jar and AWS Labs' dynamodb-lock-client (Delta and Hudi with DynamoDB
#                    coordination), uploaded once to <staging>jars/<sha256>/<name> and passed with --jars, so both
#                    engines take the same DynamoDB lock on a table;
#   idempotency      clientToken = the Lambda request id: Lambda's retries of one asynchronous event keep it, so a
#                    retry never starts a second job run.
import glob
import hashlib
import logging
import os
import re
import time
import uuid
from collections import namedtuple

from sparklambda import events as script_events

from . import config, script_source
from .errors import ConfigurationError, HandOffError

logger = logging.getLogger("handler")

ENV_APPLICATION_ID = "SPARK_LAMBDA_EMR_APPLICATION_ID"
ENV_EXECUTION_ROLE_ARN = "SPARK_LAMBDA_EMR_EXECUTION_ROLE_ARN"
ENV_THRESHOLD_BYTES = "SPARK_LAMBDA_EMR_THRESHOLD_BYTES"
ENV_STAGING_URI = "SPARK_LAMBDA_EMR_STAGING_URI"
ENV_PY_FILES = "SPARK_LAMBDA_EMR_PY_FILES"
ENGINE = "emr-serverless"
STATUS = "HANDED_OFF"
# Why a job was handed off (the response's and the metrics' decided_by).
BY_INPUT_SIZE, BY_SCRIPT = "input_size", "script"

# One entryPointArgument's length when botocore's model states none: the pinned botocore (1.40) dropped the 10,280
# characters that its emr-serverless model (up to 1.35) gave EntryPointArgument; the service may still apply it, and
# an argument must stay under Linux's MAX_ARG_STRLEN (131,072 bytes) on the job's driver anyway. Events above it go by
# reference, which costs one PutObject.
FALLBACK_ARGUMENT_MAX = 10280
# Objects an event names without a size (a plain {"input": ...}) that are sized with HeadObject, at most.
MAX_HEADS = 100

# The table format's jars on the EMR release (EMR Serverless User Guide; the application's spark.jars, as the
# construct's emrFormatJars in constructs/sparklambda/sparkconf.go sets it). A job run's --jars replaces spark.jars,
# so a run that adds the coordination jars repeats these.
EMR_FORMAT_JARS = {
    "ICEBERG": ("/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar",),
    "DELTA": ("/usr/share/aws/delta/lib/delta-spark.jar", "/usr/share/aws/delta/lib/delta-storage.jar"),
    "HUDI": ("/usr/lib/hudi/hudi-spark-bundle.jar",),
}
# The image's jars that Delta's and Hudi's DynamoDB commit coordination needs on EMR too, in $SPARK_HOME/jars
# (docker/build-coordination.sh builds the first; docker/versions.lock pins the second).
COORDINATION_JARS = ("spark-lambda-coordination.jar", "dynamodb-lock-client-*.jar")
# Settings of Lambda's local mode and sandbox (docker/conf/spark-defaults.conf has them; config.spark_settings makes
# none today): never sent to EMR. Local S3/Glue/DynamoDB endpoint overrides come from config only when a test
# endpoint (AWS_ENDPOINT_URL*) is set, so they reach a job only in local tests.
LOCAL_ONLY_KEYS = frozenset({
    "spark.master", "spark.driver.bindAddress", "spark.driver.host", "spark.local.dir", "spark.jars.ivy",
    "spark.driver.extraJavaOptions", "spark.hadoop.hadoop.tmp.dir", "spark.hadoop.fs.s3a.buffer.dir",
    "spark.hadoop.javax.jdo.option.ConnectionURL", "spark.sql.shuffle.partitions", "spark.default.parallelism",
    "spark.app.name",
})
LOCAL_ONLY_PREFIXES = ("spark.ui.",)

Routing = namedtuple("Routing", "application_id execution_role_arn threshold_bytes staging_bucket staging_prefix py_files")
Decision = namedtuple("Decision", "decided_by reason input_bytes")

_emr = None
_staged = set()  # (bucket, key) of staged objects this environment has seen in place (content-addressed keys)


def emr_client():
    global _emr
    if _emr is None:
        import boto3  # in the Lambda Python base image

        _emr = boto3.client("emr-serverless")
    return _emr


def _split_s3(uri):
    m = re.fullmatch(r"s3://([^/]+)/(.*)", uri)
    return (m.group(1), m.group(2)) if m else (None, None)


def settings(environ=None):
    """The routing contract, checked; None when SPARK_LAMBDA_EMR_APPLICATION_ID is unset (routing off)."""
    env = os.environ if environ is None else environ
    application = env.get(ENV_APPLICATION_ID, "").strip()
    if not application:
        return None
    fix = (f"RouteLargeInputsTo sets it together with {ENV_APPLICATION_ID}: redeploy the construct, or unset "
           f"{ENV_APPLICATION_ID} to switch routing off")

    def need(name):
        value = env.get(name, "").strip()
        if not value:
            raise ConfigurationError(f"environment variable {name} is not set but {ENV_APPLICATION_ID} is: {fix}")
        return value

    role = need(ENV_EXECUTION_ROLE_ARN)
    raw = need(ENV_THRESHOLD_BYTES)
    if not raw.isdigit():
        raise ConfigurationError(f"environment variable {ENV_THRESHOLD_BYTES}={raw!r} is not a whole number of bytes "
                                 f"(e.g. 1073741824 for 1 GiB): {fix}")
    staging = need(ENV_STAGING_URI)
    bucket, prefix = _split_s3(staging)
    if not bucket or not staging.endswith("/"):
        raise ConfigurationError(f"environment variable {ENV_STAGING_URI}={staging!r} is not an s3://bucket/prefix/ "
                                 f"folder (ending in '/'): {fix}")
    py_files = need(ENV_PY_FILES)
    if not _split_s3(py_files)[0]:
        raise ConfigurationError(f"environment variable {ENV_PY_FILES}={py_files!r} is not an s3:// URI of the "
                                 f"sparklambda zip: {fix}")
    return Routing(application, role, int(raw), bucket, prefix, py_files)


# --- the decision from the event ------------------------------------------------------------------------------------
def _head_size(obj):
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return int(script_source.s3_client().head_object(Bucket=obj.bucket, Key=obj.key)["ContentLength"])
    except (BotoCoreError, ClientError) as e:  # a folder, no access, ...: not sized, the event stays on Lambda
        logger.warning("routing: cannot size %s (%s): not counted", obj.uri, e)
        return None


def input_bytes(event):
    """(bytes, objects, unsized): the sum of the sizes of the S3 objects the event names
    (sparklambda.events.s3_objects), where objects the event gives no size for (a plain {"input": ...}) are sized with
    HeadObject (the first MAX_HEADS); unsized are the objects left without a size. bytes is None when the event names
    no S3 objects (a batch of records, a schedule)."""
    try:
        objects = script_events.s3_objects(event)
    except (script_events.EventFormatError, KeyError, TypeError, ValueError):
        return None, 0, 0
    total, unsized, heads = 0, 0, 0
    for obj in objects:
        size = obj.size
        if size is None and heads < MAX_HEADS:
            heads += 1
            size = _head_size(obj)
        if size is None:
            unsized += 1
        else:
            total += int(size)
    return total, len(objects), unsized


def decide(event, route):
    """A Decision to hand the event off when its S3 inputs sum above the threshold, else None (run on Lambda). Needs
    no Spark: it runs before the JVM is asked for."""
    total, count, unsized = input_bytes(event)
    if total is None or total <= route.threshold_bytes:
        return None
    reason = (f"the event's {count} S3 input object(s) sum to {total} bytes, above {ENV_THRESHOLD_BYTES}="
              f"{route.threshold_bytes}" + (f" ({unsized} not sized)" if unsized else ""))
    return Decision(BY_INPUT_SIZE, reason, total)


def script_decision(reason, event):
    """The Decision for a script's sparklambda.events.hand_off(reason)."""
    total, _, _ = input_bytes(event)
    return Decision(BY_SCRIPT, f"the script declared: {reason}", total)


# --- what the job run gets -------------------------------------------------------------------------------------------
def spark_conf(environ=None):
    """The dynamic Spark settings for the job run: this function's config.spark_settings() without the local-mode ones."""
    return {k: v for k, v in config.spark_settings(environ).items()
            if k not in LOCAL_ONLY_KEYS and not k.startswith(LOCAL_ONLY_PREFIXES)}


def limits(service_model):
    """The request limits of StartJobRun, from botocore's emr-serverless service model (botocore validates only the
    minimum lengths itself)."""
    def most(shape):
        return service_model.shape_for(shape).metadata.get("max")

    return {"argument": most("EntryPointArgument") or FALLBACK_ARGUMENT_MAX,
            "submit_parameters": most("SparkSubmitParameters"), "client_token": most("ClientToken"),
            "name": most("String256"), "entry_point": most("EntryPointPath")}


def client_token(request_id):
    """The StartJobRun idempotency token: the request id (Lambda's are UUIDs), in the token's alphabet and length."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", request_id)[:64]


# Tag keys of every job run the handler starts; the construct lets the function tag job runs with keys of this prefix
# only (EmrJobRunTagPrefix in constructs/sparklambda/routing.go).
TAG_PREFIX = "spark-lambda:"


def job_run_request_tags(function_name, request_id):
    """The tags of a job run: the function and the Lambda request id that started it (each value at most 256
    characters, EMR Serverless's limit)."""
    return {TAG_PREFIX + "function": function_name[:256], TAG_PREFIX + "request-id": request_id[:256]}


def job_request(route, request_id, function_name, script_uri, arguments, conf, jars=()):
    """The StartJobRun parameters (boto3's names). Every --conf value must be free of whitespace:
    sparkSubmitParameters is one string of spark-submit options."""
    params = ["--py-files", route.py_files]
    if jars:
        params += ["--jars", ",".join(jars)]
    for key in sorted(conf):
        value = str(conf[key])
        if re.search(r"\s", key + value) or not value:
            raise HandOffError(f"the Spark setting {key}={value!r} cannot be passed in sparkSubmitParameters (empty or "
                               f"with whitespace): fix the environment variable it comes from")
        params += ["--conf", f"{key}={value}"]
    return {
        "applicationId": route.application_id,
        "executionRoleArn": route.execution_role_arn,
        "clientToken": client_token(request_id),
        "name": f"{function_name}-{request_id}"[:256],
        "jobDriver": {"sparkSubmit": {"entryPoint": script_uri, "entryPointArguments": list(arguments),
                                      "sparkSubmitParameters": " ".join(params)}},
        "tags": job_run_request_tags(function_name, request_id),
    }


def _put_once(s3, bucket, key, body):
    """Puts `body` (bytes, or a callable returning them) at a content-addressed key unless it is there already."""
    from botocore.exceptions import ClientError

    if (bucket, key) in _staged:
        return
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        if str(e.response.get("Error", {}).get("Code")) not in ("404", "NoSuchKey", "NotFound"):
            raise
        s3.put_object(Bucket=bucket, Key=key, Body=body() if callable(body) else body)
    _staged.add((bucket, key))


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def coordination_jar_paths(environ=None):
    """The image's jars a job run needs for Delta's / Hudi's DynamoDB commit coordination ([] otherwise)."""
    env = os.environ if environ is None else environ
    mode, _ = config.coordination(env)
    if mode != "dynamodb" or config.framework(env) not in ("DELTA", "HUDI"):
        return []
    jars_dir = os.path.join(env.get("SPARK_HOME", "").strip() or "/opt/spark", "jars")
    paths = []
    for pattern in COORDINATION_JARS:
        found = sorted(glob.glob(os.path.join(jars_dir, pattern)))
        if not found:
            raise HandOffError(f"the image has no {pattern} in {jars_dir}, which the EMR job run needs for the "
                               f"DynamoDB commit lock: rebuild the image (docker/Dockerfile puts it there)")
        paths.append(found[-1])
    return paths


def stage(route, event_json, request_id, argument_max, environ=None, s3=None):
    """Writes what the job run reads by reference into the staging prefix. Returns (entryPointArguments, event URI or
    None, extra Spark settings, jar URIs)."""
    env = os.environ if environ is None else environ
    s3 = s3 or script_source.s3_client()
    bucket, prefix = route.staging_bucket, route.staging_prefix
    uri = None
    if len(event_json.encode("utf-8")) <= argument_max:
        arguments = ["--event", event_json]
    else:
        key = f"{prefix}events/{client_token(request_id)}.json"
        s3.put_object(Bucket=bucket, Key=key, Body=event_json.encode("utf-8"), ContentType="application/json")
        uri = f"s3://{bucket}/{key}"
        arguments = [script_events.EVENT_URI_ARG, uri]
    extra = {}
    hudi = config.hudi_defaults_conf(env)
    if hudi:
        data = hudi.encode("utf-8")
        folder = f"{prefix}hudi-conf/{hashlib.sha256(data).hexdigest()}"
        _put_once(s3, bucket, f"{folder}/hudi-defaults.conf", data)
        extra["spark.emr-serverless.driverEnv.HUDI_CONF_DIR"] = f"s3://{bucket}/{folder}"
        extra["spark.executorEnv.HUDI_CONF_DIR"] = f"s3://{bucket}/{folder}"
    jars = []
    local = coordination_jar_paths(env)
    if local:
        jars = list(EMR_FORMAT_JARS[config.framework(env)])
        for path in local:
            digest = hashlib.sha256(_read(path)).hexdigest()
            key = f"{prefix}jars/{digest}/{os.path.basename(path)}"
            _put_once(s3, bucket, key, lambda p=path: _read(p))
            jars.append(f"s3://{bucket}/{key}")
    return arguments, uri, extra, jars


def _fix_for(code, route):
    return {
        "AccessDeniedException": (f"the function's role needs emr-serverless:StartJobRun on application "
                                  f"{route.application_id} and iam:PassRole on {route.execution_role_arn} "
                                  f"(RouteLargeInputsTo grants both): redeploy the construct"),
        "ResourceNotFoundException": f"application {route.application_id} does not exist: fix {ENV_APPLICATION_ID}",
        "ValidationException": "the request was refused as above: check the application's state and the settings",
        "ServiceQuotaExceededException": "raise the account's EMR Serverless quota or lower the application's load",
    }.get(code, "Lambda's retries apply and start no second job run (same clientToken)")


def hand_off(route, decision, event, event_json, context, script_uri, environ=None):
    """Starts the job run; returns the invocation's response. Raises HandOffError naming the cause and the fix."""
    from botocore.exceptions import BotoCoreError, ClientError

    env = os.environ if environ is None else environ
    t0 = time.monotonic()
    request_id = getattr(context, "aws_request_id", None) or str(uuid.uuid4())
    function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "").strip() or "spark-on-lambda"
    emr = emr_client()
    most = limits(emr.meta.service_model)
    try:
        arguments, event_uri, extra, jars = stage(route, event_json, request_id, most["argument"], env)
    except (BotoCoreError, ClientError) as e:
        raise HandOffError(
            f"could not stage the hand-off to EMR Serverless in s3://{route.staging_bucket}/{route.staging_prefix}: "
            f"{e}. Fix: the function's role needs s3:GetObject and s3:PutObject on that prefix (RouteLargeInputsTo "
            f"grants them) and the bucket must exist ({ENV_STAGING_URI})") from e
    request = job_request(route, request_id, function_name, script_uri, arguments, {**spark_conf(env), **extra}, jars)
    submit = request["jobDriver"]["sparkSubmit"]
    for what, value, limit in (("sparkSubmitParameters", submit["sparkSubmitParameters"], most["submit_parameters"]),
                               ("entryPoint", submit["entryPoint"], most["entry_point"])):
        if limit and len(value) > limit:
            raise HandOffError(f"the job run's {what} is {len(value)} characters, above StartJobRun's {limit}: "
                               f"shorten the settings or the script's key")
    try:
        out = emr.start_job_run(**request)
    except ClientError as e:
        err = e.response.get("Error", {})
        code = str(err.get("Code", ""))
        raise HandOffError(f"StartJobRun on EMR Serverless application {route.application_id} failed: {code}: "
                           f"{err.get('Message', e)}. Fix: {_fix_for(code, route)}") from e
    except BotoCoreError as e:
        raise HandOffError(f"StartJobRun on EMR Serverless application {route.application_id} failed: {e}. Fix: "
                           f"check the function's network route to EMR Serverless; Lambda's retries apply and start no "
                           f"second job run (same clientToken)") from e
    logger.info("handed the event to EMR Serverless: application %s, job run %s (%s)", route.application_id,
                out["jobRunId"], decision.reason)
    response = {
        "status": STATUS,
        "engine": ENGINE,
        "application_id": out.get("applicationId", route.application_id),
        "job_run_id": out["jobRunId"],
        "job_run_arn": out.get("arn"),
        "client_token": request["clientToken"],
        "decided_by": decision.decided_by,
        "reason": decision.reason,
        "input_bytes": decision.input_bytes,
        "threshold_bytes": route.threshold_bytes,
        "event_by_reference": event_uri is not None,
        "duration_s": round(time.monotonic() - t0, 3),
        "script": {"uri": script_uri},
    }
    if event_uri is not None:
        response["event_uri"] = event_uri
    batch = script_events.batch_response(event, [])  # SQS / streams: nothing left for Lambda to retry
    if batch is not None:
        response.update(batch)
    return response
