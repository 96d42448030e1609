# Test script: exits with status 3, so the invocation must fail naming sys.exit(3).
import sys

sys.exit(3)
