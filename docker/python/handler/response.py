# The invocation's response: the script's RESULT made JSON-safe, the run's facts (script, Spark, retries), Lambda's
# partial batch response for SQS / Kinesis / DynamoDB Streams batches, and a size check against Lambda's limit.
import json
import math

from .errors import ResponseTooLargeError

# Lambda's synchronous invocation response payload limit: 6 MB (AWS Lambda quotas), counted in bytes of the JSON.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024


def finite(value):
    """NaN and +-Infinity are not JSON: they become None (null), at any depth."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def jsonable(value):
    return finite(json.loads(json.dumps(value, default=str)))


def build(result, duration_s, script_info, spark_report, batch=None, conflicts=None):
    """The response dict. `batch` (Lambda's {"batchItemFailures": [...]}) is merged at the top level, where Lambda's
    event source mapping reads it. Raises ResponseTooLargeError above Lambda's 6 MB limit (Lambda would otherwise
    fail the invocation with a truncated or rejected payload after the script's work is done)."""
    response = {
        "status": "SUCCEEDED",
        "duration_s": duration_s,
        "result": jsonable(result),
        "script": script_info,
        "spark": spark_report,
    }
    if conflicts:
        response["commit_conflicts"] = conflicts
    if batch is not None:
        response.update(batch)
    size = len(json.dumps(response, allow_nan=False).encode("utf-8"))
    if size > MAX_RESPONSE_BYTES:
        raise ResponseTooLargeError(
            f"the response is {size} bytes, above Lambda's 6 MB ({MAX_RESPONSE_BYTES} bytes) limit for a synchronous "
            f"response; the script's RESULT makes up most of it: return a summary in RESULT and write large results "
            f"to S3 (return their s3:// location)")
    return response
