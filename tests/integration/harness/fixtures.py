# SPDX-License-Identifier: Apache-2.0
"""Test images made with independent tools, never with lading: `umoci` builds them in an OCI
layout (layers from staged directories with `umoci insert`, whiteouts computed by `umoci
repack` after deleting files from an unpacked bundle, opaque directories with `insert
--opaque`, the config with `umoci config`), and `skopeo copy` pushes them, as OCI or Docker
schema 2. Only what umoci cannot do is written here: a platform `variant` in the config and the
multi-platform index.

Builds are deterministic (fixed timestamps, seeded random data): the same fixture has the same
digests on every run of the same tool versions. Each fixture also carries `tree`, the file
tree its layers should produce when applied in order (our own model: tests compare lading's
extraction with it; the self-tests check it against `umoci unpack`).
"""

import fcntl
import gzip
import hashlib
import json
import os
import platform as _platform
import random
import shutil
import stat
import tempfile

from . import oci
from . import skopeo as sk
from .util import HarnessError, run

CREATED = "2024-01-01T00:00:00Z"
MTIME = 1704067200
LARGE_MB = int(os.environ.get("LADING_TEST_LARGE_MB", "200"))

def _source_version():
    """Changes whenever this file (the fixtures' definitions) changes, so a persistent cache
    never serves a fixture built from an older definition."""
    h = hashlib.sha256(str(LARGE_MB).encode())
    with open(__file__, "rb") as f:
        h.update(f.read())
    return h.hexdigest()[:12]


VERSION = _source_version()
ROOTLESS = os.geteuid() != 0


class File:
    def __init__(self, data=b"", mode=0o644, uid=0, gid=0, src=None):
        self.data = data.encode() if isinstance(data, str) else data
        self.mode, self.uid, self.gid, self.src = mode, uid, gid, src


class Dir:
    def __init__(self, mode=0o755, uid=0, gid=0):
        self.mode, self.uid, self.gid = mode, uid, gid


class Symlink:
    def __init__(self, target, uid=0, gid=0):
        self.target, self.uid, self.gid = target, uid, gid


class Hardlink:
    """A hard link to `target` (a path added earlier in the same layer)."""

    def __init__(self, target):
        self.target = target.strip("/")


class Layer:
    """One layer: `entries` {path: File|Dir|Symlink|Hardlink|str|bytes} added; `delete`
    paths removed (umoci writes the whiteouts); `opaque` a directory whose lower contents
    are hidden (entries are then relative to the root as usual, and must lie under it).
    raw_insert: keep `umoci insert`'s tar exactly as umoci writes it (see _add_layer)."""

    def __init__(self, entries=None, delete=(), opaque=None, comment=None, raw_insert=False):
        self.entries = {k.strip("/"): (File(v) if isinstance(v, (str, bytes)) else v)
                        for k, v in (entries or {}).items()}
        self.delete = [d.strip("/") for d in delete]
        self.opaque = opaque.strip("/") if opaque else None
        self.comment = comment
        self.raw_insert = raw_insert
        if self.opaque and self.delete:
            raise HarnessError("a layer is either opaque or deletes, not both")


class Image:
    """An image spec: layers, config (Env, Cmd, Entrypoint, User, WorkingDir, Labels,
    ExposedPorts, Volumes, StopSignal), platform 'os/arch[/variant]'."""

    def __init__(self, layers, config=None, platform="linux/amd64"):
        self.layers = layers
        self.config = config or {}
        parts = platform.split("/")
        self.os, self.arch = parts[0], parts[1]
        self.variant = parts[2] if len(parts) > 2 else None

    @property
    def platform(self):
        return "/".join(p for p in (self.os, self.arch, self.variant) if p)


class Index:
    def __init__(self, images):
        self.images = images


def host_arch():
    m = _platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386",
            "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}.get(m, m)


# -- the catalogue ---------------------------------------------------------------------------

def _small():
    return Image([Layer({"etc/hello": "hello from a lading fixture\n"})],
                 {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                  "Cmd": ["cat", "/etc/hello"]})


def _multilayer():
    return Image([
        Layer({"etc": Dir(), "etc/os-release": "ID=lading-fixture\n",
               "etc/app.conf": File("level=1\n", mode=0o640),
               "usr/bin/tool": File("#!/bin/sh\necho tool\n", mode=0o755),
               "usr/bin/tool-link": Symlink("tool"),
               "usr/bin/tool-hard": Hardlink("usr/bin/tool"),
               "var/lib/app/data.txt": File("data\n", uid=1000, gid=1000),
               "var/lib/app/cache": Dir(mode=0o700, uid=1000, gid=1000),
               "home/app": Dir(mode=0o750, uid=1000, gid=1000),
               "home/app/.profile": File("export APP=1\n", mode=0o600, uid=1000, gid=1000),
               "dir with space/f\u00fcr \u00e9t\u00e9.txt": "unicode name\n"},
              comment="layer 1: base files, symlink, hardlink, owners"),
        Layer({"etc/app.conf": File("level=2\n", mode=0o600),
               "opt/app/bin/run": File("#!/bin/sh\nexec tool\n", mode=0o4755),
               "opt/app/share/old.txt": "old\n",
               "opt/app/share/hidden.txt": "hidden by the opaque directory of layer 4\n"},
              comment="layer 2: modify a file, add a setuid file"),
        Layer(delete=["etc/os-release", "var/lib/app"],
              comment="layer 3: delete a file and a directory (whiteouts)"),
        Layer({"opt/app/share/new.txt": "new\n"}, opaque="opt/app/share",
              comment="layer 4: opaque directory"),
    ], {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "APP_MODE=test"],
        "Entrypoint": ["/usr/bin/tool"], "Cmd": ["--help"], "User": "1000:1000",
        "WorkingDir": "/opt/app",
        "Labels": {"org.opencontainers.image.title": "lading multilayer fixture",
                   "com.example.layers": "4"},
        "ExposedPorts": ["8080/tcp"], "Volumes": ["/data"], "StopSignal": "SIGTERM"})


def _platform_image(plat):
    return Image([Layer({"etc/platform": plat + "\n"})],
                 {"Env": ["PLATFORM=" + plat], "Cmd": ["cat", "/etc/platform"]}, plat)


def _multiarch():
    return Index([_platform_image(p) for p in ("linux/amd64", "linux/arm64", "linux/arm/v7")])


def _large():
    return Image([Layer({"large.bin": File(src=("random", LARGE_MB << 20, 42))},
                        comment=f"{LARGE_MB} MiB of incompressible data")],
                 {"Cmd": ["/large.bin"]})


def _busybox():
    bb = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(bb):
        raise HarnessError("busybox is not installed (Debian package busybox-static)")
    entries = {"bin/busybox": File(src=("copy", bb), mode=0o755)}
    applets = run([bb, "--list-full"]).stdout.split()
    for a in applets:
        if a != "bin/busybox":
            entries[a] = Symlink("/bin/busybox")
    for d in ("usr/bin", "usr/sbin", "sbin", "etc", "var", "home"):
        entries.setdefault(d, Dir())
    entries.update({
        "tmp": Dir(mode=0o1777), "root": Dir(mode=0o700), "var/tmp": Dir(mode=0o1777),
        "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"
                      "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        "etc/group": "root:x:0:\nnogroup:x:65534:\n",
        "etc/hostname": "fixture\n"})
    return Image([Layer(entries, comment="busybox-static and its applets")],
                 {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                  "Cmd": ["/bin/sh"]}, f"linux/{host_arch()}")


def _unterminated():
    text = "no padding and no end-of-archive blocks follow this line\n"
    return Image([Layer({"etc/unterminated": text},
                        raw_insert=True, comment="umoci insert's tar, left as written")],
                 {"Cmd": ["cat", "/etc/unterminated"]})


CATALOGUE = {
    "small": (_small, "one layer, one file, Env and Cmd"),
    "multilayer": (_multilayer, "4 layers: owners, modes, setuid, symlink, hardlink, unicode "
                                "names, a modified file, whiteouts of a file and a directory, "
                                "an opaque directory; a full config"),
    "multiarch": (_multiarch, "an index of linux/amd64, linux/arm64 and linux/arm/v7"),
    "large": (_large, f"one layer holding {LARGE_MB} MiB of seeded random (incompressible) "
                      "data, built on demand (LADING_TEST_LARGE_MB to change the size)"),
    "busybox": (_busybox, "busybox-static with applet symlinks, /etc/passwd, /tmp: a base "
                          "image with /bin/sh for build tests"),
    "unterminated": (_unterminated, "one layer exactly as umoci 0.4.7 insert writes it: the "
                                    "tar stops after the last file's data, without padding "
                                    "and end-of-archive blocks (Go's archive/tar and GNU tar "
                                    "accept it, libarchive reports a truncated archive)"),
}


# -- building --------------------------------------------------------------------------------

def _umoci(*args):
    return run(["umoci", "--log", "error"] + list(args), timeout=300)


def _rootless():
    return ["--rootless"] if ROOTLESS else []


def _write_random(path, size, seed):
    rng = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(rng.randbytes(n))
            left -= n


def _materialize(root, entries):
    """Create entries under root, then fix modes, owners and times (deterministic)."""
    made = []
    for path in sorted(entries):
        spec = entries[path]
        full = os.path.join(root, path)
        parent = os.path.dirname(full)
        if not os.path.isdir(parent):
            os.makedirs(parent)
        if os.path.lexists(full) and not isinstance(spec, Dir):
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full)
            else:
                os.unlink(full)
        if isinstance(spec, Dir):
            os.makedirs(full, exist_ok=True)
        elif isinstance(spec, File):
            if spec.src and spec.src[0] == "random":
                _write_random(full, spec.src[1], spec.src[2])
            elif spec.src:
                shutil.copyfile(spec.src[1], full)
            else:
                with open(full, "wb") as f:
                    f.write(spec.data)
        elif isinstance(spec, Symlink):
            os.symlink(spec.target, full)
        elif isinstance(spec, Hardlink):
            os.link(os.path.join(root, spec.target), full)
        made.append((full, spec))
    for full, spec in made:
        # chown before chmod: changing the owner clears set-user-ID bits.
        if not ROOTLESS and not isinstance(spec, Hardlink):
            os.lchown(full, spec.uid, spec.gid)
        if isinstance(spec, (File, Dir)):
            os.chmod(full, spec.mode)
    _fix_times(root)


def _fix_times(root):
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for n in filenames + dirnames:
            os.utime(os.path.join(dirpath, n), (MTIME, MTIME), follow_symlinks=False)
    os.utime(root, (MTIME, MTIME))


def _add_layer(layout, tag, layer, index, work):
    """Add one layer. Additions and deletions go through `umoci unpack` + `umoci repack`
    (umoci computes the diff and the whiteouts). `umoci insert` is used only where repack
    cannot express the layer (an opaque directory), and its tar is then completed: umoci
    0.4.7's insert ends the tar without the last entry's padding and the end-of-archive
    blocks, which libarchive rejects ("Truncated input file")."""
    ref = f"{layout}:{tag}"
    hist = ["--history.created", CREATED, "--history.created_by",
            f"lading-fixture: {layer.comment or f'layer {index + 1}'}"]
    if layer.opaque or layer.raw_insert:
        stage = os.path.join(work, f"stage{index}")
        os.makedirs(stage)
        os.chmod(stage, 0o755)
        prefix = layer.opaque + "/" if layer.opaque else ""
        rel = {}
        for k, v in layer.entries.items():
            if not k.startswith(prefix):
                raise HarnessError(f"opaque layer entry '{k}' is not under '{layer.opaque}'")
            rel[k[len(prefix):]] = v
        _materialize(stage, rel)
        opaque = ["--opaque"] if layer.opaque else []
        _umoci("insert", *_rootless(), *hist, *opaque, "--image", ref, stage,
               "/" + (layer.opaque or ""))
        shutil.rmtree(stage)
        if not layer.raw_insert:
            _complete_last_layer(layout, tag)
        return
    bundle = os.path.join(work, f"bundle{index}")
    _umoci("unpack", *_rootless(), "--image", ref, bundle)
    rootfs = os.path.join(bundle, "rootfs")
    for d in layer.delete:
        p = os.path.join(rootfs, d)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        elif os.path.lexists(p):
            os.unlink(p)
        else:
            raise HarnessError(f"fixture deletes '{d}', which lower layers do not have")
    _materialize(rootfs, layer.entries)
    _umoci("repack", *hist, "--image", ref, bundle)
    shutil.rmtree(bundle)


def tar_end(data):
    """Offset just past the last entry's padded data (where the end-of-archive blocks
    belong), and whether those two zero blocks are there."""
    pos = 0
    while pos + 512 <= len(data):
        block = data[pos:pos + 512]
        if block == bytes(512):
            return pos, len(data) >= pos + 1024 and data[pos:pos + 1024] == bytes(1024)
        field = block[124:136]
        if field[0] & 0x80:                     # base-256 size (GNU, > 8 GiB)
            size = int.from_bytes(field[1:], "big")
        else:
            size = int(field.rstrip(b"\0 ").decode() or "0", 8)
        pos += 512 + (size + 511) // 512 * 512
    return pos, False


def _complete_last_layer(layout, tag):
    """Give the newest layer of `tag` its missing tar padding and end-of-archive blocks;
    re-point config (diff_id) and manifest at the completed layer."""
    desc, manifest, config = oci.manifest_of(layout, tag)
    ld = manifest["layers"][-1]
    raw = gzip.decompress(oci.read_blob(layout, ld["digest"]))
    end, terminated = tar_end(raw)
    if terminated:
        return
    fixed = raw[:end].ljust(end, b"\0") + bytes(1024)
    # mtime=0 and a fixed level keep the rebuilt blob reproducible.
    blob = gzip.compress(fixed, compresslevel=6, mtime=0)
    manifest["layers"][-1] = oci.write_blob(layout, blob, ld["mediaType"])
    config["rootfs"]["diff_ids"][-1] = "sha256:" + hashlib.sha256(fixed).hexdigest()
    manifest["config"] = oci.write_blob(layout, oci.canonical(config),
                                        manifest["config"]["mediaType"])
    oci.set_tag(layout, tag, oci.write_blob(layout, oci.canonical(manifest),
                                            desc.get("mediaType", oci.OCI_MANIFEST)))


_CONFIG_FLAGS = {"Env": "--config.env", "Cmd": "--config.cmd", "Entrypoint": "--config.entrypoint",
                 "ExposedPorts": "--config.exposedports", "Volumes": "--config.volume"}


def _configure(layout, tag, image):
    args = ["config", "--image", f"{layout}:{tag}", "--created", CREATED,
            "--history.created", CREATED, "--history.created_by", "lading-fixture: config",
            "--os", image.os, "--architecture", image.arch, "--author", "lading test harness"]
    c = image.config
    for key, flag in _CONFIG_FLAGS.items():
        for v in c.get(key, []):
            args += [flag, v]
    for key, flag in (("User", "--config.user"), ("WorkingDir", "--config.workingdir"),
                      ("StopSignal", "--config.stopsignal")):
        if key in c:
            args += [flag, c[key]]
    for k, v in c.get("Labels", {}).items():
        args += ["--config.label", f"{k}={v}"]
    _umoci(*args)
    if image.variant:
        # umoci has no --variant: add it to the config and re-point the manifest.
        desc, manifest, config = oci.manifest_of(layout, tag)
        config["variant"] = image.variant
        cdesc = oci.write_blob(layout, oci.canonical(config), oci.OCI_CONFIG)
        manifest["config"] = cdesc
        mdesc = oci.write_blob(layout, oci.canonical(manifest), oci.OCI_MANIFEST)
        oci.set_tag(layout, tag, mdesc)


def expected_tree(image):
    """{path: attributes} that applying the image's layers in order must produce."""
    tree = {}

    def parents(path):
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            tree.setdefault("/".join(parts[:i]), {"type": "dir", "mode": 0o755,
                                                  "uid": 0, "gid": 0})

    def remove(path):
        for k in [k for k in tree if k == path or k.startswith(path + "/")]:
            del tree[k]

    for layer in image.layers:
        for d in layer.delete:
            remove(d)
        if layer.opaque:
            for k in [k for k in tree if k.startswith(layer.opaque + "/")]:
                del tree[k]
            parents(layer.opaque + "/x")
        for path in sorted(layer.entries):
            spec = layer.entries[path]
            parents(path)
            if path in tree and tree[path]["type"] == "dir" and not isinstance(spec, Dir):
                remove(path)
            if isinstance(spec, Dir):
                tree[path] = {"type": "dir", "mode": spec.mode,
                              "uid": 0 if ROOTLESS else spec.uid,
                              "gid": 0 if ROOTLESS else spec.gid}
            elif isinstance(spec, File):
                tree[path] = {"type": "file", "mode": spec.mode,
                              "uid": 0 if ROOTLESS else spec.uid,
                              "gid": 0 if ROOTLESS else spec.gid}
                if spec.src and spec.src[0] == "random":
                    tree[path]["size"] = spec.src[1]
                elif spec.src:
                    tree[path]["size"] = os.path.getsize(spec.src[1])
                else:
                    tree[path]["size"] = len(spec.data)
                    tree[path]["sha256"] = hashlib.sha256(spec.data).hexdigest()
            elif isinstance(spec, Symlink):
                tree[path] = {"type": "symlink", "target": spec.target,
                              "uid": 0 if ROOTLESS else spec.uid,
                              "gid": 0 if ROOTLESS else spec.gid}
            elif isinstance(spec, Hardlink):
                tree[path] = dict(tree[spec.target], link=spec.target)
    return dict(sorted(tree.items()))


def _image_info(layout, tag, image):
    desc, manifest, config = oci.manifest_of(layout, tag)
    return {"kind": "image", "tag": tag, "digest": desc["digest"], "size": desc["size"],
            "media_type": oci.OCI_MANIFEST, "platform": image.platform,
            "config": manifest["config"]["digest"],
            "layers": [{"digest": ly["digest"], "size": ly["size"]}
                       for ly in manifest["layers"]],
            "diff_ids": config["rootfs"]["diff_ids"],
            "image_config": config.get("config", {}),
            "tree": expected_tree(image)}


def _build_image(layout, tag, image, work):
    _umoci("new", "--image", f"{layout}:{tag}")
    for i, layer in enumerate(image.layers):
        _add_layer(layout, tag, layer, i, work)
    _configure(layout, tag, image)
    return _image_info(layout, tag, image)


def _build_index(layout, tag, index, work):
    manifests = []
    infos = []
    for image in index.images:
        sub = f"{tag}--{image.platform.replace('/', '-')}"
        info = _build_image(layout, sub, image, work)
        oci.remove_tag(layout, sub)
        plat = {"architecture": image.arch, "os": image.os}
        if image.variant:
            plat["variant"] = image.variant
        manifests.append({"mediaType": oci.OCI_MANIFEST, "digest": info["digest"],
                          "size": info["size"], "platform": plat})
        info["tag"] = None
        infos.append(info)
    body = {"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": manifests}
    desc = oci.write_blob(layout, oci.canonical(body), oci.OCI_INDEX)
    oci.set_tag(layout, tag, desc)
    return {"kind": "index", "tag": tag, "digest": desc["digest"], "size": desc["size"],
            "media_type": oci.OCI_INDEX, "manifests": infos,
            "platforms": [i["platform"] for i in infos]}


class FixtureStore:
    """Builds catalogue fixtures once into one OCI layout (blobs shared between them).

    directory: where the layout and metadata live; by default $LADING_TEST_FIXTURE_CACHE
    when set (kept between runs; a file lock serializes builders), else a temporary dir
    removed by close() or at exit.
    """

    def __init__(self, directory=None):
        directory = directory or os.environ.get("LADING_TEST_FIXTURE_CACHE")
        self.temporary = directory is None
        self.dir = directory or tempfile.mkdtemp(prefix="lading-fixtures-")
        os.makedirs(self.dir, exist_ok=True)
        self.layout = os.path.join(self.dir, "layout")
        if self.temporary:
            import atexit
            atexit.register(self.close)

    def close(self):
        if self.temporary:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def build(self, name):
        """The fixture's metadata (dict), building it first if needed."""
        if name not in CATALOGUE:
            raise HarnessError(f"unknown fixture '{name}' (known: {', '.join(CATALOGUE)})")
        meta_path = os.path.join(self.dir, f"{name}.v{VERSION}.json")
        with open(os.path.join(self.dir, "lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if os.path.exists(meta_path) and oci.resolve(self.layout, name):
                with open(meta_path) as f:
                    return json.load(f)
            if not os.path.exists(os.path.join(self.layout, "index.json")):
                _umoci("init", "--layout", self.layout)
            stale = [t for t in oci.tags(self.layout) if t == name or t.startswith(name + "--")]
            for t in stale:
                oci.remove_tag(self.layout, t)          # left by an older definition
            if stale:
                _umoci("gc", "--layout", self.layout)
            spec = CATALOGUE[name][0]()
            work = tempfile.mkdtemp(prefix="work-", dir=self.dir)
            try:
                if isinstance(spec, Index):
                    info = _build_index(self.layout, name, spec, work)
                else:
                    info = _build_image(self.layout, name, spec, work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            info.update(name=name, layout=self.layout)
            with open(meta_path + ".tmp", "w") as f:
                json.dump(info, f, indent=1)
            os.replace(meta_path + ".tmp", meta_path)
            return info

    def push(self, name, target, args=(), fmt="oci"):
        """Push fixture `name` to `target` ('host:port/repo:tag') with skopeo.

        args: skopeo destination options (Registry.skopeo_args('dest')). fmt: "oci" or
        "v2s2" (Docker schema 2; an index becomes a manifest list). Returns what the
        registry now serves, read back with `skopeo inspect --raw`: digest, media type, the
        config and layer digests, and for an index each platform's manifest.
        """
        info = self.build(name)
        if fmt not in ("oci", "v2s2"):
            raise HarnessError(f"unknown manifest format '{fmt}' (oci or v2s2)")
        ref = target if target.startswith("docker://") else "docker://" + target
        host = ref[len("docker://"):].split("/")[0]
        if host.rsplit(":", 1)[0] not in ("127.0.0.1", "localhost", "[::1]"):
            raise HarnessError(f"refusing to push to '{target}': tests talk to 127.0.0.1 only")
        extra = ["--all"] if info["kind"] == "index" else []
        sk.copy(f"oci:{self.layout}:{name}", ref, extra + ["--format", fmt] + list(args))
        return describe(ref, _src_args(args), fixture=info)


def _src_args(dest_args):
    """Turn skopeo --dest-* options into the plain ones `skopeo inspect` takes."""
    return [a.replace("--dest-", "--", 1) for a in dest_args]


def media_type_of(m):
    """A manifest's media type; OCI manifests may omit the field (umoci's do), and then the
    registry serves the type it was pushed with, which follows from the content."""
    if m.get("mediaType"):
        return m["mediaType"]
    if "manifests" in m:
        return oci.OCI_INDEX
    if m.get("config", {}).get("mediaType") == oci.DOCKER_CONFIG:
        return oci.DOCKER_MANIFEST
    return oci.OCI_MANIFEST


def scan_tree(root):
    """The file tree under root in expected_tree()'s form, to compare an extraction with:
    type, mode, uid, gid, size and sha256 of files, symlink targets, and `links` (the other
    paths sharing a file's inode)."""
    tree = {}
    inodes = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            full = os.path.join(dirpath, n)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            e = {"uid": st.st_uid, "gid": st.st_gid}
            if stat.S_ISDIR(st.st_mode):
                e.update(type="dir", mode=stat.S_IMODE(st.st_mode))
            elif stat.S_ISLNK(st.st_mode):
                e.update(type="symlink", target=os.readlink(full))
            elif stat.S_ISREG(st.st_mode):
                h = hashlib.sha256()
                with open(full, "rb") as f:
                    while True:
                        b = f.read(1 << 20)
                        if not b:
                            break
                        h.update(b)
                e.update(type="file", mode=stat.S_IMODE(st.st_mode), size=st.st_size,
                         sha256=h.hexdigest())
                if st.st_nlink > 1:
                    inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
            else:
                e.update(type="other", mode=stat.S_IMODE(st.st_mode))
            tree[rel] = e
    for paths in inodes.values():
        for p in paths:
            tree[p]["links"] = sorted(x for x in paths if x != p)
    return dict(sorted(tree.items()))


def compare_trees(expected, actual):
    """Differences between an expected_tree() and a scan_tree(), as readable lines (empty
    when they agree). Only attributes the expectation states are compared."""
    out = []
    for path, e in expected.items():
        a = actual.get(path)
        if a is None:
            out.append(f"missing '{path}'")
            continue
        for k, v in e.items():
            if k == "link":
                if v not in a.get("links", []):
                    out.append(f"'{path}': not a hard link to '{v}'")
            elif a.get(k) != v:
                want = oct(v) if k == "mode" else v
                got = oct(a.get(k)) if k == "mode" and a.get(k) is not None else a.get(k)
                out.append(f"'{path}': {k} is {got!r}, expected {want!r}")
    for path in actual:
        if path not in expected:
            out.append(f"unexpected '{path}'")
    return out


def describe(ref, args=(), fixture=None):
    """What a registry serves at ref: {"reference", "digest", "media_type", "config",
    "layers", ["manifests": [{"platform", "digest", "media_type", "config", "layers"}]]}."""
    raw, digest = sk.inspect_raw(ref, args)
    m = json.loads(raw)
    out = {"reference": ref[len("docker://"):] if ref.startswith("docker://") else ref,
           "digest": digest, "media_type": media_type_of(m),
           "media_type_field": m.get("mediaType"), "fixture": fixture and fixture.get("name")}
    if "manifests" in m:
        repo = out["reference"].rsplit(":", 1)[0] if "@" not in out["reference"] else \
            out["reference"].split("@", 1)[0]
        subs = []
        for d in m["manifests"]:
            p = d.get("platform", {})
            plat = "/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant"))
                            if x)
            sraw, sdigest = sk.inspect_raw(f"docker://{repo}@{d['digest']}", args)
            sm = json.loads(sraw)
            if sdigest != d["digest"]:
                raise HarnessError(f"registry served {sdigest} for {d['digest']}")
            subs.append({"platform": plat, "digest": d["digest"], "size": d["size"],
                         "media_type": d.get("mediaType"),
                         "config": sm["config"]["digest"],
                         "layers": [x["digest"] for x in sm["layers"]]})
        out["manifests"] = subs
    else:
        out["config"] = m["config"]["digest"]
        out["config_media_type"] = m["config"].get("mediaType")
        out["layers"] = [x["digest"] for x in m["layers"]]
        out["layer_media_types"] = sorted({x.get("mediaType") for x in m["layers"]})
    return out
