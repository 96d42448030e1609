# Test prelude, put in front of the sample job by test_7_event_ingestion: when the event carries
# {"barrier": {"bucket", "prefix", "parties"}}, each writer announces itself under s3://bucket/prefix/ and waits until
# `parties` writers have, so that concurrent invocations start their table writes at the same moment (their JVM
# starts otherwise spread them out by seconds). A retried run passes at once (the markers stay).
import json as _json
import sys as _sys
import time as _time
import uuid as _uuid

import boto3 as _boto3

_barrier = _json.loads(_sys.argv[_sys.argv.index("--event") + 1]).get("barrier") if "--event" in _sys.argv else None
if isinstance(_barrier, dict):
    _s3 = _boto3.client("s3")
    _s3.put_object(Bucket=_barrier["bucket"], Key=f"{_barrier['prefix']}/{_uuid.uuid4()}", Body=b"")
    _deadline = _time.monotonic() + 300
    while _s3.list_objects_v2(Bucket=_barrier["bucket"], Prefix=_barrier["prefix"] + "/").get("KeyCount", 0) < \
            _barrier["parties"]:
        if _time.monotonic() > _deadline:
            raise RuntimeError(f"barrier {_barrier['prefix']}: fewer than {_barrier['parties']} writers in 300 s")
        _time.sleep(0.05)
