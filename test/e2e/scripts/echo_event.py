# Test script: reports the event it received (from `--event <json>`) and the environment's values under the event's
# keys (an event value must never reach os.environ), so the test can check that any JSON (lists, nested objects, numbers, nulls) arrives intact.
import json
import os
import sys

event = json.loads(sys.argv[sys.argv.index("--event") + 1])
keys = list(event) if isinstance(event, dict) else []
RESULT = {"event": event, "argv_len": len(sys.argv), "env_values": {k: os.environ.get(k) for k in keys}}
