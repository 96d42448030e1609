# pytest fixtures for the runtime/sandbox tests (helpers live in rt_helpers.py).
import os

import pytest


@pytest.fixture(scope="session")
def root_required():
    if os.geteuid() != 0:
        pytest.fail("the sandbox tests need root (setpriv, memory cgroup), as in CI")
