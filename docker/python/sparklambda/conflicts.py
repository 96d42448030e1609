# Which failures of a table write are lost races with a concurrent writer, so that running the same work again
# (after the other writer's commit) succeeds. Used by the Lambda handler to retry a script inside the invocation, and
# usable by scripts themselves (sparklambda.conflicts.is_retryable(exc)).
#
# The markers are the exception classes (and, where one class covers several causes, the message) that each table
# format documents for concurrent commits. Anything else is not retried: a retry would only repeat the failure.
import re

RETRYABLE_MARKERS = (
    # Delta Lake: optimistic concurrency control conflicts (io.delta.exceptions.*, "Concurrency control" docs), and
    # the log store's put-if-absent of a commit file that another writer took first.
    "ConcurrentAppendException",
    "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException",
    "ConcurrentTransactionException",
    "ConcurrentWriteException",
    "MetadataChangedException",
    "ProtocolChangedException",
    "DELTA_CONCURRENT_",
    "java.nio.file.FileAlreadyExistsException",
    # Apache Iceberg: a commit that lost the race on the table version (after Iceberg's own retries), and MERGE /
    # UPDATE / DELETE validation against files a concurrent commit added or removed.
    "org.apache.iceberg.exceptions.CommitFailedException",
    "Found conflicting files",
    "Found new conflicting delete files",
    "Missing required files to delete",
    "Cannot commit, found new delete",
    "org.apache.iceberg.exceptions.AlreadyExistsException: Table already exists",
    "Cannot start create table transaction: table already exists",  # Iceberg's check when a writer created it first
    "TableAlreadyExistsException",
    # Apache Hudi: optimistic concurrency control found an overlapping concurrent commit, or the lock was busy.
    "HoodieWriteConflictException",
    "ConcurrentModificationException",
    "HoodieLockException",
    "Unable to acquire lock",
    # Apache Hudi, after its commit: two writers' cleaners rolling back the same failed write of a third at once (lazy
    # cleaning of failed writes under optimistic concurrency: "No pending rollback instants found", "Could not delete
    # instant ... INFLIGHT"); the writer's own commit is in, so a re-run is an idempotent upsert.
    "No pending rollback instants found",
    "BaseHoodieTableServiceClient.rollbackFailedWrites",
)
# Delta's "create" of a table that a concurrent writer created first (DELTA_PATH_EXISTS / table already exists).
RETRYABLE_PATTERNS = (
    re.compile(r"DELTA_PATH_EXISTS|DELTA_TABLE_ALREADY_EXISTS|\[TABLE_OR_VIEW_ALREADY_EXISTS\]"),
)


def _texts(exc):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield type(exc).__name__
        yield str(exc)
        exc = exc.__cause__ or exc.__context__


def conflict_marker(exc_or_text):
    """The marker that makes this failure a retryable commit conflict, or None."""
    texts = [exc_or_text] if isinstance(exc_or_text, str) else list(_texts(exc_or_text))
    for text in texts:
        for marker in RETRYABLE_MARKERS:
            if marker in text:
                return marker
        for pattern in RETRYABLE_PATTERNS:
            m = pattern.search(text)
            if m:
                return m.group(0)
    return None


def is_retryable(exc_or_text):
    """True when the failure is a lost race with a concurrent writer of the same table."""
    return conflict_marker(exc_or_text) is not None
