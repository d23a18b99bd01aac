"""Fixtures of the crash-safety and fault-injection tests; the helpers they
use are in crashkit.py."""
import os

import pytest

import crashkit as cf


@pytest.fixture(scope="session")
def opsbase_bin():
    b = cf.binary()
    if not (b.is_file() and os.access(b, os.X_OK)):
        pytest.fail(f"opsbase binary not found at {b} (set OPSBASE_BIN or run make)",
                    pytrace=False)
    return b


@pytest.fixture
def servers():
    """Stops every ServerProc a test registers, also when it fails."""
    made = []
    yield made
    for s in made:
        s.stop()


@pytest.fixture
def straces():
    """Detaches every Strace a test registers, also when it fails."""
    made = []
    yield made
    for s in made:
        s.detach()
