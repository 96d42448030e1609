# Test script: raises, so the invocation must fail with a message naming the error.
raise RuntimeError("boom-from-script: the input was rejected")
