# Retries of a script that lost a commit race with a concurrent writer of the same table (sparklambda.conflicts says
# which failures those are). The format's own coordination (DynamoDB log store / lock, Glue's optimistic commit)
# guarantees that no commit is lost or half-applied; a writer that lost the race has committed nothing, so running
# the script again for the same event, on top of the winner's commit, is safe for the idempotent upserts that
# Lambda's at-least-once delivery already demands of a script. Backoff: exponential with full jitter (AWS
# Architecture Blog, "Exponential Backoff And Jitter"), bounded by the invocation's remaining time.
import random

BASE_S = 0.5
CAP_S = 8.0
# Time kept in reserve at the end of the invocation: never start an attempt that cannot finish before the timeout.
RESERVE_S = 5.0


def backoff_s(attempt, rng=random):
    """Seconds to wait before retry number `attempt` (1, 2, ...): uniform in [0, min(CAP_S, BASE_S * 2**attempt)]."""
    return rng.uniform(0, min(CAP_S, BASE_S * 2 ** attempt))


def may_retry(attempt, max_retries, remaining_s, last_run_s, wait_s):
    """True when retry number `attempt` is allowed: within max_retries, and the wait plus another run as long as the
    last one (plus RESERVE_S) fits in the remaining time (None: unknown, e.g. outside Lambda)."""
    if attempt > max_retries:
        return False
    if remaining_s is None:
        return True
    return wait_s + last_run_s + RESERVE_S <= remaining_s
