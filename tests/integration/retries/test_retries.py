#!/usr/bin/env python3
"""--image-fs-extract-retry and --push-ignore-immutable-tag-errors against a real registry:
a base image whose layer cannot be extracted is tried again as many times as asked, then
fails naming the entry; a registry that refuses to overwrite an immutable tag fails the push,
unless the flag says to leave the tag as it is."""
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

from harness import FixtureStore, Registry, proxy_for
from harness import skopeo as sk

executor = sys.argv[1]
n = failed = 0


def check(cond, name, detail=""):
    global n, failed
    n += 1
    print(("ok" if cond else "not ok"), n, "-", name)
    if not cond:
        failed += 1
        for line in str(detail).splitlines()[-25:]:
            print("#  ", line)


def build(work, registry, dockerfile, *flags):
    ctx = os.path.join(work, "ctx")
    os.makedirs(ctx, exist_ok=True)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(dockerfile)
    cmd = [executor, "--sandbox", os.path.join(work, "sandbox"), "--context", ctx,
           "--insecure", "--insecure-pull", *flags]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240)


def hostile_layout(path):
    """An OCI layout of one image whose only layer holds '../escape' (refused by extraction)."""
    os.makedirs(os.path.join(path, "blobs", "sha256"))

    def put(data):
        import hashlib
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(path, "blobs", "sha256", d), "wb") as f:
            f.write(data)
        return "sha256:" + d, len(data)

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        info = tarfile.TarInfo("../escape")
        info.size = 1
        t.addfile(info, io.BytesIO(b"x"))
    tar = raw.getvalue()
    import hashlib
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    layer, layer_size = put(gzip.compress(tar, mtime=0))
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    cfg, cfg_size = put(config)
    manifest = json.dumps({"schemaVersion": 2,
                           "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": cfg, "size": cfg_size},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                       "digest": layer, "size": layer_size}]}).encode()
    m, m_size = put(manifest)
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m,
             "size": m_size, "annotations": {"org.opencontainers.image.ref.name": "1"}}]}, f)
    with open(os.path.join(path, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')


with tempfile.TemporaryDirectory(prefix="lading-retries-") as work, Registry("http") as reg:
    # --image-fs-extract-retry
    layout = os.path.join(work, "hostile")
    hostile_layout(layout)
    sk.copy(f"oci:{layout}:1", f"docker://{reg.host}/base/hostile:1", reg.skopeo_args("dest"))
    r = build(os.path.join(work, "a"), reg, f"FROM {reg.host}/base/hostile:1\n",
              "--no-push", "--image-fs-extract-retry=2")
    check(r.returncode == 1, "an unextractable base fails", r.stderr)
    retries = [ln for ln in r.stderr.splitlines() if "--image-fs-extract-retry" in ln]
    check(len(retries) == 2 and "retrying (1/2" in retries[0] and "retrying (2/2" in retries[1],
          "tried again twice, saying so", r.stderr)
    last = r.stderr.strip().splitlines()[-1]
    check(last.startswith("error: ") and "../escape" in last and "FROM" in last,
          "the error names the entry and the FROM line", last)
    r = build(os.path.join(work, "b"), reg, f"FROM {reg.host}/base/hostile:1\n", "--no-push")
    check(r.returncode == 1 and "retrying" not in r.stderr, "no retry by default", r.stderr)

    # --push-ignore-immutable-tag-errors
    FixtureStore().push("busybox", f"{reg.host}/base/busybox:1", reg.skopeo_args("dest"), "oci")
    proxy = proxy_for(reg, os.path.join(work, "proxy"))
    try:
        immutable = ("The image tag 'v1' already exists in the 'app' repository and cannot be "
                     "overwritten because the repository is immutable.")
        proxy.add_fault("status", method="PUT", path="/manifests/", status=400,
                        code="TAG_INVALID", message=immutable, times=0)
        dest = f"{proxy.host}/app/immutable:v1"
        df = f"FROM {reg.host}/base/busybox:1\nRUN echo x > /x\n"
        r = build(os.path.join(work, "c"), reg, df, "--destination", dest,
                  "--insecure-registry", proxy.host)
        check(r.returncode == 1 and "cannot be overwritten because the repository is immutable"
              in r.stderr.strip().splitlines()[-1], "an immutable tag fails the push", r.stderr)
        r = build(os.path.join(work, "d"), reg, df, "--destination", dest,
                  "--insecure-registry", proxy.host, "--push-ignore-immutable-tag-errors")
        check(r.returncode == 0, "--push-ignore-immutable-tag-errors: the build succeeds",
              r.stderr)
        check("left as it is (--push-ignore-immutable-tag-errors)" in r.stderr,
              "and says the tag was left as it is", r.stderr)
        proxy.clear_faults()
        proxy.add_fault("status", method="PUT", path="/manifests/", status=403,
                        code="DENIED", message="requested access to the resource is denied",
                        times=0)
        r = build(os.path.join(work, "e"), reg, df, "--destination", dest,
                  "--insecure-registry", proxy.host, "--push-ignore-immutable-tag-errors")
        check(r.returncode == 1 and "DENIED" in r.stderr,
              "other push errors still fail with the flag", r.stderr)
    finally:
        proxy.stop()

print(f"1..{n}")
sys.exit(1 if failed else 0)
