# SPDX-License-Identifier: Apache-2.0
"""The parts of an image configuration that a Dockerfile decides, in one normalized form
that expectations and the comparison both use.

Normalization (justified in ../ALLOWED_DIFFERENCES.md): a field that is absent, null, "",
[] or {} is "unset" (Docker writes nothing, buildah writes "Entrypoint": [] and
"Volumes": {}); zero durations and retries of a Healthcheck are unset (Docker omits them);
the label buildah adds about itself (io.buildah.version) is dropped; WorkingDir "/" is unset
(a container starts in / either way: BuildKit writes "/" for FROM scratch, others nothing)."""

CONFIG_KEYS = ("Env", "Cmd", "Entrypoint", "User", "WorkingDir", "ExposedPorts", "Volumes",
               "Labels", "StopSignal", "Healthcheck", "Shell", "OnBuild")
TOP_KEYS = ("os", "architecture", "variant", "author")
BUILDER_LABELS = ("io.buildah.version",)


def _unset(v):
    return v is None or v == "" or v == [] or v == {}


def normalized(image_config):
    """{key: value} of CONFIG_KEYS (from .config) and TOP_KEYS (top level) that are set."""
    c = image_config.get("config") or {}
    out = {}
    for k in CONFIG_KEYS:
        v = c.get(k)
        if k == "Labels" and isinstance(v, dict):
            v = {lk: lv for lk, lv in v.items() if lk not in BUILDER_LABELS}
        if k == "Healthcheck" and isinstance(v, dict):
            v = {hk: hv for hk, hv in v.items() if not _unset(hv) and hv != 0}
        if k == "WorkingDir" and v == "/":
            v = None
        if not _unset(v):
            out[k] = v
    for k in TOP_KEYS:
        v = image_config.get(k)
        if not _unset(v):
            out[k] = v
    return out
