# SPDX-License-Identifier: Apache-2.0
"""Small helpers on an OCI image layout directory (image-spec image-layout.md): blobs by
digest, tags in index.json. Used to post-process what umoci builds (a platform variant, a
multi-platform index) and to read back digests; never to build layers.
"""

import hashlib
import json
import os

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"

REF_NAME = "org.opencontainers.image.ref.name"


def canonical(obj):
    """Compact JSON bytes, the form we write manifests and configs in."""
    return json.dumps(obj, separators=(",", ":")).encode()


def blob_path(layout, digest):
    algo, _, hexpart = digest.partition(":")
    return os.path.join(layout, "blobs", algo, hexpart)


def read_blob(layout, digest):
    with open(blob_path(layout, digest), "rb") as f:
        return f.read()


def read_json(layout, digest):
    return json.loads(read_blob(layout, digest))


def write_blob(layout, data, media_type):
    """Store bytes as a blob; returns its descriptor."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = blob_path(layout, digest)
    if not os.path.exists(path):
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def _index(layout):
    with open(os.path.join(layout, "index.json")) as f:
        return json.load(f)


def _write_index(layout, idx):
    path = os.path.join(layout, "index.json")
    with open(path + ".tmp", "wb") as f:
        f.write(canonical(idx))
    os.replace(path + ".tmp", path)


def resolve(layout, tag):
    """The descriptor tagged `tag` in index.json, or None."""
    for d in _index(layout).get("manifests") or []:
        if d.get("annotations", {}).get(REF_NAME) == tag:
            return d
    return None


def tags(layout):
    return [d["annotations"][REF_NAME] for d in _index(layout).get("manifests") or []
            if REF_NAME in d.get("annotations", {})]


def set_tag(layout, tag, descriptor):
    """Point `tag` at descriptor (replacing an existing entry of that name)."""
    idx = _index(layout)
    entries = [d for d in idx.get("manifests") or []
               if d.get("annotations", {}).get(REF_NAME) != tag]
    d = dict(descriptor)
    d["annotations"] = dict(d.get("annotations", {}), **{REF_NAME: tag})
    entries.append(d)
    idx["manifests"] = entries
    _write_index(layout, idx)


def remove_tag(layout, tag):
    idx = _index(layout)
    idx["manifests"] = [d for d in idx.get("manifests") or []
                        if d.get("annotations", {}).get(REF_NAME) != tag]
    _write_index(layout, idx)


def manifest_of(layout, tag):
    """(descriptor, manifest dict, config dict) of an image tag."""
    desc = resolve(layout, tag)
    if desc is None:
        raise KeyError(f"no tag '{tag}' in OCI layout '{layout}'")
    m = read_json(layout, desc["digest"])
    if m.get("mediaType") == OCI_INDEX or "manifests" in m:
        return desc, m, None
    return desc, m, read_json(layout, m["config"]["digest"])
