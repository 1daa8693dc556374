# SPDX-License-Identifier: Apache-2.0
"""Checks of a built image against a case's expectations (the "expect" object of
expect.json, described in ../README.md). Every check returns a list of readable
differences; an empty list means it passed."""

import json
import os
import re
import subprocess

from . import config as cfgmod
from .image import read_file

FILE_ATTRS = ("type", "mode", "uid", "gid", "size", "sha256", "target", "mtime", "rdev")


def _fmt(k, v):
    return oct(v) if k == "mode" and isinstance(v, int) else repr(v)


def check_files(tree, rootfs, spec):
    errs = []
    for path, want in spec.items():
        got = tree.get(path)
        if got is None:
            errs.append(f"'{path}': missing")
            continue
        for k in FILE_ATTRS:
            if k not in want:
                continue
            w = want[k]
            if k == "mode":
                w = int(w, 8)
            if got.get(k) != w:
                errs.append(f"'{path}': {k} is {_fmt(k, got.get(k))}, expected {_fmt(k, w)}")
        if "hardlink" in want and want["hardlink"] not in got.get("links", []):
            errs.append(f"'{path}': not a hard link of '{want['hardlink']}' "
                        f"(links: {got.get('links', [])})")
        if want.get("not_hardlinked") and got.get("links"):
            errs.append(f"'{path}': hard-linked with {got['links']}, expected its own inode")
        if "xattrs" in want and got.get("xattrs", {}) != want["xattrs"]:
            errs.append(f"'{path}': xattrs are {got.get('xattrs', {})}, "
                        f"expected {want['xattrs']}")
        if "content" in want or "content_regex" in want:
            if got["type"] != "file":
                errs.append(f"'{path}': is a {got['type']}, content expected")
                continue
            data = read_file(rootfs, path).decode(errors="replace")
            if "content" in want and data != want["content"]:
                errs.append(f"'{path}': content is {data!r}, expected {want['content']!r}")
            if "content_regex" in want and not re.search(want["content_regex"], data):
                errs.append(f"'{path}': content {data!r} does not match "
                            f"/{want['content_regex']}/")
        if "entries" in want:
            if got["type"] != "dir":
                errs.append(f"'{path}': is a {got['type']}, a directory expected")
                continue
            prefix = path.rstrip("/") + "/"
            names = sorted(p[len(prefix):] for p in tree
                           if p.startswith(prefix) and "/" not in p[len(prefix):])
            if names != sorted(want["entries"]):
                errs.append(f"'{path}': holds {names}, expected {sorted(want['entries'])}")
    return errs


def check_absent(tree, paths):
    return [f"'{p}' exists ({tree[p]['type']}), expected absent" for p in paths if p in tree]


def check_config(image, spec):
    """spec: {key: value} of normalized keys; null means unset."""
    got = cfgmod.normalized(image.config)
    errs = []
    for k, want in spec.items():
        g = got.get(k)
        if g != want:
            errs.append(f"{k} is {json.dumps(g)}, expected {json.dumps(want)}")
    return errs


def check_layers(image, want):
    n = len(image.layers)
    errs = [] if n == want else [f"{n} layers, expected {want}"]
    diff_ids = image.config.get("rootfs", {}).get("diff_ids", [])
    if len(diff_ids) != n:
        errs.append(f"config has {len(diff_ids)} diff_ids for {n} layers")
    return errs


def check_history_invariants(image):
    """OCI image-spec: the history entries that are not empty_layer match the layers."""
    hist = image.history
    if not hist:
        return ["the config has no history"]
    full = [h for h in hist if not h.get("empty_layer")]
    if len(full) != len(image.layers):
        return [f"{len(full)} history entries with a layer for {len(image.layers)} layers"]
    return []


def check_history(image, spec):
    """spec: [{"match": regex searched in created_by, "empty_layer": bool, "count": n}]."""
    errs = []
    hist = image.history
    for s in spec:
        rx = re.compile(s["match"])
        hits = [h for h in hist if rx.search(h.get("created_by", ""))]
        count = s.get("count", 1)
        if len(hits) != count:
            errs.append(f"{len(hits)} history entries match /{s['match']}/, expected {count}: "
                        f"{[h.get('created_by') for h in hits]}")
            continue
        if "empty_layer" in s:
            for h in hits:
                if bool(h.get("empty_layer", False)) != s["empty_layer"]:
                    errs.append(f"history '{h.get('created_by')}': empty_layer is "
                                f"{bool(h.get('empty_layer', False))}, expected "
                                f"{s['empty_layer']}")
    return errs


def check_layer_entries(image, spec):
    """spec: [{"layer": index, "include": [names], "exclude": [names], "exact": [names]}];
    "layer": "*" applies an "exclude" list to every layer."""
    errs = []
    expanded = []
    for s in spec:
        if s.get("layer") == "*":
            expanded += [dict(s, layer=i) for i in range(len(image.layers))]
        else:
            expanded.append(s)
    for s in expanded:
        idx = s.get("layer", -1)
        try:
            names = image.layer_entries(idx)
        except IndexError:
            errs.append(f"layer {idx}: no such layer ({len(image.layers)} layers)")
            continue
        have = set(names)
        for n in s.get("include", []):
            if n not in have:
                errs.append(f"layer {idx}: '{n}' missing (it holds {sorted(have)[:60]})")
        for n in s.get("exclude", []):
            if n in have:
                errs.append(f"layer {idx}: holds '{n}', expected not")
        if "exact" in s and sorted(have) != sorted(s["exact"]):
            errs.append(f"layer {idx}: holds {sorted(have)}, expected exactly "
                        f"{sorted(s['exact'])}")
    return errs


def check_layers_exclude(image, needles):
    """No layer's uncompressed tar holds any of these strings (names or contents)."""
    errs = []
    for i in range(len(image.layers)):
        data = image.layer_tar(i)
        for n in needles:
            if n.encode() in data:
                errs.append(f"layer {i} holds {n!r}")
    return errs


def _run_one(rootfs, image_config, r, timeout=30):
    c = image_config.get("config") or {}
    argv = r["argv"]
    if argv == "@image":
        argv = (c.get("Entrypoint") or []) + (c.get("Cmd") or [])
    env = r.get("env", c.get("Env") or [])
    env = dict(e.split("=", 1) for e in env)
    cwd = r.get("workdir", c.get("WorkingDir") or "/")
    uid = gid = None
    if "user" in r:
        uid, _, gid = r["user"].partition(":")
        uid, gid = int(uid), int(gid or 0)

    def enter():
        os.chroot(rootfs)
        os.chdir(cwd)
        if gid is not None:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)

    # the argv[0] lookup along PATH happens in the child, after chroot
    try:
        p = subprocess.run(argv, capture_output=True, timeout=timeout,
                           env=env, preexec_fn=enter,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, "", f"timed out after {timeout}s"
    except OSError as e:
        return None, "", f"could not start: {e}"
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def check_run(rootfs, image_config, runs):
    """runs: [{"argv": [...] | "@image", "stdout": exact, "stdout_regex", "stderr_regex",
    "status": 0, "user": "uid:gid", "workdir", "env"}]: run in a chroot of the rootfs
    with the image's Env and WorkingDir unless given."""
    errs = []
    for r in runs:
        status, out, err = _run_one(rootfs, image_config, r)
        what = r["argv"] if r["argv"] == "@image" else " ".join(r["argv"])
        want_status = r.get("status", 0)
        if status != want_status:
            errs.append(f"run '{what}': status {status}, expected {want_status}; "
                        f"stderr {err.strip()[:500]!r}")
        if "stdout" in r and out != r["stdout"]:
            errs.append(f"run '{what}': stdout {out!r}, expected {r['stdout']!r}")
        if "stdout_regex" in r and not re.search(r["stdout_regex"], out):
            errs.append(f"run '{what}': stdout {out!r} does not match /{r['stdout_regex']}/")
        if "stderr_regex" in r and not re.search(r["stderr_regex"], err):
            errs.append(f"run '{what}': stderr {err!r} does not match /{r['stderr_regex']}/")
    return errs


def check_image(image, exp):
    """All checks of one image: [(name, errors)] in a fixed order; only those the
    expectation asks for (the history invariant always)."""
    out = []
    if "files" in exp or "absent" in exp:
        tree = image.tree()
        if "files" in exp:
            out.append(("files", check_files(tree, image.rootfs(), exp["files"])))
        if "absent" in exp:
            out.append(("absent paths", check_absent(tree, exp["absent"])))
    if "config" in exp:
        out.append(("config", check_config(image, exp["config"])))
    if "created" in exp:
        got = image.config.get("created")
        out.append(("created", [] if got == exp["created"] else
                    [f"created is {got!r}, expected {exp['created']!r}"]))
    if "media_type" in exp:
        out.append(("manifest media type", [] if image.media_type == exp["media_type"] else
                    [f"{image.media_type}, expected {exp['media_type']}"]))
    if "layers" in exp:
        out.append(("layer count", check_layers(image, exp["layers"])))
    out.append(("history matches the layers", check_history_invariants(image)))
    if "history" in exp:
        out.append(("history", check_history(image, exp["history"])))
    if "layer_entries" in exp:
        out.append(("layer entries", check_layer_entries(image, exp["layer_entries"])))
    if "layers_exclude" in exp:
        out.append(("never in a layer", check_layers_exclude(image, exp["layers_exclude"])))
    if "run" in exp:
        out.append(("run in a chroot", check_run(image.rootfs(), image.config, exp["run"])))
    return out
