# SPDX-License-Identifier: Apache-2.0
"""An image read back with independent tools: the manifest and config exactly as served
(`skopeo inspect --raw [--config]`, or the blobs of an OCI layout), a private OCI layout
(`skopeo copy`), its filesystem (`umoci unpack`, as root so owners are kept), and the entries
of each layer tar.

Sources: docker://HOST/REPO:TAG (a registry), oci:DIR[:TAG] (an OCI image layout),
docker-archive:PATH (a `docker save` / `--tar-path` tarball)."""

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile

from harness import skopeo as sk

from .util import TestError, run

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


def _media_type(m):
    if m.get("mediaType"):
        return m["mediaType"]
    if "manifests" in m:
        return OCI_INDEX
    if m.get("config", {}).get("mediaType") == "application/vnd.docker.container.image.v1+json":
        return "application/vnd.docker.distribution.manifest.v2+json"
    return "application/vnd.oci.image.manifest.v1+json"


def _blob(layout, digest):
    algo, _, hexpart = digest.partition(":")
    return os.path.join(layout, "blobs", algo, hexpart)


def _read_layout(layout, tag=None):
    """(manifest bytes, manifest digest) of tag (or the only manifest) in an OCI layout."""
    with open(os.path.join(layout, "index.json")) as f:
        idx = json.load(f)
    descs = idx.get("manifests", [])
    if tag is not None:
        descs = [d for d in descs
                 if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
    if len(descs) != 1:
        raise TestError(f"OCI layout '{layout}' has {len(descs)} manifests"
                        f"{' tagged ' + repr(tag) if tag else ''}, expected exactly one")
    with open(_blob(layout, descs[0]["digest"]), "rb") as f:
        raw = f.read()
    return raw, descs[0]["digest"]


class Image:
    """One image. workdir: a directory this object may fill (layout, bundle)."""

    def __init__(self, source, workdir, skopeo_args=()):
        """skopeo_args: options reaching the registry of a docker:// source, as for
        `skopeo inspect` (harness Registry.skopeo_args(""))."""
        self.source = source
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.layout = os.path.join(workdir, "layout")
        self._rootfs = None
        self._tree = None
        # skopeo_args: the plain form (Registry.skopeo_args("")); copy wants --src-*
        inspect_args = list(skopeo_args)
        src_args = ["--src-" + a[2:] if a.startswith("--") else a for a in skopeo_args]
        if source.startswith("docker://"):
            self.manifest_raw, self.digest = sk.inspect_raw(source, inspect_args)
            self.manifest = json.loads(self.manifest_raw)
            if "manifests" in self.manifest:
                raise TestError(f"{source} is an index, expected an image manifest")
            self.config_raw, _ = sk.inspect_raw(source, inspect_args, config=True)
            sk.copy(source, f"oci:{self.layout}:img", src_args)
        elif source.startswith("oci:"):
            path, tag = source[4:], None
            if ":" in path:
                path, tag = path.split(":", 1)
            self.manifest_raw, self.digest = _read_layout(path, tag)
            self.manifest = json.loads(self.manifest_raw)
            if "manifests" in self.manifest:
                raise TestError(f"{source} is an index, expected an image manifest")
            with open(_blob(path, self.manifest["config"]["digest"]), "rb") as f:
                self.config_raw = f.read()
            sk.copy(source, f"oci:{self.layout}:img")
        elif source.startswith("docker-archive:"):
            sk.copy(source, f"oci:{self.layout}:img")
            self.manifest_raw, self.digest = _read_layout(self.layout, "img")
            self.manifest = json.loads(self.manifest_raw)
            with open(_blob(self.layout, self.manifest["config"]["digest"]), "rb") as f:
                self.config_raw = f.read()
        else:
            raise TestError(f"unknown image source '{source}' (docker://, oci:, "
                            "docker-archive:)")
        self.media_type = _media_type(self.manifest)
        self.config = json.loads(self.config_raw)
        self.config_digest = "sha256:" + hashlib.sha256(self.config_raw).hexdigest()
        if self.config_digest != self.manifest["config"]["digest"]:
            raise TestError(f"{source}: config digest {self.config_digest} does not match "
                            f"the manifest's {self.manifest['config']['digest']}")
        local_raw, _ = _read_layout(self.layout, "img")
        self.local_manifest = json.loads(local_raw)

    # -- content

    @property
    def layers(self):
        return self.manifest.get("layers", [])

    @property
    def history(self):
        return self.config.get("history", [])

    def layer_tar(self, index):
        """The uncompressed tar bytes of layer `index` (negative counts from the end)."""
        desc = self.local_manifest["layers"][index]
        with open(_blob(self.layout, desc["digest"]), "rb") as f:
            data = f.read()
        if data[:2] == b"\x1f\x8b":
            return gzip.decompress(data)
        if data[:4] == b"\x28\xb5\x2f\xfd":
            return run(["zstd", "-dc"], input=data, binary=True, check=True).stdout
        return data

    def layer_entries(self, index):
        """Names in layer `index`, without a leading './' or '/' (directories without the
        trailing slash)."""
        with tarfile.open(fileobj=io.BytesIO(self.layer_tar(index))) as t:
            return [m.name.lstrip("./").lstrip("/").rstrip("/") if m.name not in (".", "./")
                    else "." for m in t.getmembers()]

    def rootfs(self):
        if self._rootfs is None:
            bundle = os.path.join(self.workdir, "bundle")
            run(["umoci", "--log", "error", "unpack", "--image", f"{self.layout}:img", bundle],
                timeout=300, check=True)
            self._rootfs = os.path.join(bundle, "rootfs")
        return self._rootfs

    def tree(self):
        if self._tree is None:
            self._tree = scan_tree(self.rootfs())
        return self._tree


def _xattrs(path):
    out = {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return out
    for n in sorted(names):
        try:
            v = os.getxattr(path, n, follow_symlinks=False)
        except OSError:
            continue
        try:
            out[n] = v.decode("ascii") if v.isascii() and v.decode().isprintable() else \
                "0x" + v.hex()
        except UnicodeDecodeError:
            out[n] = "0x" + v.hex()
    return out


def _type(mode):
    for test, name in ((stat.S_ISDIR, "dir"), (stat.S_ISREG, "file"), (stat.S_ISLNK, "symlink"),
                       (stat.S_ISCHR, "char"), (stat.S_ISBLK, "block"), (stat.S_ISFIFO, "fifo"),
                       (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "unknown"


def scan_tree(root):
    """{'/path': entry} of everything under root, '/' included. An entry has type, mode
    (permission bits incl. setuid/setgid/sticky), uid, gid, mtime (s), xattrs; files also
    size and sha256 (and `links`: the other paths sharing the inode), symlinks target,
    devices rdev ('major,minor')."""
    tree = {}
    inodes = {}
    for dirpath, dirnames, filenames in os.walk(root):
        names = [(dirpath, None)] if dirpath == root else []
        names += [(os.path.join(dirpath, n), n) for n in dirnames + filenames]
        for full, _ in names:
            rel = "/" + os.path.relpath(full, root) if full != root else "/"
            st = os.lstat(full)
            e = {"type": _type(st.st_mode), "mode": stat.S_IMODE(st.st_mode),
                 "uid": st.st_uid, "gid": st.st_gid, "mtime": int(st.st_mtime)}
            if e["type"] == "file":
                h = hashlib.sha256()
                with open(full, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                e["size"] = st.st_size
                e["sha256"] = h.hexdigest()
                if st.st_nlink > 1:
                    inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
            elif e["type"] == "symlink":
                e["target"] = os.readlink(full)
                del e["mode"]
            elif e["type"] in ("char", "block"):
                e["rdev"] = f"{os.major(st.st_rdev)},{os.minor(st.st_rdev)}"
            x = _xattrs(full)
            if x:
                e["xattrs"] = x
            tree[rel] = e
    for paths in inodes.values():
        for p in paths:
            tree[p]["links"] = sorted(x for x in paths if x != p)
    return dict(sorted(tree.items()))


def read_file(rootfs, path):
    """Bytes of a regular file of an unpacked rootfs (path absolute inside it), without
    following a symlink out of it."""
    full = os.path.join(rootfs, path.lstrip("/"))
    if not os.path.realpath(full).startswith(os.path.realpath(rootfs) + "/"):
        raise TestError(f"'{path}' resolves outside the image")
    with open(full, "rb") as f:
        return f.read()
