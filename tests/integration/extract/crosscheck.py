#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Cross-checks lading's layer extraction against umoci: images whose layers were made by
# `umoci repack` (after creating, changing and deleting files and directories, which makes
# whiteouts) and by GNU tar (with hand-made whiteouts and opaque directories, pax xattrs,
# sparse files, unicode names) are unpacked by `umoci unpack` and, layer by layer, by
# extract-layers; the two trees must agree entry by entry: type, mode, uid/gid, size, content
# hash, link target, mtime (ns), device numbers, xattrs and hardlink groups.
# Usage: crosscheck.py EXTRACT_LAYERS_BINARY    (root, umoci and GNU tar needed, else skip: 77)
import gzip, hashlib, json, os, shutil, stat, subprocess, sys, tempfile

SKIP = 77
tool = os.path.abspath(sys.argv[1])
if os.geteuid() != 0 or not shutil.which("umoci") or not shutil.which("tar"):
    print("1..0 # SKIP needs root, umoci and GNU tar")
    sys.exit(SKIP)

work = tempfile.mkdtemp(prefix="lading-crosscheck-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
failures = []
checks = 0


def run(*args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(args)}\n{r.stdout}{r.stderr}")
    return r.stdout


def write(path, data=b"", mode=0o644, uid=0, gid=0, mtime_ns=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chown(path, uid, gid)
    os.chmod(path, mode)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


def symlink(target, path, mtime_ns=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns), follow_symlinks=False)


def set_dir_times(top, ns):
    """Directory mtimes last, deepest first, as they are otherwise moved by their contents."""
    for dirpath, dirs, _ in sorted(os.walk(top), key=lambda w: -w[0].count("/")):
        os.utime(dirpath, ns=(ns, ns), follow_symlinks=False)
        ns += 1_000_000_007


CAP = bytes([1, 0, 0, 2, 0, 0x20, 0, 0] + [0] * 12)  # cap_net_raw+ep, vfs v2


def populate_base(r):
    """Every entry type and odd metadata."""
    t = 1_600_000_000_123_456_789
    for d, mode, uid in [("usr/bin", 0o755, 0), ("etc", 0o755, 0), ("tmp", 0o1777, 0),
                         ("home/user", 0o700, 1000), ("srv/shared", 0o2775, 50),
                         ("var/empty", 0o555, 0), ("gone/deep/er", 0o755, 0),
                         ("repl-dir/sub", 0o755, 0), ("opq/sub", 0o755, 0)]:
        os.makedirs(os.path.join(r, d), exist_ok=True)
        os.chown(os.path.join(r, d), uid, uid)
        os.chmod(os.path.join(r, d), mode)
    write(f"{r}/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644, mtime_ns=t)
    write(f"{r}/etc/shadow", b"root:*:19000:0:99999:7:::\n", 0o640, 0, 42, t + 1)
    write(f"{r}/usr/bin/su", b"\x7fELF su", 0o4755, mtime_ns=t + 2)
    write(f"{r}/usr/bin/sg", b"\x7fELF sg", 0o2755, 0, 50, t + 3)
    write(f"{r}/usr/bin/ping", b"\x7fELF ping", 0o755, mtime_ns=t + 4)
    os.setxattr(f"{r}/usr/bin/ping", "security.capability", CAP)
    write(f"{r}/home/user/notes", b"user file\n" * 1000, 0o600, 1000, 1000, t + 5)
    write(f"{r}/home/user/nobody", b"n", 0o644, 65534, 65534, t + 6)
    write(f"{r}/home/user/bigid", b"b", 0o644, 3_000_000, 4_000_000, t + 7)
    write(f"{r}/etc/commented", b"c", 0o644, mtime_ns=t + 8)
    os.setxattr(f"{r}/etc/commented", "user.comment", b"hello xattr")
    write(f"{r}/random.bin", os.urandom(3 << 20), 0o644, mtime_ns=t + 9)
    write(f"{r}/empty", b"", 0o644, mtime_ns=t + 10)
    write(f"{r}/ünïcödé/fïlé ✓", b"utf8", 0o644, mtime_ns=t + 11)
    write(f"{r}/with space/and\ttab", b"ws", 0o644, mtime_ns=t + 12)
    long_dir = "/".join(["d" * 60] * 4)
    write(f"{r}/{long_dir}/{'f' * 100}", b"long", 0o644, mtime_ns=t + 13)
    write(f"{r}/gone/deep/er/file", b"g", mtime_ns=t + 14)
    write(f"{r}/gone/top", b"g", mtime_ns=t + 15)
    write(f"{r}/repl-dir/sub/x", b"x", mtime_ns=t + 16)
    write(f"{r}/repl-file", b"file", mtime_ns=t + 17)
    write(f"{r}/opq/old", b"old", mtime_ns=t + 18)
    write(f"{r}/opq/sub/old2", b"old2", mtime_ns=t + 19)
    write(f"{r}/usr/bin/tool", b"\x7fELF tool", 0o755, mtime_ns=t + 20)
    os.link(f"{r}/usr/bin/tool", f"{r}/usr/bin/tool-alias")
    os.link(f"{r}/usr/bin/tool", f"{r}/etc/tool-third-name")
    symlink("/etc/passwd", f"{r}/abs-link", t + 21)
    symlink("../etc", f"{r}/usr/rel-link", t + 22)
    symlink("does/not/exist", f"{r}/dangling", t + 23)
    symlink("usr/bin", f"{r}/bin", t + 24)
    symlink("repl-file", f"{r}/repl-link", t + 25)
    os.mkfifo(f"{r}/tmp/fifo", 0o600)
    os.mknod(f"{r}/dev-null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    os.mknod(f"{r}/dev-loop", stat.S_IFBLK | 0o660, os.makedev(7, 0))
    os.chmod(r, 0o755)
    set_dir_times(r, t + 100)


def change(r):
    """Deletions, replacements and metadata changes: umoci writes whiteouts for these."""
    t = 1_650_000_000_987_654_321
    shutil.rmtree(f"{r}/gone")                       # a whole directory
    os.unlink(f"{r}/etc/shadow")                     # a file
    os.unlink(f"{r}/usr/bin/tool-alias")             # one name of a hardlinked file
    shutil.rmtree(f"{r}/repl-dir")                   # a directory replaced by a file
    write(f"{r}/repl-dir", b"now a file", mtime_ns=t)
    os.unlink(f"{r}/repl-file")                      # a file replaced by a directory
    os.makedirs(f"{r}/repl-file/inner")
    write(f"{r}/repl-file/inner/f", b"inner", mtime_ns=t + 1)
    os.unlink(f"{r}/repl-link")                      # a symlink replaced by a file
    write(f"{r}/repl-link", b"was a link", mtime_ns=t + 2)
    shutil.rmtree(f"{r}/opq")                        # deleted and made again: new content only
    write(f"{r}/opq/new", b"new", mtime_ns=t + 3)
    os.chmod(f"{r}/etc/passwd", 0o600)               # metadata only
    os.chown(f"{r}/etc/commented", 1000, 1000)
    os.setxattr(f"{r}/etc/commented", "user.comment", b"changed")
    write(f"{r}/random.bin", os.urandom(1 << 20), mtime_ns=t + 4)
    write(f"{r}/usr/bin/new", b"new binary", 0o755, mtime_ns=t + 5)
    os.unlink(f"{r}/tmp/fifo")
    set_dir_times(r, t + 100)


def change2(r):
    t = 1_700_000_000_000_000_001
    shutil.rmtree(f"{r}/repl-file")                  # remove what the last layer added
    write(f"{r}/repl-file", b"file again", mtime_ns=t)
    os.unlink(f"{r}/abs-link")
    shutil.rmtree(f"{r}/home")
    set_dir_times(r, t + 100)


def entry(path):
    st = os.lstat(path)
    kind = stat.S_IFMT(st.st_mode)
    rec = {"type": kind, "mode": oct(stat.S_IMODE(st.st_mode)), "owner": (st.st_uid, st.st_gid),
           "mtime": st.st_mtime_ns}
    if stat.S_ISREG(kind):
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        rec["size"] = st.st_size
        rec["sha256"] = h.hexdigest()
    elif stat.S_ISLNK(kind):
        rec["target"] = os.readlink(path)
        del rec["mode"]
    elif stat.S_ISCHR(kind) or stat.S_ISBLK(kind):
        rec["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
    if not stat.S_ISLNK(kind) and (stat.S_ISREG(kind) or stat.S_ISDIR(kind)):
        rec["xattrs"] = sorted((n, os.getxattr(path, n, follow_symlinks=False))
                               for n in os.listxattr(path, follow_symlinks=False)
                               if n.startswith("user.") or n == "security.capability")
    return rec, (st.st_dev, st.st_ino, st.st_nlink)


def tree(top):
    out, inodes = {}, {}
    for dirpath, dirs, files in os.walk(top):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, top)
            out[rel], ino = entry(p)
            if stat.S_ISREG(out[rel]["type"]) and ino[2] > 1:
                inodes.setdefault(ino[:2], []).append(rel)
    out["."], _ = entry(top)
    groups = sorted(sorted(g) for g in inodes.values())
    return out, groups


def compare(label, ref_root, our_root):
    global checks
    ref, ref_groups = tree(ref_root)
    ours, our_groups = tree(our_root)
    n = 0
    for path in sorted(set(ref) | set(ours)):
        checks += 1
        if path not in ours:
            failures.append(f"{label}: '{path}' missing in ours ({ref[path]})")
        elif path not in ref:
            failures.append(f"{label}: '{path}' only in ours ({ours[path]})")
        elif ref[path] != ours[path]:
            diff = {k: (ref[path].get(k), ours[path].get(k))
                    for k in set(ref[path]) | set(ours[path]) if ref[path].get(k) != ours[path].get(k)}
            failures.append(f"{label}: '{path}' differs (umoci, ours): {diff}")
        n += 1
    checks += 1
    if ref_groups != our_groups:
        failures.append(f"{label}: hardlink groups differ: umoci {ref_groups}, ours {our_groups}")
    print(f"# {label}: {n} entries compared, {len(ref_groups)} hardlink groups")


def layers_of(layout, tag):
    index = json.load(open(f"{layout}/index.json"))
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            man = json.load(open(f"{layout}/blobs/sha256/{m['digest'].split(':')[1]}"))
            return [f"{layout}/blobs/sha256/{l['digest'].split(':')[1]}" for l in man["layers"]]
    raise SystemExit(f"no tag {tag} in {layout}")


def ours(label, layers, extra=()):
    root = f"{work}/ours-{label}"
    os.mkdir(root)
    out = run(tool, *extra, root, *layers)
    for line in out.splitlines():
        print("#   " + line.replace(work, "…"))
    return root


def umoci_image():
    layout = f"{work}/umoci-img"
    run("umoci", "init", "--layout", layout)
    run("umoci", "new", "--image", f"{layout}:t")
    steps = [populate_base, change, change2]
    for i, step in enumerate(steps):
        bundle = f"{work}/bundle{i}"
        run("umoci", "unpack", "--image", f"{layout}:t", bundle)
        step(f"{bundle}/rootfs")
        run("umoci", "repack", "--image", f"{layout}:t", bundle)
        shutil.rmtree(bundle)
        run("umoci", "unpack", "--image", f"{layout}:t", f"{work}/ref-umoci-{i}")
        layers = layers_of(layout, "t")
        compare(f"umoci layers 1..{i + 1}", f"{work}/ref-umoci-{i}/rootfs",
                ours(f"umoci-{i}", layers, ("--no-threads",) if i == 1 else ()))


def gnu_layer(src, out):
    """A layer made by GNU tar: pax, xattrs, numeric owners, sorted names, sparse files."""
    run("tar", "--format=pax", "--xattrs", "--xattrs-include=*", "--numeric-owner",
        "--sort=name", "--sparse", "-C", src, "-czf", out, ".")
    raw = gzip.decompress(open(out, "rb").read())
    return out, "sha256:" + hashlib.sha256(raw).hexdigest()


def blob(layout, data):
    d = hashlib.sha256(data).hexdigest()
    with open(f"{layout}/blobs/sha256/{d}", "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}


def gnu_image():
    t = 1_234_567_890_111_111_111
    l1, l2 = f"{work}/gnu1", f"{work}/gnu2"
    for d in ["a", "b/c", "keep", "o/sub", "o2", "r", "s/inner", "x"]:
        os.makedirs(f"{l1}/{d}", exist_ok=True)
    write(f"{l1}/a/f1", b"1", mtime_ns=t)
    write(f"{l1}/a/f2", b"2", mtime_ns=t + 1)
    write(f"{l1}/b/c/d", b"d", mtime_ns=t + 2)
    write(f"{l1}/keep/k", b"k", 0o640, 1000, 1000, t + 3)
    write(f"{l1}/o/old1", b"o", mtime_ns=t + 4)
    write(f"{l1}/o/sub/old2", b"o2", mtime_ns=t + 5)
    write(f"{l1}/o2/old", b"old", mtime_ns=t + 6)
    write(f"{l1}/s/inner/f", b"s", mtime_ns=t + 7)
    write(f"{l1}/rfile", b"r", mtime_ns=t + 8)
    write(f"{l1}/ünï/cödé ✓", b"u", mtime_ns=t + 9)
    write(f"{l1}/x/hl1", b"hard", mtime_ns=t + 10)
    os.link(f"{l1}/x/hl1", f"{l1}/x/hl2")
    os.setxattr(f"{l1}/keep/k", "user.gnu", b"tar")
    with open(f"{l1}/sparse", "wb") as f:  # holes: GNU tar --sparse writes a pax sparse map
        f.write(b"A" * 4096)
        f.seek(1 << 20)
        f.write(b"B" * 4096)
        f.truncate(4 << 20)
    os.utime(f"{l1}/sparse", ns=(t + 11, t + 11))
    os.mkfifo(f"{l1}/fifo")
    os.utime(f"{l1}/fifo", ns=(t + 12, t + 12))
    set_dir_times(l1, t + 100)

    t2 = t + 10**15
    os.makedirs(f"{l2}/a")
    write(f"{l2}/a/.wh.f1", mtime_ns=t2)                # a file
    write(f"{l2}/.wh.b", mtime_ns=t2)                   # a directory
    os.makedirs(f"{l2}/o/sub")
    write(f"{l2}/o/.wh..wh..opq", mtime_ns=t2)          # opaque, marker before its siblings
    write(f"{l2}/o/new", b"new", mtime_ns=t2 + 1)
    write(f"{l2}/o/sub/new2", b"new2", mtime_ns=t2 + 2)
    os.makedirs(f"{l2}/o2")
    write(f"{l2}/o2/#early", b"e", mtime_ns=t2 + 3)     # sorts before the marker
    write(f"{l2}/o2/.wh..wh..opq", mtime_ns=t2)
    os.makedirs(f"{l2}/rfile")                          # a directory replaces a file
    write(f"{l2}/rfile/in", b"in", mtime_ns=t2 + 4)
    write(f"{l2}/s", b"file over dir", mtime_ns=t2 + 5) # a file replaces a directory
    write(f"{l2}/.wh.nothing", mtime_ns=t2)             # whiteout of a missing path
    write(f"{l2}/x/hl3", b"third", mtime_ns=t2 + 6)
    set_dir_times(l2, t2 + 100)

    layout = f"{work}/gnu-img"
    run("umoci", "init", "--layout", layout)
    descs, diff_ids, paths = [], [], []
    for i, src in enumerate([l1, l2]):
        path, diff_id = gnu_layer(src, f"{work}/gnu-layer{i}.tar.gz")
        d = blob(layout, open(path, "rb").read())
        d["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
        descs.append(d)
        diff_ids.append(diff_id)
        paths.append(f"{layout}/blobs/sha256/{d['digest'].split(':')[1]}")
    config = blob(layout, json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                                      "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode())
    config["mediaType"] = "application/vnd.oci.image.config.v1+json"
    manifest = blob(layout, json.dumps({"schemaVersion": 2, "config": config, "layers": descs,
                                        "mediaType": "application/vnd.oci.image.manifest.v1+json"}).encode())
    manifest["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    manifest["annotations"] = {"org.opencontainers.image.ref.name": "gnu"}
    with open(f"{layout}/index.json", "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [manifest]}, f)
    run("umoci", "unpack", "--image", f"{layout}:gnu", f"{work}/ref-gnu")
    compare("GNU tar layers with hand-made whiteouts", f"{work}/ref-gnu/rootfs",
            ours("gnu", paths))


try:
    umoci_image()
    gnu_image()
finally:
    shutil.rmtree(work, ignore_errors=True)

for f in failures:
    print("# " + f)
print(f"# {checks} checks, {len(failures)} differences")
print("ok 1 - extraction agrees with umoci" if not failures else "not ok 1 - extraction agrees with umoci")
print("1..1")
sys.exit(1 if failures else 0)
