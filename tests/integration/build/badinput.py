# SPDX-License-Identifier: Apache-2.0
"""Bad-input cases, lading only: each runs the executor on something that must fail and
checks the exit status, one stderr line (every regex of `line` must match the same line),
that no secret shows in the output, and that nothing was pushed under the destination.

Run through runner.py: `runner.py bad NAME --executor EXE` (TAP)."""

import contextlib
import hashlib
import os
import re

from harness import FixtureStore, Registry, Rule
from harness import skopeo as sk
from harness.util import free_port

from buildlib.builders import BuildRequest, Lading
from buildlib.httpserve import FileServer
from buildlib.util import Tap, TestError, make_workdir, safe_rmtree

BASE = "ARG BASE\nFROM ${BASE}\n"
ZERO = "sha256:" + "0" * 64
SERVED = b"the served content\n"
SERVED_SHA = "sha256:" + hashlib.sha256(SERVED).hexdigest()
# libcurl says "Couldn't connect to server" / "Failed to connect to ... Connection refused"
REFUSED = r"(?i)(connection refused|couldn't connect|failed to connect)"

# name: dict(why, dockerfile ({registry} and {closed} are replaced), status, line (regexes
# that one stderr line must all match), registry (mode), base_repo, dest, extra (flags; the
# auth cases skip the push-permission check, which would fail first on the same registry, to
# reach the base image pull), check_dest (False:
# the destination cannot be inspected), http (serve SERVED as ${HTTP}/served.txt))
CASES = {
    "missing-context-file": dict(
        why="COPY of a file the context does not have",
        dockerfile=BASE + "COPY missing.txt /x\n", status=1,
        line=[r"^error: ", r"\bCOPY\b", r"missing\.txt", r"not found in the build context"]),
    "failing-run": dict(
        why="RUN exits 42: the executor exits 42, naming the step and the status",
        dockerfile=BASE + "RUN echo before\nRUN exit 42\nRUN echo never > /never\n", status=42,
        line=[r"^error: ", r"\bRUN\b", r"exit 42", r"\b42$"]),
    "failing-run-exec-form": dict(
        why="RUN [\"/bin/false\"] exits 1",
        dockerfile=BASE + 'RUN ["/bin/false"]\n', status=1,
        line=[r"^error: ", r"\bRUN\b", r"/bin/false", r"\b1$"]),
    "unknown-base-tag": dict(
        why="FROM a tag the registry does not have",
        dockerfile="FROM {registry}/base/busybox:nope\n", status=1,
        line=[r"^error: ", r"base/busybox:nope", r"\b404\b", r"MANIFEST_UNKNOWN"]),
    "unknown-base-repository": dict(
        why="FROM a repository the registry does not have",
        dockerfile="FROM {registry}/nope/missing:1\n", status=1,
        line=[r"^error: ", r"nope/missing:1", r"\b404\b", r"(NAME_UNKNOWN|MANIFEST_UNKNOWN)"]),
    "base-needs-auth-basic": dict(
        why="the registry wants Basic credentials and none are configured",
        registry="basic", dockerfile=BASE, status=1, extra=["--skip-push-permission-check"],
        line=[r"^error: ", r"base/busybox:oci", r"\b401\b", r"(?i)(anonymous|credential)"]),
    "base-needs-auth-token": dict(
        why="the registry's token server gives anonymous users no pull right on private/*",
        registry="token", base_repo="private/busybox", dockerfile=BASE, status=1,
        extra=["--skip-push-permission-check"],
        line=[r"^error: ", r"private/busybox:oci", r"\b401\b", r"(?i)(anonymous|credential)"]),
    "unreachable-base-registry": dict(
        why="FROM an image on a port where nothing listens",
        dockerfile="FROM 127.0.0.1:{closed}/base/busybox:oci\n", status=1,
        line=[r"^error: ", r"127\.0\.0\.1:{closed}", REFUSED]),
    "unreachable-destination": dict(
        why="--destination on a port where nothing listens",
        dockerfile=BASE + "RUN echo x > /x\n", dest="127.0.0.1:{closed}/out/x:1", status=1,
        check_dest=False,
        line=[r"^error: ", r"127\.0\.0\.1:{closed}", REFUSED]),
    "bad-destination-uppercase": dict(
        why="--destination with an upper-case repository name",
        dockerfile=BASE, dest="{registry}/UPPER/x:tag", status=1, check_dest=False,
        line=[r"^error: ", r"(?i)destination", r"UPPER/x:tag"]),
    "bad-destination-colons": dict(
        why="--destination 'a:b:c' is no image reference",
        dockerfile=BASE, dest="a:b:c", status=1, check_dest=False,
        line=[r"^error: ", r"(?i)destination", r"a:b:c"]),
    "add-checksum-mismatch": dict(
        why="ADD --checksum with a digest the download does not have",
        dockerfile=BASE + "ARG HTTP\nADD --checksum=" + ZERO + " ${HTTP}/served.txt /served.txt\n",
        http=True, status=1,
        line=[r"^error: ", r"\bADD\b", re.escape(ZERO), re.escape(SERVED_SHA)]),
    "missing-required-secret": dict(
        why="RUN --mount=type=secret,required=true without a --secret of that id",
        dockerfile=BASE + "RUN --mount=type=secret,id=absent,required=true "
                          "cat /run/secrets/absent\n",
        status=1, line=[r"^error: ", r"\bsecret\b", r"\babsent\b"]),
}


def names():
    return sorted(CASES)


def _fmt(s, subst):
    for k, v in subst.items():
        s = s.replace("{" + k + "}", v)
    return s


def run(name, executor):
    tap = Tap()
    if name not in CASES:
        raise TestError(f"unknown bad-input case '{name}' (known: {', '.join(names())})")
    c = CASES[name]
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root (sandbox builds)")
        return 0   # meson: a TAP plan of 1..0 is a skip
    builders = [b.strip() for b in os.environ.get("LADING_BUILD_BUILDERS",
                                                  "lading,buildah").split(",")]
    if "lading" not in builders:
        print("1..0 # SKIP lading is not among LADING_BUILD_BUILDERS")
        return 0   # meson: a TAP plan of 1..0 is a skip
    if not (executor and os.access(executor, os.X_OK)):
        raise TestError("bad-input cases need --executor PATH")
    tap.note(f"{name}: {c['why']}")
    work = make_workdir("bad-" + name)
    stack = contextlib.ExitStack()
    try:
        mode = c.get("registry", "http")
        rules = None
        if mode == "token":
            rules = [Rule("*", "*", ["pull", "push"]), Rule("", "public/*", ["pull"])]
        reg = stack.enter_context(Registry(mode, directory=os.path.join(work, "reg"),
                                           rules=rules))
        repo = c.get("base_repo", "base/busybox")
        FixtureStore().push("busybox", f"{reg.host}/{repo}:oci", reg.skopeo_args("dest"), "oci")
        subst = {"registry": reg.host, "closed": str(free_port())}
        build_args = {"BASE": f"{reg.host}/{repo}:oci"}
        if c.get("http"):
            http_dir = os.path.join(work, "http")
            os.makedirs(http_dir)
            with open(os.path.join(http_dir, "served.txt"), "wb") as f:
                f.write(SERVED)
            server = FileServer(http_dir).start()
            stack.callback(server.stop)
            build_args["HTTP"] = server.url
        ctx = os.path.join(work, "context")
        os.makedirs(ctx)
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write(_fmt(c["dockerfile"], subst))
        dest = _fmt(c.get("dest", "{registry}/out/" + name + ":bad"), subst)
        req = BuildRequest(ctx, os.path.join(ctx, "Dockerfile"), [dest], build_args=build_args,
                           registries=[reg], extra=c.get("extra", ()))
        res = Lading(executor, os.path.join(work, "lading")).build(req)
        tap.ok(res.status == c["status"], f"exit status {c['status']}",
               f"exit status {res.status}\n{res.summary()}")
        rx = [re.compile(_fmt(r, subst)) for r in c["line"]]
        lines = res.stderr.splitlines()
        tap.ok(any(all(r.search(ln) for r in rx) for ln in lines),
               "stderr has the error line",
               "no stderr line matches all of " + " ".join(f"/{r.pattern}/" for r in rx) +
               "\nstderr:\n" + "\n".join(lines[-30:]))
        if reg.password:
            tap.ok(reg.password not in res.stdout + res.stderr, "no password in the output")
        if c.get("check_dest", True):
            p = sk.skopeo(["inspect", "--raw"] + reg.skopeo_args("") + [f"docker://{dest}"],
                          check=False)
            tap.ok(p.returncode != 0 and "manifest unknown" in p.stderr,
                   "nothing pushed under the destination",
                   f"skopeo inspect exited {p.returncode}: {p.stderr.strip()}")
        else:
            tap.note("the destination is unreachable or not a reference: nothing to inspect")
    except (TestError, sk.SkopeoError) as e:
        tap.ok(False, "the test itself ran", str(e))
    finally:
        stack.close()
        if os.environ.get("LADING_BUILD_KEEP") == "1":
            tap.note(f"work directory kept: {work}")
        else:
            safe_rmtree(work)
    return tap.done()
