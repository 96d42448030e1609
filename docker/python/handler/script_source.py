# Where the script comes from: the PySpark file at SPARK_LAMBDA_SCRIPT_BUCKET/SPARK_LAMBDA_SCRIPT_KEY in S3, downloaded once and kept (with
# its compiled code) across warm invocations while the object's ETag is unchanged (a conditional GET each time).
import os
import re

from .errors import ScriptNotFoundError, ScriptSyntaxError, ScriptUnreadableError

SCRIPT_DIR = "/tmp/spark-scripts"

_s3 = None
_cache = {}  # (bucket, key) -> {"etag", "path", "code"}


def s3_client():
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
    cached = _cache.get((bucket, key))
    kwargs = {"Bucket": bucket, "Key": key}
    if cached and os.path.exists(cached["path"]):
        kwargs["IfNoneMatch"] = cached["etag"]
    try:
        obj = s3_client().get_object(**kwargs)
    except ClientError as e:
        err = e.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if cached and (code == "304" or status == 304):
            return cached["path"], cached["code"], {"uri": uri, "etag": cached["etag"], "cached": True}
        _cache.pop((bucket, key), None)
        if code in ("NoSuchKey", "404", "NotFound"):
            raise ScriptNotFoundError(f"script {uri} does not exist: upload it or fix SPARK_LAMBDA_SCRIPT_KEY / SPARK_LAMBDA_SCRIPT_BUCKET") from e
        if code == "NoSuchBucket":
            raise ScriptNotFoundError(f"script bucket {bucket!r} does not exist ({uri}): fix SPARK_LAMBDA_SCRIPT_BUCKET") from e
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
        _cache.pop((bucket, key), None)
        raise ScriptSyntaxError(f"script {uri} has a syntax error at line {e.lineno}: {e.msg}") from e
    os.makedirs(SCRIPT_DIR, exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(source)
    os.replace(path + ".tmp", path)
    _cache[(bucket, key)] = {"etag": etag, "path": path, "code": code}
    return path, code, {"uri": uri, "etag": etag, "cached": False}
