# sparklambda: the script API of the Spark-on-Lambda image. A PySpark script uses it to turn the invocation event into
# work, the same way on AWS Lambda (the handler passes the event) and under spark-submit, e.g. on EMR Serverless
# (the event arrives as `--event <json>` either way, or as `--event-uri s3://...` when too large for one argument):
#
#   from sparklambda import events
#   ev = events.current()                       # the event as a dict (or list)
#   for obj in events.s3_objects(ev): ...       # S3 notifications (direct, via SNS / SQS, via EventBridge) and
#                                               # the plain {"input": "s3://..."} event -> bucket, key, size, etag
#   df = events.records_df(spark, ev, json=True) # SQS, Kinesis, DynamoDB Streams, MSK / Kafka -> a DataFrame
#   events.fail(bad_rows)                       # partial batch failure: the handler returns batchItemFailures
#   events.hand_off("3 TB of input")            # too big for Lambda: the handler runs it on EMR Serverless instead
#                                               # (under spark-submit: returns False, the script carries on)
#
# Conflicts between concurrent writers of one table are classified in sparklambda.conflicts.
from . import conflicts, events  # noqa: F401

__all__ = ["conflicts", "events"]
