# Shared helpers for the tests of the image's files: repository paths and the lock read through docker/lock.sh (never
# parsed here a second way). (A module of its own, not conftest.py, so that `from ... import` cannot pick up another
# directory's conftest.)
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
LOCKSH = DOCKER / "lock.sh"


def lock(*args, check=True):
    """Run docker/lock.sh and return its stdout."""
    p = subprocess.run(["sh", str(LOCKSH), *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError("lock.sh %s failed: %s" % (" ".join(args), p.stderr))
    return p if not check else p.stdout


def frameworks():
    return lock("frameworks").split()


def jar_rows(fw, *extra):
    return [line.split() for line in lock("jars", fw, *extra).splitlines()]
