#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Self-test of compare.py (TAP): images made with umoci from the busybox fixture, differing
in known ways, must give exactly the expected report; timestamps and history alone must give
none; buildah's empty runtime stubs are allowed only on the side named by --buildah."""

import hashlib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

from harness import FixtureStore  # noqa: E402
from harness import skopeo as sk  # noqa: E402

from buildlib.util import Tap, make_workdir, run, safe_rmtree  # noqa: E402


def umoci(*args):
    return run(["umoci", "--log", "error"] + list(args), timeout=120, check=True)


def derive(layout, src_tag, dst_tag, work, change, config=()):
    """dst_tag = src_tag + one layer made by change(rootfs) + umoci config args."""
    umoci("tag", "--image", f"{layout}:{src_tag}", dst_tag)
    bundle = os.path.join(work, "bundle-" + dst_tag)
    umoci("unpack", "--image", f"{layout}:{dst_tag}", bundle)
    change(os.path.join(bundle, "rootfs"))
    umoci("repack", "--image", f"{layout}:{dst_tag}", bundle)
    safe_rmtree(bundle)
    if config:
        umoci("config", "--image", f"{layout}:{dst_tag}", *config)


def write(root, rel, data, mode=0o644):
    p = os.path.join(root, rel.lstrip("/"))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    if os.path.lexists(p):
        os.unlink(p)
    with open(p, "w") as f:
        f.write(data)
    os.chmod(p, mode)


def base_change(r):
    write(r, "data/file", "one\n")
    write(r, "data/mode", "m\n")
    write(r, "data/owned", "o\n")
    write(r, "data/only-a", "a\n")
    write(r, "data/same", "same\n")
    write(r, "data/hard1", "h\n")
    os.link(os.path.join(r, "data/hard1"), os.path.join(r, "data/hard2"))
    os.symlink("file", os.path.join(r, "data/link"))
    write(r, "data/xattr", "x\n")
    os.setxattr(os.path.join(r, "data/xattr"), "user.lading", b"1")


def b_change(r):
    write(r, "data/file", "two!\n")
    os.chmod(os.path.join(r, "data/mode"), 0o600)
    os.chown(os.path.join(r, "data/owned"), 1000, 1000)
    os.unlink(os.path.join(r, "data/only-a"))
    write(r, "data/only-b", "b\n")
    os.utime(os.path.join(r, "data/same"), (12345, 12345))
    os.unlink(os.path.join(r, "data/hard2"))
    write(r, "data/hard2", "h\n")
    os.unlink(os.path.join(r, "data/link"))
    os.symlink("mode", os.path.join(r, "data/link"))
    os.removexattr(os.path.join(r, "data/xattr"), "user.lading")


def same_change(r):
    # only times change: nothing to report
    for n in ("file", "mode", "same"):
        os.utime(os.path.join(r, "data", n), (99999, 99999))


def stub_change(r):
    os.makedirs(os.path.join(r, "proc"))
    write(r, "etc/hosts", "")
    write(r, "sys/notempty", "n\n")


NL = b"\n"
EXPECTED_AB = sorted([
    'config Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] in a, '
    '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "EXTRA=1"] in b',
    'config Cmd: ["/bin/sh"] in a, ["/bin/true"] in b',
    'config Labels: null in a, {"changed": "yes"} in b',
    "'/data/file': size 4 in a, 5 in b",
    f"'/data/file': sha256 '{hashlib.sha256(b'one' + NL).hexdigest()}' in a, "
    f"'{hashlib.sha256(b'two!' + NL).hexdigest()}' in b",
    "'/data/mode': mode '0o644' in a, '0o600' in b",
    "'/data/owned': uid 0 in a, 1000 in b",
    "'/data/owned': gid 0 in a, 1000 in b",
    "'/data/only-a': only in a (file)",
    "'/data/only-b': only in b (file)",
    "'/data/hard1': hard links ['/data/hard2'] in a, [] in b",
    "'/data/hard2': hard links ['/data/hard1'] in a, [] in b",
    "'/data/link': target 'file' in a, 'mode' in b",
    "'/data/xattr': xattrs {'user.lading': '1'} in a, None in b",
])


def compare(*args):
    p = subprocess.run([sys.executable, os.path.join(HERE, "compare.py")] + list(args),
                       capture_output=True, text=True, timeout=300)
    return p.returncode, sorted(p.stdout.splitlines()), p.stderr


def main():
    tap = Tap()
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root (umoci keeps owners only as root)")
        return 0   # meson: a TAP plan of 1..0 is a skip
    work = make_workdir("compare-selftest")
    try:
        fx = FixtureStore().build("busybox")
        layout = os.path.join(work, "layout")
        sk.copy(f"oci:{fx['layout']}:busybox", f"oci:{layout}:busybox")
        derive(layout, "busybox", "a", work, base_change)
        derive(layout, "a", "b", work, b_change,
               ["--config.env", "EXTRA=1", "--config.cmd", "/bin/true",
                "--config.label", "changed=yes"])
        derive(layout, "a", "same", work, same_change,
               ["--history.created_by", "another history text", "--author", "someone else"])
        derive(layout, "a", "stubs", work, stub_change)

        expected = EXPECTED_AB
        rc, out, err = compare(f"oci:{layout}:a", f"oci:{layout}:b")
        tap.ok(rc == 1, "differences: exit status 1", f"status {rc}, stderr {err}")
        missing = sorted(set(expected) - set(out))
        extra = sorted(set(out) - set(expected))
        tap.ok(not missing and not extra, "differences: exactly the expected report",
               "missing:\n  " + "\n  ".join(missing) + "\nunexpected:\n  " + "\n  ".join(extra))

        rc, out, err = compare(f"oci:{layout}:a", f"oci:{layout}:same")
        tap.ok(rc == 1 and out == ["config author: \"lading test harness\" in a, "
                                   "\"someone else\" in b"],
               "times and history text are not differences; author is",
               f"status {rc}: {out} {err}")

        rc, out, err = compare("--allow", "config:author", f"oci:{layout}:a",
                               f"oci:{layout}:same")
        tap.ok(rc == 0 and out == [], "--allow config:KEY", f"status {rc}: {out} {err}")

        rc, out, err = compare("--allow", "/data/*", "--allow", "config:*",
                               f"oci:{layout}:a", f"oci:{layout}:b")
        tap.ok(rc == 1 and all(ln.startswith("config ") for ln in out),
               "--allow PATTERN hides paths only", f"status {rc}: {out} {err}")

        rc, out, err = compare("--buildah", "b", f"oci:{layout}:a", f"oci:{layout}:stubs")
        tap.ok(rc == 1 and out == ["'/sys': only in b (dir)", "'/sys/notempty': only in b (file)"],
               "empty buildah stubs allowed on the buildah side only", f"status {rc}: {out} {err}")

        rc, out, err = compare("--buildah", "a", f"oci:{layout}:a", f"oci:{layout}:stubs")
        tap.ok(rc == 1 and "'/proc': only in b (dir)" in out and
               "'/etc/hosts': only in b (file)" in out,
               "stubs on the other side are differences", f"status {rc}: {out} {err}")

        rc, out, err = compare(f"oci:{layout}:a", f"oci:{layout}:nope")
        tap.ok(rc == 2 and "compare.py:" in err, "an unreadable image: exit status 2",
               f"status {rc}: {out} {err}")
    finally:
        safe_rmtree(work)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
