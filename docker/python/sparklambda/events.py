# The invocation event, as a script sees it: what kind of trigger sent it, the S3 objects it names, its batch of
# records as a Spark DataFrame, and the records the script wants Lambda to retry (partial batch failures).
#
# Event shapes are read with AWS Lambda Powertools for Python's event source data classes (imported only when a
# trigger event needs them, so a plain {"input": ...} event under spark-submit needs nothing but this file). Its batch
# processor is not used: it calls a Python function per record, while a Spark script processes the whole batch as one
# DataFrame; the response it would build is the one documented below, built in the handler.
#
# Events too large for one command-line argument reach a spark-submit job by reference, `--event-uri s3://...` (the
# Lambda handler's hand-off to EMR Serverless writes them there); current() reads them back whole. A script that finds
# its input too big for Lambda declares it with hand_off(reason), before it writes anything.
#
# Record identifiers (what `fail()` takes and what Lambda's batchItemFailures holds):
#   SQS               messageId                     (an S3 notification delivered through SQS: its message's id)
#   Kinesis           kinesis.sequenceNumber
#   DynamoDB Streams  dynamodb.SequenceNumber
#   MSK / Kafka       "<topic>-<partition>@<offset>" (Lambda has no partial batch response for Kafka: a failed record
#                     fails the whole invocation)
import argparse
import base64
import collections
import datetime
import decimal
import json
import sys
from urllib.parse import unquote_plus

# What kind of trigger sent an event (see kind()).
PLAIN, S3, SQS, SNS, KINESIS, DYNAMODB, KAFKA, EVENTBRIDGE, EVENTBRIDGE_S3 = (
    "plain", "s3", "sqs", "sns", "kinesis", "dynamodb", "kafka", "eventbridge", "eventbridge-s3")
# Kinds whose failed records Lambda retries alone when the response names them (ReportBatchItemFailures).
PARTIAL_BATCH_KINDS = (SQS, KINESIS, DYNAMODB)
RECORD_KINDS = (SQS, KINESIS, DYNAMODB, KAFKA)


class EventFormatError(ValueError):
    """The event is not of a shape this function can take (the message names what was expected)."""


class HandOffRequested(BaseException):
    """Raised by hand_off() under the Lambda handler: ends the script's run, and the handler hands the event to EMR
    Serverless. A BaseException (like SystemExit), so a script's own `except Exception:` does not swallow it."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


S3Object = collections.namedtuple(
    "S3Object", "bucket key size etag version_id event_name event_time record_id")
S3Object.uri = property(lambda o: f"s3://{o.bucket}/{o.key}")
S3Object.__doc__ = ("One S3 object named by an event: bucket, key (URL-decoded), size in bytes, etag, version_id, "
                    "event_name, event_time (None where the event does not say), record_id (the SQS message that "
                    "carried it, for fail()); .uri is s3://bucket/key.")

Record = collections.namedtuple(
    "Record", "record_id source source_arn body partition_key sequence_number partition offset timestamp topic "
              "event_name attributes")
Record.__doc__ = ("One record of a batch: record_id (see fail()), source (aws:sqs, aws:kinesis, aws:dynamodb, "
                  "aws:kafka), source_arn, body (decoded text), partition_key, sequence_number, partition, offset, "
                  "timestamp (UTC datetime), topic, event_name, attributes (dict of str).")


# --- the current invocation ---------------------------------------------------------------------------------------
class _Invocation:
    def __init__(self, event, under_handler=False):
        self.event = event
        self.under_handler = under_handler  # True: the Lambda handler runs the script (begin() was called)
        self.failed = []  # record ids, in the order they were first marked
        self.reasons = {}


_current = None


def begin(event):
    """Called by the Lambda handler before each script run: `event` becomes current() and no record is failed."""
    global _current
    _current = _Invocation(event, under_handler=True)
    return _current


def end():
    """Called by the Lambda handler after the script: (event, failed record ids, reasons); forgets the invocation."""
    global _current
    inv, _current = _current, None
    if inv is None:
        return None, [], {}
    return inv.event, list(inv.failed), dict(inv.reasons)


EVENT_URI_ARG = "--event-uri"  # the by-reference form: the event's JSON is the object at this s3:// (or any Hadoop) URI


def _read_uri(uri):
    """The bytes at `uri`. Through Spark's Hadoop filesystem when PySpark is there (always under spark-submit): the
    same filesystem, credentials and endpoint settings the job reads its data with (EMRFS on EMR Serverless, s3a in
    the image), where boto3 is not guaranteed (EMR Serverless images leave extra Python packages to the job). Without
    PySpark (plain Python, tests), boto3. Starts the SparkSession when the script has none yet: the one the script's
    SparkSession.builder.getOrCreate() then returns."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is not None:
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
        jvm, sc = spark.sparkContext._jvm, spark.sparkContext
        path = jvm.org.apache.hadoop.fs.Path(uri)
        stream = path.getFileSystem(sc._jsc.hadoopConfiguration()).open(path)
        try:
            return bytes(jvm.org.apache.hadoop.io.IOUtils.readFullyToByteArray(stream))
        finally:
            stream.close()
    import boto3

    scheme, _, rest = uri.partition("://")
    bucket, _, key = rest.partition("/")
    if scheme not in ("s3", "s3a") or not bucket or not key:
        raise EventFormatError(f"{EVENT_URI_ARG} {uri!r} is not an s3://bucket/key URI (without PySpark only S3 is "
                               "read)")
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def _from_argv(argv=None):
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--event", default=None)
    parser.add_argument(EVENT_URI_ARG, dest="event_uri", default=None)
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if args.event is not None and args.event_uri is not None:
        raise EventFormatError(f"both --event and {EVENT_URI_ARG} are given: pass the event one way")
    if args.event_uri is not None:
        try:
            text = _read_uri(args.event_uri).decode("utf-8")
        except EventFormatError:
            raise
        except Exception as e:
            raise EventFormatError(f"cannot read the event at {EVENT_URI_ARG} {args.event_uri}: {type(e).__name__}: "
                                   f"{e} (the job's role needs read access to it)") from e
        try:
            return json.loads(text)
        except ValueError as e:
            raise EventFormatError(f"the event at {EVENT_URI_ARG} {args.event_uri} is not JSON: {e}") from e
    if args.event is None:
        return {}
    try:
        return json.loads(args.event)
    except ValueError as e:
        raise EventFormatError(f"--event is not JSON: {e}") from e


def current():
    """The invocation's event: the one the Lambda handler passed, else the JSON of `--event` on the command line
    (spark-submit), or of the object `--event-uri` names (an event handed over by reference: read whole, see
    _read_uri), else {}."""
    global _current
    if _current is None:
        _current = _Invocation(_from_argv())
    return _current.event


def hand_off(reason):
    """Declares that this event is too big for Lambda; call it before writing anything. Under the Lambda handler it
    ends the script's run (raises HandOffRequested) and the handler starts the same script with the same event on EMR
    Serverless (the function's RouteLargeInputsTo; without routing the invocation fails with HandOffError). Anywhere
    else (spark-submit, e.g. already on EMR Serverless) there is nowhere further to go: it returns False and the script
    carries on, so a handed-off job never hands off again."""
    current()
    if _current.under_handler:
        raise HandOffRequested(str(reason))
    print(f"sparklambda.events.hand_off({reason!r}): not under the Lambda handler (e.g. on EMR Serverless already): "
          "carrying on here", file=sys.stderr)
    return False


def _ev(event):
    return current() if event is None else event


# --- kind ---------------------------------------------------------------------------------------------------------
def kind(event=None):
    """What sent the event: "s3", "sqs", "sns", "kinesis", "dynamodb", "kafka", "eventbridge-s3" (S3 Object Created
    through EventBridge), "eventbridge" (any other EventBridge event, schedules included) or "plain"."""
    event = _ev(event)
    if not isinstance(event, dict):
        return PLAIN
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        source = records[0].get("eventSource") or records[0].get("EventSource") or ""
        return {"aws:s3": S3, "aws:sqs": SQS, "aws:sns": SNS, "aws:kinesis": KINESIS,
                "aws:dynamodb": DYNAMODB}.get(source, PLAIN)
    if event.get("eventSource") in ("aws:kafka", "SelfManagedKafka") and isinstance(event.get("records"), dict):
        return KAFKA
    if "detail-type" in event and "source" in event:
        if event.get("source") == "aws.s3" and event.get("detail-type") == "Object Created":
            return EVENTBRIDGE_S3
        return EVENTBRIDGE
    return PLAIN


# --- S3 objects -----------------------------------------------------------------------------------------------------
def _notification_objects(notification, record_id=None, where="the event"):
    from aws_lambda_powertools.utilities.data_classes import S3Event

    if notification.get("Event") == "s3:TestEvent":  # sent once when a notification configuration is saved
        return []
    if not isinstance(notification.get("Records"), list):
        raise EventFormatError(f"{where} is not an S3 event notification (no Records): {json.dumps(notification)[:300]}")
    out = []
    for r in S3Event(notification).records:
        obj = r.s3.get_object
        out.append(S3Object(
            bucket=r.s3.bucket.name,
            # S3 URL-encodes keys in notifications ('+' for a space); Powertools' S3Object.key leaves them encoded.
            key=unquote_plus(obj.key),
            size=obj.get("size"), etag=obj.get("eTag"), version_id=obj.get("versionId"),
            event_name=r.event_name, event_time=r.event_time, record_id=record_id))
    return out


def _json_message(text, where):
    try:
        value = json.loads(text)
    except ValueError as e:
        raise EventFormatError(f"{where} is not JSON ({e}): {text[:300]!r}") from e
    if not isinstance(value, dict):
        raise EventFormatError(f"{where} is not a JSON object: {text[:300]!r}")
    return value


def _plain_objects(event):
    value = event.get("input") if isinstance(event, dict) else None
    if value is None:
        return []
    uris = value if isinstance(value, list) else [value]
    out = []
    for uri in uris:
        if not isinstance(uri, str) or "://" not in uri:
            raise EventFormatError(f'"input" must be an s3:// path or a list of them, got {uri!r}')
        scheme, rest = uri.split("://", 1)
        bucket, _, key = rest.partition("/")
        if scheme not in ("s3", "s3a") or not bucket or not key:
            raise EventFormatError(f'"input" {uri!r} is not an s3://bucket/key path')
        out.append(S3Object(bucket, key, None, None, None, None, None, None))
    return out


def s3_objects(event=None):
    """The S3 objects an event names, in event order: S3 notifications sent directly, through SNS, through SQS (also
    SNS -> SQS without raw delivery) and through EventBridge ("Object Created"); and the plain event's "input" (an
    s3:// path or a list of them). Keys are URL-decoded. S3's one-time s3:TestEvent is skipped. Raises
    EventFormatError when the event is of another kind (e.g. an SQS message that is not an S3 notification)."""
    event = _ev(event)
    k = kind(event)
    if k == PLAIN:
        return _plain_objects(event)
    if k == S3:
        return _notification_objects(event)
    if k == SNS:
        from aws_lambda_powertools.utilities.data_classes import SNSEvent

        out = []
        for r in SNSEvent(event).records:
            out += _notification_objects(_json_message(r.sns.message, "an SNS message"), where="an SNS message")
        return out
    if k == SQS:
        from aws_lambda_powertools.utilities.data_classes import SQSEvent

        out = []
        for r in SQSEvent(event).records:
            where = f"SQS message {r.message_id}"
            body = _json_message(r.body, where)
            if body.get("Type") == "Notification" and "Message" in body:  # SNS -> SQS without raw message delivery
                body = _json_message(body["Message"], where + " (SNS message)")
            out += _notification_objects(body, record_id=r.message_id, where=where)
        return out
    if k == EVENTBRIDGE_S3:
        from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

        e = S3EventBridgeNotificationEvent(event)
        obj = e.detail.object
        return [S3Object(e.detail.bucket.name, obj.key, obj.size, obj.get("etag"), obj.get("version-id"),
                         e.detail_type, e.time, None)]
    raise EventFormatError(f"a {k} event names no S3 objects: use records() / records_df() for its records, or send "
                           'an S3 notification or {"input": "s3://bucket/key"}')


def input_uris(event=None):
    """The paths to read, in order: the s3:// URIs of the S3 objects a trigger event names (see s3_objects), or the
    plain event's "input" as given (an s3://, s3a:// or any other path Spark can read, or a list of them)."""
    event = _ev(event)
    if kind(event) == PLAIN:
        value = event.get("input") if isinstance(event, dict) else None
        paths = [] if value is None else value if isinstance(value, list) else [value]
        for p in paths:
            if not isinstance(p, str) or not p.strip():
                raise EventFormatError(f'"input" must be a path or a list of paths, got {p!r}')
        return paths
    return [o.uri for o in s3_objects(event)]


# --- records --------------------------------------------------------------------------------------------------------
def _utc_ms(ms):
    return None if ms in (None, "") else datetime.datetime.fromtimestamp(int(ms) / 1000, tz=datetime.timezone.utc)


def _json_default(value):
    if isinstance(value, decimal.Decimal):  # DynamoDB numbers
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _text(data):
    return data.decode("utf-8", errors="replace") if isinstance(data, (bytes, bytearray)) else data


def records(event=None):
    """The batch's records, in event order, as Record tuples with the body decoded to text: SQS (the body as sent),
    Kinesis (base64 data decoded), DynamoDB Streams (the NewImage, or the Keys for a REMOVE, as JSON), MSK and
    self-managed Kafka (base64 value decoded; the key and headers decoded too). Raises EventFormatError for other
    kinds."""
    event = _ev(event)
    k = kind(event)
    out = []
    if k == SQS:
        from aws_lambda_powertools.utilities.data_classes import SQSEvent

        for r in SQSEvent(event).records:
            attrs = {name: (a.string_value if a.string_value is not None else a.binary_value)
                     for name, a in (r.message_attributes or {}).items() if a is not None}
            out.append(Record(r.message_id, r.event_source, r.event_source_arn, r.body, r.attributes.message_group_id,
                              r.attributes.sequence_number, None, None, _utc_ms(r.attributes.sent_timestamp), None,
                              None, attrs))
    elif k == KINESIS:
        from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent

        for r in KinesisStreamEvent(event).records:
            p = r.kinesis
            ts = p.get("approximateArrivalTimestamp")
            out.append(Record(p.sequence_number, r.event_source, r.event_source_arn, _text(p.data_as_bytes()),
                              p.partition_key, p.sequence_number, (r.event_id or "").split(":")[0] or None, None,
                              None if ts is None else datetime.datetime.fromtimestamp(float(ts), tz=datetime.timezone.utc),
                              None, r.event_name, {}))
    elif k == DYNAMODB:
        from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

        for r in DynamoDBStreamEvent(event).records:
            d = r.dynamodb
            image = (d.new_image or d.keys) if d is not None else {}
            ts = d.approximate_creation_date_time if d is not None else None
            out.append(Record(d.sequence_number if d else None, r.event_source, r.event_source_arn,
                              json.dumps(image, default=_json_default, sort_keys=True),
                              json.dumps(d.keys, default=_json_default, sort_keys=True) if d else None,
                              d.sequence_number if d else None, None, None,
                              None if ts is None else datetime.datetime.fromtimestamp(int(ts), tz=datetime.timezone.utc),
                              None, r.event_name.name if r.event_name else None, {}))
    elif k == KAFKA:
        from aws_lambda_powertools.utilities.data_classes import KafkaEvent

        e = KafkaEvent(event)
        for r in e.records:
            # From the raw headers: Powertools' decoded_headers lowercases the names, and Kafka's are case-sensitive.
            headers = {name: _text(bytes(value)) for h in (r.headers or []) for name, value in h.items()}
            out.append(Record(f"{r.topic}-{r.partition}@{r.offset}", e.event_source, e.event_source_arn,
                              _text(r.decoded_value), _text(r.decoded_key), None, str(r.partition), int(r.offset),
                              _utc_ms(r.timestamp), r.topic, None, headers))
    else:
        raise EventFormatError(f"a {k} event has no batch of records: records() takes SQS, Kinesis, DynamoDB Streams "
                               "and MSK / Kafka events (use s3_objects() for S3 notifications)")
    return out


def records_df(spark, event=None, json=False, schema=None):
    """The batch's records (see records()) as a Spark DataFrame with the columns of Record (timestamp as a
    timestamp, attributes as map<string,string>). With json=True or a schema (a StructType or a DDL string), each body
    is also parsed as a JSON object into the struct column `data` (schema inferred from the bodies when not given),
    and `json_error` says why a body could not be parsed (then `data` is null): select("data.*") gives the fields;
    where(col("json_error").isNotNull()) gives the records to fail()."""
    import json as json_module

    from pyspark.sql import functions as F
    from pyspark.sql.types import (LongType, MapType, StringType, StructField, StructType, TimestampType)

    base = StructType([
        StructField("record_id", StringType()), StructField("source", StringType()),
        StructField("source_arn", StringType()), StructField("body", StringType()),
        StructField("partition_key", StringType()), StructField("sequence_number", StringType()),
        StructField("partition", StringType()), StructField("offset", LongType()),
        StructField("timestamp", TimestampType()), StructField("topic", StringType()),
        StructField("event_name", StringType()), StructField("attributes", MapType(StringType(), StringType())),
    ])
    rows = records(event)
    if not (json or schema is not None):
        return spark.createDataFrame([tuple(r) for r in rows], base)
    parsed = []
    for r in rows:
        error, text = None, None
        try:
            value = json_module.loads(r.body) if r.body is not None else None
            if isinstance(value, dict):
                text = r.body
            else:
                error = f"the body is JSON but not an object ({type(value).__name__})"
        except ValueError as e:
            error = f"the body is not JSON: {e}"
        parsed.append(tuple(r) + (text, error))
    with_text = StructType(base.fields + [StructField("_json", StringType()), StructField("json_error", StringType())])
    df = spark.createDataFrame(parsed, with_text)
    if schema is None:
        good = [p[-2] for p in parsed if p[-2] is not None]
        schema = spark.read.json(spark.sparkContext.parallelize(good)).schema if good else StructType([])
    return (df.withColumn("data", F.from_json("_json", schema, {"mode": "PERMISSIVE"}))
              .drop("_json").select(*base.fieldNames(), "data", "json_error"))


# --- partial batch failures -----------------------------------------------------------------------------------------
def _batch_ids(event):
    k = kind(event)
    if k in RECORD_KINDS:
        return k, [r.record_id for r in records(event)]
    return k, []


def _ids_of(items):
    if items is None:
        return []
    if isinstance(items, str):
        return [items]
    if isinstance(items, (Record, S3Object)):
        return [items.record_id]
    if hasattr(items, "select") and hasattr(items, "collect"):  # a Spark DataFrame with a record_id column
        return [row["record_id"] for row in items.select("record_id").collect()]
    if hasattr(items, "asDict"):  # a Spark Row
        return [items["record_id"]]
    out = []
    for item in items:
        out += _ids_of(item)
    return out


def fail(items, reason=None):
    """Marks records of the current batch as failed: a record id, a Record, an S3Object that came through SQS, a Row or
    DataFrame with a record_id column, or an iterable of those. The handler then returns them in batchItemFailures
    (SQS, Kinesis, DynamoDB Streams: Lambda retries only those; for streams, from the lowest failed sequence number).
    Where Lambda has no partial batch response (Kafka, S3, plain events) the invocation fails instead. Raises
    ValueError for an id that is not in the current batch. Returns the ids marked."""
    current()  # under spark-submit: the --event batch becomes the current invocation
    inv = _current
    _, batch = _batch_ids(inv.event)
    ids = _ids_of(items)
    known = set(batch)
    for record_id in ids:
        if record_id is None:
            raise ValueError("fail(): a record without a record_id (an S3Object that did not come through SQS?)")
        if known and record_id not in known:
            raise ValueError(f"fail(): {record_id!r} is not a record of this batch")
        if record_id not in inv.reasons:
            inv.failed.append(record_id)
        inv.reasons[record_id] = reason
    return ids


def failed():
    """The record ids marked failed so far in this invocation."""
    return list(_current.failed) if _current is not None else []


def batch_response(event, failed_ids):
    """Lambda's partial batch response for `event` ({"batchItemFailures": [{"itemIdentifier": id}, ...]}), or None
    when the event is not a batch whose records Lambda can retry one by one."""
    if kind(event) not in PARTIAL_BATCH_KINDS:
        return None
    return {"batchItemFailures": [{"itemIdentifier": i} for i in failed_ids]}
