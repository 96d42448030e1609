# pytest set-up for the unit tests of the image's Python packages (docker/python): no Spark, no runtime. The image's
# packages are imported from the source tree, the local runner's helpers (SAM sample events) from locallambda/.
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "locallambda"))
sys.path.insert(0, os.path.join(ROOT, "docker", "python"))
