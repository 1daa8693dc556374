#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A stand-in for lading's executor, built on buildah, for the runner's self-test: it takes
the executor flags the runner passes (a Kaniko-style command line), builds with buildah,
pushes every --destination with one digest, and writes --tar-path, --oci-layout-path and the
digest files the way Kaniko does. It proves the runner's lading side (command line, output
checks, comparison) before lading itself can build; it is not a reference for behaviour.

usage: fake_lading.py --sandbox DIR --context CTX --dockerfile FILE [flags...]"""

import argparse
import json
import os
import shutil
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

from harness import skopeo as sk  # noqa: E402

from buildlib.builders import Buildah, BuildRequest  # noqa: E402
from buildlib.util import run, safe_rmtree  # noqa: E402


def parse(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--sandbox", required=True)
    p.add_argument("--context", required=True)
    p.add_argument("--dockerfile", required=True)
    for f in ("destination", "build-arg", "secret", "label", "registry-certificate",
              "registry-mirror", "insecure-registry"):
        p.add_argument("--" + f, action="append", default=[])
    for f in ("insecure", "insecure-pull", "single-snapshot", "reproducible", "no-push"):
        p.add_argument("--" + f, action="store_true")
    for f in ("target", "custom-platform", "tar-path", "oci-layout-path", "digest-file",
              "image-name-with-digest-file", "image-name-tag-with-digest-file"):
        p.add_argument("--" + f)
    return p.parse_args(argv)


def registries(a, work):
    regs = []
    for i, rc in enumerate(a.registry_certificate):
        host, ca = rc.split("=", 1)
        d = os.path.join(work, f"certs{i}")
        os.makedirs(d)
        shutil.copy(ca, os.path.join(d, "ca.crt"))
        regs.append(types.SimpleNamespace(host=host, tls=True, cert_dir=d, ca_cert=ca))
    if a.insecure or a.insecure_pull:
        regs.append(types.SimpleNamespace(host="", tls=False))
    return regs


def write_layout(path, src, digest, work):
    """An OCI layout holding exactly the pushed manifest (as Kaniko's layout.Write does)."""
    tmp = os.path.join(work, "layout-tmp")
    sk.copy(src, f"oci:{tmp}:x", ["--src-tls-verify=false"] if src.startswith("docker") else [])
    raw, _ = sk.inspect_raw(src, ["--tls-verify=false"] if src.startswith("docker") else [])
    os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
    for n in os.listdir(os.path.join(tmp, "blobs", "sha256")):
        shutil.copy(os.path.join(tmp, "blobs", "sha256", n),
                    os.path.join(path, "blobs", "sha256", n))
    with open(os.path.join(path, "blobs", "sha256", digest.split(":")[1]), "wb") as f:
        f.write(raw)
    m = json.loads(raw)
    with open(os.path.join(path, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion": "1.0.0"}')
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": m.get("mediaType", "application/vnd.oci.image.manifest.v1+json"),
            "digest": digest, "size": len(raw)}]}, f)


def main(argv):
    a = parse(argv)
    work = os.path.join(a.sandbox, "fake")
    os.makedirs(work, exist_ok=True)
    mirror = types.SimpleNamespace(host=a.registry_mirror[0], tls=False) \
        if a.registry_mirror else None
    b = Buildah(os.path.join(work, "buildah"), mirror)
    try:
        args = dict(x.split("=", 1) for x in a.build_arg)
        secrets = []
        for s in a.secret:
            kv = dict(x.split("=", 1) for x in s.split(","))
            secrets.append((kv["id"], kv["src"]))
        labels = dict(x.split("=", 1) for x in a.label)
        extra = ["--format", "oci"] if a.oci_layout_path else []
        req = BuildRequest(a.context, a.dockerfile, a.destination, build_args=args,
                           target=a.target, secrets=secrets, labels=labels,
                           platform=a.custom_platform, single_snapshot=a.single_snapshot,
                           reproducible=a.reproducible, extra=extra,
                           registries=registries(a, work), mirror=mirror, no_push=True)
        res = b.build(req)
        sys.stdout.write(res.stdout)
        sys.stderr.write(res.stderr)
        if res.status != 0:
            print(f"error: buildah exited with {res.status}", file=sys.stderr)
            return 1
        tag = f"localhost/lading-test/build:{b.builds}"
        tls = b._tls(req)
        if a.no_push:
            src = f"oci:{os.path.join(work, 'nopush')}:img"
            r = b._base() + ["push", "--signature-policy", b.files["policy.json"], tag, src]
        else:
            src = f"docker://{a.destination[0]}"
            r = b._base() + ["push", "--signature-policy", b.files["policy.json"]] + tls + \
                [tag, src]
        p = run(r, env=b.env, timeout=240)
        if p.returncode != 0:
            print(f"error: push: {p.stderr.strip()}", file=sys.stderr)
            return 1
        skargs = ["--src-tls-verify=false"] if src.startswith("docker") else []
        raw, digest = sk.inspect_raw(src, ["--tls-verify=false"] if src.startswith("docker")
                                     else [])
        if not a.no_push:
            for d in a.destination[1:]:
                sk.copy(src, f"docker://{d}", skargs + ["--dest-tls-verify=false",
                                                       "--preserve-digests"])
        if a.tar_path:
            more = []
            for d in a.destination[1:]:
                more += ["--additional-tag", d]
            sk.copy(src, f"docker-archive:{a.tar_path}:{a.destination[0]}", skargs + more)
        if a.oci_layout_path:
            write_layout(a.oci_layout_path, src, digest, work)
        if a.digest_file:
            with open(a.digest_file, "w") as f:
                f.write(digest)
        for path, with_tag in ((a.image_name_with_digest_file, False),
                               (a.image_name_tag_with_digest_file, True)):
            if path:
                with open(path, "w") as f:
                    for d in a.destination:
                        f.write((d if with_tag else d.rsplit(":", 1)[0]) + "@" + digest + "\n")
        return 0
    finally:
        b.close()
        safe_rmtree(work)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
