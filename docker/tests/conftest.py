# pytest fixtures for the tests of the image's files (helpers live in lock_helpers.py).
import shutil

import pytest

SHELLS = [("dash", ["dash"]), ("busybox-sh", ["busybox", "sh"])]


@pytest.fixture(params=SHELLS, ids=[s[0] for s in SHELLS])
def posix_shell(request):
    name, argv = request.param
    exe = shutil.which(argv[0])
    if exe is None:
        pytest.fail("%s is not installed (locallambda/install-deps.sh installs it)" % argv[0])
    return [exe, *argv[1:]]
