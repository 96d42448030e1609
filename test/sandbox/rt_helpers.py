# Shared helpers for the runtime/sandbox tests: the installed local runtime (make runtime-all installs it before these
# tests run) and the Lambda sandbox; the lock helpers come from docker/tests/lock_helpers.py (one reader of the lock).
# (A module of its own, not conftest.py, so that `from ... import` cannot pick up another directory's conftest.)
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docker" / "tests"))
from lock_helpers import DOCKER, LOCKSH, frameworks, jar_rows, lock  # noqa: E402,F401  (re-exported)

SANDBOX = ROOT / "locallambda" / "lambda-sandbox.sh"
RUNTIME = Path(os.environ.get("RUNTIME_DIR", ROOT / ".runtime"))


def runtime_env(fw):
    """The environment of the installed runtime for fw, as a dict (from .runtime/env-<fw>.sh)."""
    envfile = RUNTIME / ("env-%s.sh" % fw)
    if not (RUNTIME / ("READY-" + fw)).exists():
        pytest.fail("the %s runtime is not installed: run `make runtime FRAMEWORK=%s`" % (fw, fw))
    out = subprocess.run(
        ["sh", "-c", '. "$1" && env -0', "sh", str(envfile)], capture_output=True, check=True, env={"PATH": "/usr/bin:/bin"}
    ).stdout
    return dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)


def run_sandboxed(args, env=None, timeout=600, sandbox_opts=()):
    """Run args inside locallambda/lambda-sandbox.sh; returns CompletedProcess (text)."""
    return subprocess.run(
        ["bash", str(SANDBOX), *sandbox_opts, "--", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
