# Shared helpers for the runtime/sandbox tests: repository paths, the lock read through docker/lock.sh (never parsed
# here a second way), and the installed local runtime (make runtime-all installs it before these tests run).
# (A module of its own, not conftest.py, so that `from ... import` cannot pick up another directory's conftest.)
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
LOCKSH = DOCKER / "lock.sh"
SANDBOX = ROOT / "test" / "sandbox" / "lambda-sandbox.sh"
RUNTIME = Path(os.environ.get("RUNTIME_DIR", ROOT / ".runtime"))


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
    """Run args inside test/sandbox/lambda-sandbox.sh; returns CompletedProcess (text)."""
    return subprocess.run(
        ["bash", str(SANDBOX), *sandbox_opts, "--", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
