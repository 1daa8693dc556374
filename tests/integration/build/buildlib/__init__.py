# SPDX-License-Identifier: Apache-2.0
"""The build test suite's library: builders (lading, buildah), images read back with
independent tools (skopeo, umoci), expectation checks, and the image comparison used by
compare.py. Standard library only. See ../README.md."""
