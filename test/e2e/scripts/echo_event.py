# Test script: reports the event it received (from `--event <json>`) and whether any event key leaked into
# os.environ, so the test can check that any JSON (lists, nested objects, numbers, nulls) arrives intact.
import json
import os
import sys

event = json.loads(sys.argv[sys.argv.index("--event") + 1])
keys = list(event) if isinstance(event, dict) else []
RESULT = {"event": event, "argv_len": len(sys.argv), "env_has_event_keys": [k for k in keys if k in os.environ]}
