# SPDX-License-Identifier: Apache-2.0
"""Shared set-up of the harness self-tests: import path, one fixture store per process (or
the shared $LADING_TEST_FIXTURE_CACHE meson sets), small helpers."""

import base64
import hashlib
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.dirname(HERE)
sys.path.insert(0, INTEGRATION)

from harness import FixtureStore  # noqa: E402

_store = None


def store():
    global _store
    if _store is None:
        _store = FixtureStore()
    return _store


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is not running.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main():
    unittest.main(verbosity=2)
