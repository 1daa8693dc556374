#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The static executor as PID 1 of a bare root, as a Kubernetes pod runs the release image
(TAP). The root holds only /kaniko (the executor of scripts/build-static.sh, CA certificates,
and a docker config.json mounted like a Secret) and /workspace (the context, mounted like a
volume); pod.py enters new mount and PID namespaces, mounts /proc, /dev, /sys, /etc/hosts,
/etc/hostname, /etc/resolv.conf and a service account tmpfs as a runtime does, chroots and
execs the executor with the release image's environment. The executor then:

  1. builds on a three-layer base whose /bin/sh is dash linked against the image's own glibc,
     extracting it over its own root, and pushes to a registry with Basic auth over TLS
     (HTTP/2), trusting the test CA from /kaniko/ssl/certs; the image is read back with
     skopeo and umoci: its files, that no layer holds /kaniko or a mounted path, that an
     orphan left by a RUN step was reaped while the step ran;
  2. gets SIGTERM while a RUN step runs: the step sees it, the executor exits 143, nothing
     is pushed;
  3. runs without CAP_SETUID in its bounding set (a pod that drops it): `USER app` + RUN
     fails with common/priv's explanation.

usage: test-pod.py   (LADING_STATIC_EXECUTOR names the static executor; LADING_STATIC_BUILD=1
                      runs scripts/build-static.sh instead; otherwise the test is skipped)
Needs root."""

import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import podlib  # noqa: E402
from harness import Registry  # noqa: E402
from harness import skopeo as sk  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

BUILD_DOCKERFILE = r"""ARG BASE
FROM ${BASE}
COPY hello.txt /app/hello.txt
# the base image's own shell: dash, loaded by the image's ld.so with the image's libc
RUN echo "shell=$(readlink /proc/$$/exe)" > /app/shell.txt
# an orphan re-parented to PID 1 (the executor) must be reaped while the step runs
RUN (sh -c 'echo $$ > /tmp/orphan; sleep 0.2' &); \
    i=0; while [ ! -s /tmp/orphan ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; \
    pid=$(cat /tmp/orphan); rm /tmp/orphan; \
    i=0; while [ -e /proc/$pid ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; \
    if [ -e /proc/$pid ]; then echo "orphan $pid: $(cut -d' ' -f3 /proc/$pid/stat)"; exit 1; fi; \
    echo reaped > /app/orphan.txt
RUN tr '\0' ' ' < /proc/1/cmdline | cut -d' ' -f1 > /app/pid1.txt
"""

TERM_DOCKERFILE = r"""ARG BASE
FROM ${BASE}
RUN trap 'echo got-TERM > /tmp/term; exit 3' TERM; echo > /tmp/ready; \
    i=0; while [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done; echo timeout
"""

PRIV_DOCKERFILE = r"""ARG BASE
FROM ${BASE}
USER app
RUN id
"""


def static_executor():
    exe = os.environ.get("LADING_STATIC_EXECUTOR")
    if exe:
        return exe
    if os.environ.get("LADING_STATIC_BUILD") == "1":
        p = subprocess.run(["bash", os.path.join(TOP, "scripts", "build-static.sh")],
                           stdout=subprocess.PIPE, text=True, timeout=1800)
        if p.returncode == 0 and p.stdout.strip():
            return p.stdout.strip().splitlines()[-1]
        print("Bail out! scripts/build-static.sh failed")
        sys.exit(1)
    return None


def workspace(work, name, dockerfile, files=None):
    d = os.path.join(work, name)
    podlib.write(os.path.join(d, "Dockerfile"), dockerfile)
    for k, v in (files or {}).items():
        podlib.write(os.path.join(d, k), v)
    return d


def bare_root(work, name, exe, reg):
    root = os.path.join(work, name)
    os.makedirs(root)
    podlib.make_kaniko_home(root, exe, [("lading-test-ca.crt", reg.ca_cert)])
    return root


def check_build(t, work, pod, exe, reg, base_ref, base_layers):
    root = bare_root(work, "pod-build", exe, reg)
    ref = f"{reg.host}/pod/app:1"
    rc, out, err = pod.run(root, podlib.RELEASE_ENV,
                           ["--destination", ref, "--build-arg", f"BASE={base_ref}",
                            "--verbosity=debug"], log=os.path.join(work, "pod-build.log"))
    if not t.ok(rc == 0, "as PID 1 of a bare root, the executor builds and pushes",
                f"exit {rc}\n{err[-4000:]}"):
        return
    t.ok(f"Pushed {ref}@sha256:" in out + err, "it reports the push", out[-2000:])
    h2 = [line for line in err.splitlines() if " HTTP/2 2" in line]
    t.ok(len(h2) > 0, "the registry is spoken to over HTTP/2 with TLS (nghttp2 in the static "
                      "libcurl), trusting the CA added to /kaniko/ssl/certs")

    layout = os.path.join(work, "oci")
    manifest, config = podlib.pull(ref, reg.skopeo_args("src"), layout, "app")
    digests = [ly["digest"] for ly in manifest["layers"]]
    t.eq(digests[:3], base_layers, "the base image's three layers are reused as they are")
    t.eq(len(digests), 7, "one new layer for the COPY and for each of the three RUN steps")
    entries = podlib.layer_entries(layout, manifest)[3:]
    leaked = sorted({f"{n} (layer {i + 4})" for i, names in enumerate(entries) for n in names
                     if podlib.under(n, ["kaniko"] + podlib.POD_MOUNTS)})
    t.eq(leaked, [], "no new layer holds /kaniko or a path the pod has mounted")
    t.eq(entries, [["app", "app/hello.txt"],
                   ["app", "app/shell.txt"],
                   ["app", "app/orphan.txt", "tmp"],
                   ["app", "app/pid1.txt"]],
         "each new layer holds exactly what its instruction changed")
    c = config.get("config", {})
    t.eq((c.get("Cmd"), c.get("Env")),
         (["/bin/sh"], ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]),
         "the base image's Cmd and Env are kept")

    rootfs = podlib.unpack(layout, "app", os.path.join(work, "bundle"))

    def read(p):
        try:
            with open(os.path.join(rootfs, p)) as f:
                return f.read()
        except OSError as e:
            return f"<{e.strerror}>"

    t.eq([read("app/hello.txt"), read("app/shell.txt"), read("app/orphan.txt"),
          read("app/pid1.txt")],
         ["hello from the workspace\n", "shell=/bin/dash\n", "reaped\n", "/kaniko/executor\n"],
         "the COPY, the RUN steps in the image's dash, the orphan reaped, the executor as PID 1")
    t.eq((read("etc/motd"), os.path.lexists(os.path.join(rootfs, "opt/old")),
          os.readlink(os.path.join(rootfs, "bin/sh"))),
         ("layer three\n", False, "dash"), "the base's whiteout and symlink hold in the image")
    t.eq(read("etc/hostname"), "fixture\n",
         "/etc/hostname is the image's, not the pod's mounted file")
    t.ok(os.access(os.path.join(root, "kaniko", "executor"), os.X_OK) and
         os.path.isfile(os.path.join(root, "kaniko", "ssl", "certs", "ca-certificates.crt")),
         "/kaniko survives extracting the base image over the root")


def check_sigterm(t, work, pod, exe, reg, base_ref):
    root = bare_root(work, "pod-term", exe, reg)
    ref = f"{reg.host}/pod/term:1"
    pidfile = os.path.join(work, "pod-term.pid")
    p = pod.start(root, podlib.RELEASE_ENV,
                  ["--destination", ref, "--build-arg", f"BASE={base_ref}"], pidfile)
    try:
        ready = podlib.wait_for(os.path.join(root, "tmp", "ready"), 300)
        t.ok(ready, "SIGTERM: the RUN step started")
        with open(pidfile) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGTERM)
        out, err = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    err = err.decode(errors="replace")
    podlib.write(os.path.join(work, "pod-term.log"), err)
    t.eq(p.returncode, 143, "SIGTERM to PID 1: the executor exits with 143")
    term = os.path.join(root, "tmp", "term")
    t.eq(open(term).read() if os.path.exists(term) else None, "got-TERM\n",
         "SIGTERM was forwarded to the RUN step, whose trap ran")
    t.ok("interrupted by SIGTERM, which was forwarded to '/bin/sh'" in err,
         "the error says the step was interrupted by the forwarded SIGTERM", err[-2000:])
    r = sk.skopeo(["inspect", "--raw"] + reg.skopeo_args("") + [f"docker://{ref}"],
                  check=False)
    t.ok(r.returncode != 0 and "manifest unknown" in r.stderr,
         "nothing was pushed under the destination", r.stderr)


def check_privilege(t, work, pod, exe, reg, base_ref):
    root = bare_root(work, "pod-priv", exe, reg)
    ref = f"{reg.host}/pod/priv:1"
    rc, out, err = pod.run(root, podlib.RELEASE_ENV,
                           ["--destination", ref, "--build-arg", f"BASE={base_ref}"],
                           drop=["setuid"], log=os.path.join(work, "pod-priv.log"))
    last = err.strip().splitlines()[-1] if err.strip() else ""
    t.eq((rc, last),
         (1, "error: Dockerfile:4: step 2/2 'RUN id': switch to user 'app' (uid 1000): Operation not "
             "permitted: the build runs without CAP_SETUID (it is not in the capability "
             "bounding set: an unprivileged pod?)"),
         "without CAP_SETUID, `USER app` + RUN fails and says which privilege is missing")


def main():
    if os.geteuid() != 0:
        podlib.skip_all("needs root (namespaces, chroot, mounts)")
    exe = static_executor()
    if not exe:
        podlib.skip_all("LADING_STATIC_EXECUTOR is not set (scripts/test.sh sets it; "
                        "LADING_STATIC_BUILD=1 builds the static executor here)")
    t = podlib.Tap()
    work = tempfile.mkdtemp(prefix="lading-test-pod-")
    os.chmod(work, 0o755)
    reg = Registry("basic+https", directory=os.path.join(work, "registry"))
    try:
        reg.start()
        base = podlib.dynamic_base_image()
        info = podlib.build_layout(os.path.join(work, "base"), "dyn", base,
                                   os.path.join(work, "base-work"))
        base_ref = f"{reg.host}/base/dyn:1"
        sk.copy(f"oci:{os.path.join(work, 'base')}:dyn", f"docker://{base_ref}",
                reg.skopeo_args("dest"))
        base_layers = [ly["digest"] for ly in info["layers"]]

        secret = os.path.join(work, "secret")
        podlib.docker_config(os.path.join(secret, "config.json"), reg.host, reg.user,
                             reg.password)
        ws = workspace(work, "ws-build", BUILD_DOCKERFILE,
                       {"hello.txt": "hello from the workspace\n"})
        check_build(t, work, podlib.Pod(work, ws, secret), exe, reg, base_ref, base_layers)
        ws = workspace(work, "ws-term", TERM_DOCKERFILE)
        check_sigterm(t, work, podlib.Pod(work, ws, secret), exe, reg, base_ref)
        ws = workspace(work, "ws-priv", PRIV_DOCKERFILE)
        check_privilege(t, work, podlib.Pod(work, ws, secret), exe, reg, base_ref)
    except Exception as e:  # a harness failure is a test failure, with its message
        t.ok(False, "the test ran to its end", f"{type(e).__name__}: {e}")
    finally:
        reg.stop()
        status = podlib.finish(t, work)
    sys.exit(status)


if __name__ == "__main__":
    main()
