# SPDX-License-Identifier: Apache-2.0
"""Entry-by-entry comparison of two images: their unpacked filesystems (type, mode, owner,
size, content hash, link target, device numbers, xattrs, hard-link groups) and the
Dockerfile-decided parts of their configs (config.normalized). What is not compared, and
why, is in ../ALLOWED_DIFFERENCES.md; the code below implements exactly that list."""

import fnmatch
import json

from . import config as cfgmod

# Compared per entry. Not compared: mtime/atime/ctime (timestamps), the size of
# directories and symlinks (filesystem-dependent).
ENTRY_ATTRS = ("type", "mode", "uid", "gid", "size", "sha256", "target", "rdev", "xattrs")

# Runtime mount points a builder may leave behind as empty stubs after RUN: Docker's
# BuildKit removes /etc/hosts, /etc/resolv.conf and the targets of RUN --mount it had to
# create (MountStubsCleaner); /dev, /proc and /sys are the container runtime's mounts (Kaniko
# and lading keep them out of snapshots). buildah 1.28 leaves all of them in its layers.
RUNTIME_STUBS = ("/dev", "/proc", "/sys", "/etc/hosts", "/etc/resolv.conf", "/run",
                 "/run/secrets")


def _is_empty_stub(tree, path):
    e = tree[path]
    if e["type"] == "file":
        return e.get("size") == 0
    if e["type"] == "dir":
        prefix = path.rstrip("/") + "/"
        return not any(p.startswith(prefix) for p in tree)
    return False


def _allowed(path, patterns):
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def compare_trees(ta, tb, names=("a", "b"), stub_side=None, allow=()):
    """Differences between two scan_tree() results. stub_side: the name of the side whose
    empty runtime stubs (RUNTIME_STUBS and the `allow` patterns' empty entries) may exist
    only there. allow: path patterns (fnmatch) whose differences are allowed."""
    out = []
    na, nb = names
    allow = [p for p in allow if not p.startswith("config:")]
    for path in sorted(set(ta) | set(tb)):
        if _allowed(path, allow):
            continue
        a, b = ta.get(path), tb.get(path)
        if a is None or b is None:
            side, tree = (nb, tb) if a is None else (na, ta)
            if side == stub_side and path in RUNTIME_STUBS and _is_empty_stub(tree, path):
                continue
            e = b if a is None else a
            out.append(f"'{path}': only in {side} ({e['type']})")
            continue
        for k in ENTRY_ATTRS:
            if k == "size" and a["type"] != "file":
                continue
            va, vb = a.get(k), b.get(k)
            if va != vb:
                if k == "mode":
                    va, vb = (oct(v) if v is not None else v for v in (va, vb))
                out.append(f"'{path}': {k} {va!r} in {na}, {vb!r} in {nb}")
        la, lb = a.get("links", []), b.get("links", [])
        if la != lb:
            out.append(f"'{path}': hard links {la} in {na}, {lb} in {nb}")
    return out


def compare_configs(ca, cb, names=("a", "b"), allow=()):
    """allow: keys ("config:Cmd") whose difference a case documents."""
    na, nb = names
    a, b = cfgmod.normalized(ca), cfgmod.normalized(cb)
    out = []
    for k in cfgmod.CONFIG_KEYS + cfgmod.TOP_KEYS:
        if "config:" + k in allow:
            continue
        if a.get(k) != b.get(k):
            out.append(f"config {k}: {json.dumps(a.get(k))} in {na}, "
                       f"{json.dumps(b.get(k))} in {nb}")
    return out


def compare_images(ia, ib, names=("a", "b"), stub_side=None, allow=()):
    """All differences between two buildlib.image.Image objects, as readable lines."""
    return compare_configs(ia.config, ib.config, names, allow) + \
        compare_trees(ia.tree(), ib.tree(), names, stub_side, allow)
