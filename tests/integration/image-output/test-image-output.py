#!/usr/bin/env python3
"""Outputs (--oci-layout-path, --tar-path) are read correctly by skopeo and umoci."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

tool = sys.argv[1]
n = 0
failed = 0


def check(cond, name, detail=""):
    global n, failed
    n += 1
    print(("ok" if cond else "not ok"), n, "-", name)
    if not cond:
        failed += 1
        if detail:
            print("#", str(detail).replace("\n", "\n# "))


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


for fmt in ("docker", "oci"):
    with tempfile.TemporaryDirectory() as tmp:
        src1 = os.path.join(tmp, "src1")
        os.makedirs(os.path.join(src1, "bin"))
        with open(os.path.join(src1, "bin/hello"), "w") as f:
            f.write("#!/bin/sh\necho hello\n")
        os.chmod(os.path.join(src1, "bin/hello"), 0o755)
        src2 = os.path.join(tmp, "src2")
        os.makedirs(os.path.join(src2, "etc"))
        with open(os.path.join(src2, "etc/motd"), "w") as f:
            f.write("second layer\n")
        l1, l2 = os.path.join(tmp, "l1.tar.gz"), os.path.join(tmp, "l2.tar.gz")
        subprocess.run(["tar", "-czf", l1, "-C", src1, "--numeric-owner", "bin"], check=True)
        subprocess.run(["tar", "-czf", l2, "-C", src2, "--numeric-owner", "etc"], check=True)
        store, layout, tarball = (os.path.join(tmp, x) for x in ("store", "layout", "img.tar"))
        p = run(tool, fmt, store, layout, tarball, "example.com/app:v1", l1, l2)
        check(p.returncode == 0, f"{fmt}: write-image succeeds", p.stderr)
        digest = p.stdout.strip()

        p = run("skopeo", "inspect", "--raw", f"oci:{layout}:v1")
        check(p.returncode == 0, f"{fmt}: skopeo reads the OCI layout", p.stderr)
        raw = p.stdout
        if fmt == "oci":
            check("sha256:" + hashlib.sha256(raw.encode()).hexdigest() == digest,
                  f"{fmt}: layout holds the image's own manifest", raw)
        m = json.loads(raw) if raw else {}
        check(m.get("mediaType") == "application/vnd.oci.image.manifest.v1+json",
              f"{fmt}: layout manifest has the OCI media type", m.get("mediaType"))
        check([x["mediaType"] for x in m.get("layers", [])] ==
              ["application/vnd.oci.image.layer.v1.tar+gzip"] * 2,
              f"{fmt}: layout layers have OCI media types", m)
        p = run("skopeo", "inspect", "--config", f"oci:{layout}:v1")
        cfg = json.loads(p.stdout) if p.returncode == 0 else {}
        check(cfg.get("config", {}).get("Cmd") == ["/bin/hello"], f"{fmt}: config Cmd", p.stdout)
        check(len(cfg.get("rootfs", {}).get("diff_ids", [])) == 2, f"{fmt}: two diff_ids")

        bundle = os.path.join(tmp, "bundle")
        p = run("umoci", "unpack", "--image", f"{layout}:v1", bundle)
        check(p.returncode == 0, f"{fmt}: umoci unpacks the layout", p.stderr)
        rootfs = os.path.join(bundle, "rootfs")
        check(os.path.exists(os.path.join(rootfs, "bin/hello")) and
              open(os.path.join(rootfs, "etc/motd")).read() == "second layer\n",
              f"{fmt}: both layers applied")

        # the layout grows when written again with another tag
        p = run(tool, fmt, store, layout, tarball + "2", "example.com/app:v2", l1)
        idx = json.load(open(os.path.join(layout, "index.json")))
        names = sorted(e["annotations"]["org.opencontainers.image.ref.name"]
                       for e in idx["manifests"])
        check(names == ["v1", "v2"], f"{fmt}: index.json keeps both tags", names)

        p = run("skopeo", "inspect", f"docker-archive:{tarball}")
        check(p.returncode == 0, f"{fmt}: skopeo reads the docker archive", p.stderr)
        info = json.loads(p.stdout) if p.returncode == 0 else {}
        p = run("skopeo", "inspect", f"docker-archive:{tarball}:example.com/app:v1")
        check(p.returncode == 0, f"{fmt}: the archive's image is found by its tag", p.stderr)
        check(len(info.get("Layers", [])) == 2, f"{fmt}: archive has two layers")
        out = os.path.join(tmp, "copied")
        p = run("skopeo", "copy", f"docker-archive:{tarball}", f"oci:{out}:x")
        check(p.returncode == 0, f"{fmt}: skopeo copies the archive", p.stderr)
        p = run("tar", "-tf", tarball)
        check("manifest.json" in p.stdout.split() and "index.json" in p.stdout.split(),
              f"{fmt}: archive has manifest.json and index.json")
        mj = json.loads(run("tar", "-xOf", tarball, "manifest.json").stdout)
        check(mj[0]["RepoTags"] == ["example.com/app:v1"], f"{fmt}: manifest.json RepoTags",
              mj)

print(f"1..{n}")
sys.exit(1 if failed else 0)
