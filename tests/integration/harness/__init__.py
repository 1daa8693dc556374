# SPDX-License-Identifier: Apache-2.0
"""lading's integration test harness: a real registry on 127.0.0.1 (plain, TLS, mTLS, Basic,
Bearer token auth), a fault-injecting proxy, and test images built with umoci and pushed
with skopeo. See README.md in this directory. Standard library only.
"""

from .fixtures import CATALOGUE, FixtureStore, compare_trees, describe, scan_tree
from .proxy import FaultProxy, proxy_for
from .registry import Registry, parse_mode
from .skopeo import SkopeoError
from .tokenserver import Rule, TokenServer
from .util import HarnessError, free_port

__all__ = ["CATALOGUE", "FixtureStore", "compare_trees", "describe", "scan_tree",
           "FaultProxy", "proxy_for", "Registry", "parse_mode", "SkopeoError",
           "Rule", "TokenServer", "HarnessError", "free_port"]
