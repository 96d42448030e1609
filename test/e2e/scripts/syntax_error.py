# Test script: does not compile (line 4), so the invocation must fail naming the syntax error and its line.
import json

def broken(:
    return json
