# Per-invocation figures in production: one CloudWatch embedded metric format (EMF) document printed to stdout for
# every invocation, success or failure (Lambda ships stdout to CloudWatch Logs, which turns the document into
# metrics), written with Powertools for AWS Lambda's EMF provider. Emitting never fails an invocation.
#
# Namespace SPARK_LAMBDA_METRICS_NAMESPACE (default SparkLambda); dimensions `service` (the function name) and
# `framework` (the table format): one dimension set, so each metric name is one CloudWatch metric per function.
# Values that are unbounded (request id, JVM pid, error type) are properties of the document, never dimensions.
# SPARK_LAMBDA_METRICS=off switches it off (Powertools' own POWERTOOLS_METRICS_DISABLED=true silences it too).
import logging
import os
import sys
import time
import traceback

logger = logging.getLogger("handler")

NAMESPACE_DEFAULT = "SparkLambda"
SECONDS, COUNT = "Seconds", "Count"
# Every metric the handler emits, with its unit (README "Metrics" says when each is emitted).
METRICS = {
    "ColdStart": COUNT,            # 1 on the first invocation of an execution environment (absent afterwards)
    "ScriptFetchSeconds": SECONDS,  # the script from S3 (or its ETag check while cached)
    "JvmStartSeconds": SECONDS,     # JVM launch to Py4J gateway ready; once per JVM, by the first invocation using it
    "SessionSeconds": SECONDS,      # from asking for Spark to the invocation's SparkSession ready (all runs)
    "ScriptSeconds": SECONDS,       # the script's runs (all runs; the table commits happen inside them)
    "CleanupSeconds": SECONDS,      # after the script: GC and the /tmp check (and a SparkContext stop when /tmp is low)
    "CommitConflicts": COUNT,       # lost commit races, each followed by a retry or by CommitConflictError
    "HandedOff": COUNT,             # 1 when the event was handed to EMR Serverless (StartJobRun succeeded), else 0
    "DurationSeconds": SECONDS,     # the whole handler
    "Succeeded": COUNT,             # 1 or 0
    "Failed": COUNT,                # 1 or 0 (the error type is the property error_type)
}
_OFF = {"off", "0", "false", "no"}
_ON = {"", "on", "1", "true", "yes"}

_cold = True  # no invocation has started in this execution environment yet


def enabled(environ=None):
    """False when SPARK_LAMBDA_METRICS is off/0/false/no; an unknown value is logged and leaves metrics on (a metrics
    setting never fails an invocation)."""
    env = os.environ if environ is None else environ
    raw = env.get("SPARK_LAMBDA_METRICS", "").strip().lower()
    if raw in _OFF:
        return False
    if raw not in _ON:
        logger.warning("SPARK_LAMBDA_METRICS=%r is not on or off: metrics stay on", raw)
    return True


def namespace(environ=None):
    env = os.environ if environ is None else environ
    return env.get("SPARK_LAMBDA_METRICS_NAMESPACE", "").strip() or NAMESPACE_DEFAULT


def _provider_class():
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    return AmazonCloudWatchEMFProvider


def preload():
    """Imports the EMF library during the init phase, so the first invocation does not pay for it."""
    try:
        _provider_class()
    except Exception:
        logger.warning("could not import the metrics library (metrics will be skipped):\n%s", traceback.format_exc())


class Invocation:
    """What one invocation measured, filled in by the handler as it goes; emit() writes it once at the end."""

    def __init__(self, context=None):
        global _cold
        self.started = time.monotonic()
        self.cold, _cold = _cold, False
        self.values = {"CommitConflicts": 0, "HandedOff": 0}
        self.properties = {"request_id": getattr(context, "aws_request_id", None)}
        if self.cold:
            self.properties["initialization_type"] = os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")

    def add(self, name, seconds_or_count):
        """Adds to a metric (a phase that runs once per script run is summed over the runs)."""
        self.values[name] = self.values.get(name, 0) + seconds_or_count

    def set(self, name, value):
        self.values[name] = value

    def prop(self, **properties):
        self.properties.update(properties)

    def finish(self, error=None):
        """Closes the record: duration, outcome and, on failure, the error's type (Lambda's errorType)."""
        self.values["DurationSeconds"] = time.monotonic() - self.started
        self.values["Succeeded"], self.values["Failed"] = (0, 1) if error is not None else (1, 0)
        if self.cold:
            self.values["ColdStart"] = 1
        if error is not None:
            self.properties["error_type"] = type(error).__name__
        return self

    def provider(self, environ=None):
        """Powertools' EMF provider holding this invocation's metrics, dimensions and properties (its own sets: a
        script's own Powertools Metrics never mix with these)."""
        env = os.environ if environ is None else environ
        provider = _provider_class()(
            namespace=namespace(env), service=env.get("AWS_LAMBDA_FUNCTION_NAME", "").strip() or "spark-on-lambda",
            metric_set={}, dimension_set={}, metadata_set={})
        framework = env.get("SPARK_LAMBDA_FRAMEWORK", "").strip().upper()
        if framework:
            provider.add_dimension(name="framework", value=framework)
        for name, unit in METRICS.items():
            value = self.values.get(name)
            if value is not None:
                provider.add_metric(name=name, unit=unit, value=round(value, 3) if unit == SECONDS else value)
        for key, value in self.properties.items():
            if value is not None:
                provider.add_metadata(key=key, value=value)
        return provider


def emit(invocation, error=None, environ=None):
    """Prints the invocation's EMF document as one line on stdout (Powertools' flush), unless switched off. Never
    raises: a failure is logged and the invocation's own outcome stands."""
    try:
        if not enabled(environ):
            return
        invocation.finish(error).provider(environ).flush_metrics(raise_on_empty_metrics=True)
        sys.stdout.flush()
    except Exception:
        logger.warning("could not emit the invocation's metrics (the invocation is not affected):\n%s",
                       traceback.format_exc())
