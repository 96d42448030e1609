# Fast checks of the script API (docker/python/sparklambda) without Spark, on real trigger event shapes that no one
# here wrote: the SAM CLI's sample events (extracted from the pinned aws-sam-cli wheel into .venv-unit/sam-events by
# locallambda/install-tools.sh; mustache templates filled in below) and, for MSK, the shape of the Lambda Developer Guide's example.
import base64
import json
import sys

import pytest

import lambda_harness as h  # the local runner's SAM sample events and invocation summary (conftest.py: locallambda/)
from handler import events as handler_events
from sparklambda import conflicts, events

sam_event, s3put = h.sam_event, h.s3put


# MSK event, as in the Lambda Developer Guide ("Using Lambda with Amazon MSK": example event).
MSK_EVENT = {
    "eventSource": "aws:kafka",
    "eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2",
    "bootstrapServers": "b-2.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092",
    "records": {
        "mytopic-0": [{
            "topic": "mytopic", "partition": 0, "offset": 15, "timestamp": 1545084650987,
            "timestampType": "CREATE_TIME",
            "key": base64.b64encode(b"k1").decode(),
            "value": base64.b64encode(b'{"date": "2012-01-01", "temp_max": 12.8}').decode(),
            "headers": [{"headerKey": [104, 101, 97, 100, 101, 114, 86, 97, 108, 117, 101]}],
        }],
    },
}


def test_kinds_of_the_sample_events():
    assert events.kind(sam_event("s3/S3Put.json", bucket="b", key="k")) == "s3"
    assert events.kind(sam_event("sqs/Sqs.json", body="x", md5_of_body="m", queue_name="q")) == "sqs"
    assert events.kind(sam_event("kinesis/Kinesis.json", partition_key="p", data="eA==", sequence="1")) == "kinesis"
    assert events.kind(sam_event("dynamodb/DynamoDBUpdate.json", table="t")) == "dynamodb"
    assert events.kind(sam_event("cloudwatch/ScheduledEvent.json", rule="r")) == "eventbridge"
    assert events.kind(MSK_EVENT) == "kafka"
    assert events.kind({"input": "s3://b/k"}) == "plain"
    assert events.kind([1, 2]) == "plain"


def test_s3_put_objects_have_decoded_keys_size_and_etag():
    # S3 URL-encodes keys in notifications: a space becomes '+', other characters %XX.
    got = events.s3_objects(s3put("lake", "incoming/day+1.csv", "incoming/caf%C3%A9%3D1.csv"))
    assert [(o.bucket, o.key, o.size, o.etag) for o in got] == [
        ("lake", "incoming/day 1.csv", 1024, "0123456789abcdef0123456789abcdef"),
        ("lake", "incoming/café=1.csv", 1024, "0123456789abcdef0123456789abcdef")]
    assert got[0].uri == "s3://lake/incoming/day 1.csv"
    assert got[0].event_name == "ObjectCreated:Put"


def test_s3_notification_through_sqs_and_through_sns_to_sqs():
    inner = s3put("lake", "incoming/a.csv")
    direct = sam_event("sqs/Sqs.json", body=json.dumps(inner), md5_of_body="m", queue_name="q")
    got = events.s3_objects(direct)
    assert [(o.key, o.record_id) for o in got] == [("incoming/a.csv", "19dd0b57-b21e-4ac1-bd88-01bbb068cb78")]
    envelope = {"Type": "Notification", "MessageId": "m-1", "Message": json.dumps(inner)}
    via_sns = sam_event("sqs/Sqs.json", body=json.dumps(envelope), md5_of_body="m", queue_name="q")
    assert events.input_uris(via_sns) == ["s3://lake/incoming/a.csv"]
    test_event = sam_event("sqs/Sqs.json", body=json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}),
                           md5_of_body="m", queue_name="q")
    assert events.s3_objects(test_event) == []


def test_s3_notification_through_sns():
    sns = sam_event("sns/Sns.json", message=json.dumps(s3put("lake", "x/y.csv")), topic="t", subject="s",
                    accountId="123456789012")
    assert events.input_uris(sns) == ["s3://lake/x/y.csv"]


def test_eventbridge_object_created():
    event = {"version": "0", "id": "e1", "detail-type": "Object Created", "source": "aws.s3",
             "account": "123456789012", "time": "2026-12-02T10:00:00Z", "region": "us-east-1",
             "resources": ["arn:aws:s3:::lake"],
             "detail": {"version": "0", "bucket": {"name": "lake"},
                        "object": {"key": "incoming/b.csv", "size": 5, "etag": "abc", "sequencer": "1"},
                        "request-id": "r", "requester": "123456789012", "reason": "PutObject"}}
    (o,) = events.s3_objects(event)
    assert (o.bucket, o.key, o.size, o.etag, o.event_name) == ("lake", "incoming/b.csv", 5, "abc", "Object Created")


def test_plain_input_keeps_working():
    assert events.input_uris({"input": "s3://b/data/x.csv"}) == ["s3://b/data/x.csv"]
    assert events.input_uris({"input": ["s3://b/1.csv", "s3a://b/2.csv"]}) == ["s3://b/1.csv", "s3a://b/2.csv"]
    assert events.input_uris({"input": "file:///data/x.csv"}) == ["file:///data/x.csv"], "any path Spark reads"
    assert [o.key for o in events.s3_objects({"input": "s3a://b/2.csv"})] == ["2.csv"]
    assert events.s3_objects({"table": "t"}) == []
    with pytest.raises(events.EventFormatError, match="s3://"):
        events.s3_objects({"input": "/local/file.csv"})


def test_sqs_message_that_is_not_an_s3_notification_is_named():
    event = sam_event("sqs/Sqs.json", body="hello", md5_of_body="m", queue_name="q")
    with pytest.raises(events.EventFormatError, match="19dd0b57"):
        events.s3_objects(event)


def test_sqs_records():
    (r,) = events.records(sam_event("sqs/Sqs.json", body='{"a": 1}', md5_of_body="m", queue_name="q"))
    assert r.record_id == "19dd0b57-b21e-4ac1-bd88-01bbb068cb78" and r.body == '{"a": 1}'
    assert r.source == "aws:sqs" and r.source_arn == "arn:aws:sqs:us-east-1:123456789012:q"
    assert r.timestamp.isoformat() == "2018-04-09T00:00:00+00:00"  # SentTimestamp 1523232000000


def test_kinesis_records_are_base64_decoded():
    data = base64.b64encode(json.dumps({"date": "2012-01-02"}).encode()).decode()
    (r,) = events.records(sam_event("kinesis/Kinesis.json", partition_key="p-1", data=data,
                                    sequence="49590338271490256608559692538361571095921575989136588898"))
    assert json.loads(r.body) == {"date": "2012-01-02"}
    assert r.record_id == r.sequence_number == "49590338271490256608559692538361571095921575989136588898"
    assert r.partition_key == "p-1" and r.partition == "shardId-000000000000"
    assert r.timestamp.year == 2015


def test_dynamodb_stream_records_carry_the_new_image_as_json():
    got = events.records(sam_event("dynamodb/DynamoDBUpdate.json", table="t"))
    assert [r.event_name for r in got] == ["INSERT", "MODIFY", "REMOVE"]
    assert json.loads(got[0].body) == {"Id": 101, "Message": "New item!"}
    assert json.loads(got[2].body) == {"Id": 101}  # a REMOVE has no new image: its keys
    assert got[0].record_id == "4421584500000000017450439091"


def test_msk_records():
    (r,) = events.records(MSK_EVENT)
    assert r.record_id == "mytopic-0@15" and r.topic == "mytopic" and r.partition == "0" and r.offset == 15
    assert json.loads(r.body) == {"date": "2012-01-01", "temp_max": 12.8}
    assert r.partition_key == "k1" and r.attributes == {"headerKey": "headerValue"}


def test_records_of_an_s3_event_are_refused_clearly():
    with pytest.raises(events.EventFormatError, match="s3_objects"):
        events.records(s3put("b", "k"))


def _sqs_batch(*bodies):
    records = []
    for i, body in enumerate(bodies):
        r = sam_event("sqs/Sqs.json", body=body, md5_of_body="m", queue_name="q")["Records"][0]
        r["messageId"] = f"m-{i}"
        records.append(r)
    return {"Records": records}


def test_partial_batch_failures_become_batch_item_failures():
    batch = _sqs_batch("a", "b", "c")
    events.begin(batch)
    events.fail("m-1", reason="poison")
    events.fail(["m-1", events.records(batch)[2]])  # duplicates are reported once, in first-marked order
    with pytest.raises(ValueError, match="not a record of this batch"):
        events.fail("m-9")
    assert handler_events.finish() == {"batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}]}
    events.begin(batch)
    assert handler_events.finish() == {"batchItemFailures": []}, "a batch with no failure says so explicitly"


def test_failed_records_of_an_event_without_partial_responses_fail_the_invocation():
    events.begin(MSK_EVENT)
    events.fail("mytopic-0@15", reason="bad value")
    with pytest.raises(handler_events.RecordsFailedError, match="kafka event.*mytopic-0@15: bad value"):
        handler_events.finish()
    events.begin({"input": "s3://b/k"})
    assert handler_events.finish() is None


def test_under_spark_submit_the_event_comes_from_argv(monkeypatch):
    events.end()
    monkeypatch.setattr(sys, "argv", ["job.py", "--event", json.dumps({"input": "s3://b/k.csv"})])
    assert events.current() == {"input": "s3://b/k.csv"}
    assert events.input_uris() == ["s3://b/k.csv"]
    events.end()


@pytest.mark.parametrize("text, retryable", [
    ("io.delta.exceptions.ConcurrentAppendException: Files were added to the root of the table", True),
    ("org.apache.iceberg.exceptions.ValidationException: Found conflicting files that can contain records", True),
    ("org.apache.iceberg.exceptions.CommitFailedException: Version 1 already exists", True),
    ("IllegalArgumentException: Cannot start create table transaction: table already exists", True),
    ("org.apache.hudi.exception.HoodieWriteConflictException: Cannot resolve conflicts for overlapping writes", True),
    ("[DELTA_PATH_EXISTS] Cannot write to already existent path s3a://b/t", True),
    ("org.apache.hudi.exception.HoodieRollbackException: Failed to rollback s3://b/t commits 1 ... Caused by: "
     "org.apache.hudi.exception.HoodieRollbackException: No pending rollback instants found to execute rollback", True),
    ("org.apache.hudi.exception.HoodieRollbackException: Failed to rollback s3://b/t commits 2\n\tat org.apache.hudi."
     "client.BaseHoodieTableServiceClient.rollbackFailedWrites(BaseHoodieTableServiceClient.java:1002)\nCaused by: "
     "org.apache.hudi.exception.HoodieIOException: Could not delete instant [==>2__commit__INFLIGHT]", True),
    ("org.apache.hudi.exception.HoodieRollbackException: Failed to rollback s3://b/t: Access Denied", False),
    ("[PATH_NOT_FOUND] Path does not exist: s3://b/nope.csv", False),
    ("ValueError: the event has no \"input\"", False),
])
def test_commit_conflicts_are_told_from_other_failures(text, retryable):
    assert conflicts.is_retryable(text) is retryable
    assert conflicts.is_retryable(RuntimeError(text)) is retryable


def test_the_harness_counts_a_timed_out_invocation_as_failed():
    # The RIE answers a timed-out invocation with HTTP 200, no error header and a plain-text body.
    r = h.InvokeResult(200, {}, "Task timed out after 25.00 seconds", 25.0)
    assert r.failed and r.error_type == "TimedOut"
    entries = [{"round": 1, "environment": 1, "status": "FAILED" if r.failed else "SUCCEEDED", "seconds": 25.0,
                "result": None, "invoke": r}]
    assert h.summary(entries)["failed"] == 1
    ok = h.InvokeResult(200, {}, '{"status": "SUCCEEDED", "result": {"rows": 1}}', 1.0)
    assert not ok.failed
