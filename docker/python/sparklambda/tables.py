# Write locks for table formats whose commit coordination is not automatic in this image: one writer at a time per
# table, across every execution environment, through the DynamoDB table the SparkLambda construct creates
# (SPARK_LAMBDA_LOCK_TABLE, key attribute `entityId`, shared with Iceberg's DynamoDbLockManager).
#
#   from sparklambda import tables
#   with tables.write_lock(location):     # e.g. s3://bucket/tables/delta/orders
#       df.write.format("delta")...       # read snapshot, write files, commit: no other writer in between
#
# Why: the DynamoDB log store for Delta (io.delta:delta-storage-s3-dynamodb) and Hudi's DynamoDB lock provider
# (org.apache.hudi:hudi-aws-bundle) are not served by the package registries this project builds from, so neither can
# be pinned; without them two Delta writers can both write version N of _delta_log (the last one silently wins) and
# two Hudi writers roll back each other's in-flight commits. No maintained Python DynamoDB lock library is on PyPI
# (python-dynamodb-lock was last released in 2018), so this is a small lease lock over boto3's conditional writes:
#   acquire  PutItem(entityId, ownerId, expiresAt) if the item is absent or its lease expired; else wait and retry
#            (jittered) until the timeout;
#   renew    a background thread extends the lease (UpdateItem if ownerId is still ours) every lease/3 seconds, so a
#            long write keeps it and a writer that dies (timeout, crash) loses it within one lease;
#   release  DeleteItem if ownerId is still ours.
# Without SPARK_LAMBDA_LOCK_TABLE (coordination "none": a single writer with reserved concurrency 1; spark-submit on
# EMR Serverless with one job per table) write_lock() is a no-op that says so in the log.
import contextlib
import logging
import os
import random
import threading
import time
import uuid

logger = logging.getLogger("sparklambda.tables")

LEASE_S = 60.0  # a dead writer's lock is free again after at most this long
DEFAULT_TIMEOUT_S = 600.0
KEY = "entityId"


class LockTimeoutError(RuntimeError):
    """The table stayed locked by another writer longer than the timeout."""


class _Lease:
    def __init__(self, client, table, entity, owner):
        self.client, self.table, self.entity, self.owner = client, table, entity, owner
        self.stop = threading.Event()
        self.lost = False

    def _put(self):
        now = time.time()
        self.client.put_item(
            TableName=self.table,
            Item={KEY: {"S": self.entity}, "ownerId": {"S": self.owner}, "expiresAt": {"N": f"{now + LEASE_S:.3f}"},
                  "kind": {"S": "sparklambda-write-lock"}},
            ConditionExpression=f"attribute_not_exists({KEY}) OR expiresAt < :now",
            ExpressionAttributeValues={":now": {"N": f"{now:.3f}"}})

    def renew_forever(self):
        while not self.stop.wait(LEASE_S / 3):
            try:
                self.client.update_item(
                    TableName=self.table, Key={KEY: {"S": self.entity}},
                    UpdateExpression="SET expiresAt = :t",
                    ConditionExpression="ownerId = :me",
                    ExpressionAttributeValues={":t": {"N": f"{time.time() + LEASE_S:.3f}"}, ":me": {"S": self.owner}})
            except Exception as e:  # the lease was taken over (we were frozen or partitioned for a whole lease)
                self.lost = True
                logger.error("lost the write lock on %s: %s", self.entity, e)
                return

    def release(self):
        self.stop.set()
        try:
            self.client.delete_item(TableName=self.table, Key={KEY: {"S": self.entity}},
                                    ConditionExpression="ownerId = :me",
                                    ExpressionAttributeValues={":me": {"S": self.owner}})
        except Exception as e:
            logger.warning("could not release the write lock on %s (it expires by itself): %s", self.entity, e)


def lock_table():
    """The DynamoDB table of the write locks (SPARK_LAMBDA_LOCK_TABLE), or None."""
    return os.environ.get("SPARK_LAMBDA_LOCK_TABLE", "").strip() or None


def _normalise(location):
    loc = location.rstrip("/")
    return "s3://" + loc[len("s3a://"):] if loc.startswith("s3a://") else loc


@contextlib.contextmanager
def write_lock(location, timeout_s=DEFAULT_TIMEOUT_S):
    """Holds the write lock of the table at `location` (a path, or any stable table name) for the with-block: at most
    one writer per table at a time across all execution environments. Raises LockTimeoutError when another writer
    holds it longer than timeout_s (seconds; default 600). A no-op without SPARK_LAMBDA_LOCK_TABLE."""
    table = lock_table()
    if table is None:
        logger.info("no SPARK_LAMBDA_LOCK_TABLE: writing %s without a write lock (single writer)", location)
        yield None
        return
    import boto3  # in the Lambda Python base image
    from botocore.exceptions import ClientError

    entity = "sparklambda-write-lock:" + _normalise(location)
    lease = _Lease(boto3.client("dynamodb"), table, entity, f"{uuid.uuid4()}")
    deadline = time.monotonic() + timeout_s
    waited, attempt = 0.0, 0
    while True:
        try:
            lease._put()
            break
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        attempt += 1
        pause = random.uniform(0.05, min(2.0, 0.1 * 2 ** min(attempt, 5)))
        if time.monotonic() + pause > deadline:
            raise LockTimeoutError(f"the table {location} stayed locked by another writer for {timeout_s:.0f} s "
                                   f"(lock item {entity!r} in DynamoDB table {table})")
        time.sleep(pause)
        waited += pause
    if waited:
        logger.info("waited %.1f s for the write lock on %s", waited, location)
    renewer = threading.Thread(target=lease.renew_forever, name="sparklambda-lock-renew", daemon=True)
    renewer.start()
    try:
        yield lease
        if lease.lost:
            raise LockTimeoutError(f"the write lock on {location} was lost during the write (see the log)")
    finally:
        lease.release()
