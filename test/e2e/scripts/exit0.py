# Test script: sets RESULT then calls sys.exit(0), which is a success (like spark-submit's exit status 0).
import sys

RESULT = {"exited": "cleanly"}
sys.exit(0)
