#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Compare two images entry by entry: their filesystems (unpacked with umoci: type, mode,
owner, size, content hash, link target, device numbers, xattrs, hard links) and their
configs (Env, Cmd, Entrypoint, User, WorkingDir, ExposedPorts, Volumes, Labels, StopSignal,
Healthcheck, Shell, OnBuild, os, architecture, variant, author). Every difference is printed,
one a line, except those ALLOWED_DIFFERENCES.md lists.

usage: compare.py [options] IMAGE_A IMAGE_B
  IMAGE: docker://HOST/REPO:TAG | oci:DIR[:TAG] | docker-archive:PATH
  --tls-verify=false      reach docker:// registries over plain HTTP (or unverified TLS)
  --cert-dir DIR          CA certificates for docker:// registries (ca.crt)
  --creds USER:PASSWORD   credentials for docker:// registries
  --buildah a|b           that image was built by buildah: its empty runtime mount stubs
                          (/dev /proc /sys /etc/hosts /etc/resolv.conf /run /run/secrets)
                          are allowed to be missing from the other
  --allow PATTERN         also allow differences of paths matching PATTERN (fnmatch), or of
                          config key K with config:K (repeatable; say why where you use it)
  --names A,B             names for the two sides in the report (default a,b)
exit status: 0 same, 1 different, 2 error. Needs root (umoci keeps owners only as root)."""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

from harness.skopeo import SkopeoError  # noqa: E402

from buildlib.compare import compare_images  # noqa: E402
from buildlib.image import Image  # noqa: E402
from buildlib.util import TestError, make_workdir, safe_rmtree  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                usage="compare.py [options] IMAGE_A IMAGE_B")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--tls-verify", default="true", choices=("true", "false"))
    p.add_argument("--cert-dir")
    p.add_argument("--creds")
    p.add_argument("--buildah", choices=("a", "b"))
    p.add_argument("--allow", action="append", default=[])
    p.add_argument("--names", default="a,b")
    a = p.parse_args(argv)
    names = tuple(a.names.split(",", 1)) if "," in a.names else ("a", "b")
    if os.geteuid() != 0:
        print("compare.py: needs root (umoci unpack keeps owners only as root)", file=sys.stderr)
        return 2
    args = []
    if a.tls_verify == "false":
        args.append("--tls-verify=false")
    if a.cert_dir:
        args += ["--cert-dir", a.cert_dir]
    args += ["--creds", a.creds] if a.creds else ["--no-creds"]
    work = make_workdir("compare")
    try:
        ia = Image(a.a, os.path.join(work, "a"), args)
        ib = Image(a.b, os.path.join(work, "b"), args)
        stub_side = {"a": names[0], "b": names[1]}.get(a.buildah)
        diffs = compare_images(ia, ib, names, stub_side=stub_side, allow=a.allow)
    except (TestError, SkopeoError) as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 2
    finally:
        safe_rmtree(work)
    for d in diffs:
        print(d)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
