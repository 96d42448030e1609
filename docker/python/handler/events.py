# The event on its way in and the batch outcome on its way out: the event is checked to be JSON (it reaches the script
# as `--event <json>` and through sparklambda.events.current()), and the records the script marked failed become
# Lambda's partial batch response, or fail the invocation where Lambda has none.
import json

from sparklambda import events as script_events

from .errors import EventError, HandlerError

# Raised by sparklambda.events.hand_off() in a script: the handler hands the event to EMR Serverless (routing.py).
HandOffRequested = script_events.HandOffRequested


class RecordsFailedError(HandlerError):
    """The script marked records failed in an event that has no partial batch response (Kafka, S3, plain events):
    the whole invocation fails, so Lambda retries it or sends it to the failure destination."""


def serialize(event):
    try:
        return json.dumps(event, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise EventError(f"the event is not JSON-serializable: {e}") from e


def begin(event):
    script_events.begin(event)


def finish():
    """After a successful script: Lambda's partial batch response for SQS / Kinesis / DynamoDB Streams batches
    ({"batchItemFailures": [...]}, empty when nothing failed), None for other events; raises RecordsFailedError when
    records were marked failed in an event that has no partial batch response."""
    event, failed, reasons = script_events.end()
    batch = script_events.batch_response(event, failed)
    if batch is None and failed:
        kind = script_events.kind(event)
        detail = "; ".join(f"{i}: {reasons.get(i) or 'no reason given'}" for i in failed[:20])
        raise RecordsFailedError(
            f"the script marked {len(failed)} record(s) failed, but Lambda takes no partial batch response for a "
            f"{kind} event, so the whole invocation fails (Lambda retries it or sends it to the failure "
            f"destination): {detail}")
    return batch


def abandon():
    """After a failed script: forget the invocation's marks (the whole batch fails)."""
    script_events.end()
