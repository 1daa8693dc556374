# SPDX-License-Identifier: Apache-2.0
"""What the git context tests share: TAP checks, running git, building with the executor in
sandbox mode from a git context, and reading the image's files back with skopeo."""

import json
import os
import subprocess
import sys
import tarfile


class Checks:
    def __init__(self):
        self.n = self.failed = 0

    def __call__(self, cond, name, detail=""):
        self.n += 1
        print(("ok" if cond else "not ok"), self.n, "-", name)
        if not cond:
            self.failed += 1
            for line in str(detail).splitlines()[-25:]:
                print("#  ", line)
        return cond

    def done(self):
        print(f"1..{self.n}")
        sys.exit(1 if self.failed else 0)


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def build(executor, work, name, context, *flags, dockerfile=None, env_extra=None):
    """The executor in sandbox mode, fetching over plain http (the test server's); returns
    (the finished process, the OCI layout it wrote)."""
    out = os.path.join(work, "out-" + name)
    env = {**os.environ, "GIT_PULL_METHOD": "http", **(env_extra or {})}
    cmd = [executor, "--sandbox", os.path.join(work, "sandbox-" + name), "--context", context,
           "--no-push", "--oci-layout-path", out, *flags]
    if dockerfile:
        cmd += ["--dockerfile", dockerfile]
    # the Dockerfile is looked up as given first: run where there is none
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env, cwd=work)
    return p, out


def layers(layout):
    """{path: (type, mode, uid, gid, content or link target)} over all layers, via skopeo."""
    p = subprocess.run(["skopeo", "inspect", "--raw", f"oci:{layout}"], capture_output=True,
                       text=True)
    if p.returncode != 0:
        return {"skopeo failed": p.stderr}
    entries = {}
    for layer in json.loads(p.stdout)["layers"]:
        blob = os.path.join(layout, "blobs", *layer["digest"].split(":"))
        with tarfile.open(blob, "r:*") as t:
            for m in t.getmembers():
                kind = "d" if m.isdir() else "l" if m.issym() else "f" if m.isfile() else "?"
                data = (t.extractfile(m).read().decode() if m.isfile()
                        else m.linkname if m.issym() else "")
                entries[m.name.rstrip("/")] = (kind, m.mode & 0o7777, m.uid, m.gid, data)
    return entries
