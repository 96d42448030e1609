# pytest fixtures for the runtime/sandbox tests (helpers live in rt_helpers.py).
import os
import shutil

import pytest


@pytest.fixture(scope="session")
def root_required():
    if os.geteuid() != 0:
        pytest.fail("the sandbox tests need root (setpriv, memory cgroup), as in CI")


SHELLS = [("dash", ["dash"]), ("busybox-sh", ["busybox", "sh"])]


@pytest.fixture(params=SHELLS, ids=[s[0] for s in SHELLS])
def posix_shell(request):
    name, argv = request.param
    exe = shutil.which(argv[0])
    if exe is None:
        pytest.fail("%s is not installed (test/sandbox/install-deps.sh installs it)" % argv[0])
    return [exe, *argv[1:]]
