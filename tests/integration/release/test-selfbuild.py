#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""lading builds its own release image, and that image works (TAP).

  1. A Debian bookworm base image: `mmdebstrap --variant=minbase` from the mirror named in
     this machine's apt sources (never a host name of our own), made an OCI image with umoci
     and pushed as library/debian:bookworm to a local registry that stands in for Docker Hub.
  2. lading (the executor given, in sandbox mode, --kaniko-dir /lading so that /kaniko is an
     ordinary path of the build) builds the top-level Dockerfile of this source tree with
     --registry-mirror pointing at that registry, and pushes it to a test registry (Basic
     auth, TLS). The build stage runs scripts/build-static.sh, which fetches the toolchain
     and Debian's source packages from the same mirror through the image's apt sources.
  3. The pushed image is read back with skopeo and umoci: its exact files and modes, a static
     executor, the config Kaniko's image has.
  4. Its executor builds examples/hello as PID 1 of a bare root made from the image's own
     files (pod.py, as in test-pod.py) and pushes it; the result runs.
  5. The Dockerfile's debug target, on the image just built: busybox under /busybox, on PATH,
     /bin/sh, VOLUME /busybox; its shell runs the executor.

Network to Debian's mirror is required: without it the test fails (it does not skip).
LADING_TEST_SELFBUILD=skip skips it on purpose (it takes minutes).

usage: test-selfbuild.py EXECUTOR   (the executor of this build tree)
Needs root, mmdebstrap, umoci, skopeo."""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import podlib  # noqa: E402
from harness import FixtureStore, Registry  # noqa: E402
from harness import skopeo as sk  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SUITE = "bookworm"
IMAGE_ENV = ["PATH=/usr/local/bin:/kaniko", "HOME=/root", "USER=root",
             "SSL_CERT_DIR=/kaniko/ssl/certs", "DOCKER_CONFIG=/kaniko/.docker/"]
CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"
BUILD_TIMEOUT = int(os.environ.get("LADING_SELFBUILD_TIMEOUT", "2400"))


# -- the Debian mirror of this machine -------------------------------------------------------

def _apt_dirs():
    out = subprocess.run(["apt-config", "shell", "SL", "Dir::Etc::sourcelist/f",
                          "SP", "Dir::Etc::sourceparts/d"], stdout=subprocess.PIPE,
                         text=True, check=True).stdout
    vals = dict(re.findall(r"^(SL|SP)='([^']*)'$", out, re.M))
    return vals.get("SL", "/etc/apt/sources.list"), vals.get("SP", "/etc/apt/sources.list.d/")


def apt_entries():
    """(uri, suite, components) of every enabled `deb` entry of the machine's apt sources:
    one-line *.list files and deb822 *.sources files."""
    sl, sp = _apt_dirs()
    entries = []
    for f in [sl] + sorted(glob.glob(os.path.join(sp, "*.list"))):
        if not os.path.isfile(f):
            continue
        for line in open(f):
            line = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()
            if len(line) >= 3 and line[0] == "deb":
                entries.append((line[1], line[2], line[3:]))
    for f in sorted(glob.glob(os.path.join(sp, "*.sources"))):
        for para in re.split(r"\n\s*\n", open(f).read()):
            fields = {}
            for line in para.splitlines():
                if line.startswith("#") or ":" not in line or line[0].isspace():
                    continue
                k, v = line.split(":", 1)
                fields[k.strip().lower()] = v.split()
            if "deb" not in fields.get("types", []) or \
                    fields.get("enabled", ["yes"])[0].lower() in ("no", "false"):
                continue
            for uri in fields.get("uris", []):
                for suite in fields.get("suites", []):
                    entries.append((uri, suite, fields.get("components", [])))
    return entries


def debian_sources():
    """mmdebstrap's mirror arguments: the machine's entries for bookworm and its updates and
    security suites, as one-line apt entries."""
    want = {SUITE, f"{SUITE}-updates", f"{SUITE}-security"}
    return [f"deb {uri} {suite} {' '.join(comps or ['main'])}"
            for uri, suite, comps in apt_entries() if suite in want]


# -- images ----------------------------------------------------------------------------------

def run(argv, timeout=600, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, **kw)


def umoci(*args, timeout=900):
    p = run(["umoci", "--log", "error"] + list(args), timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"umoci {' '.join(args)}: {p.stderr.strip()}")


def debian_image(tarball, layout, work):
    """An OCI image of the minbase tarball, with a config as Docker's debian image has."""
    umoci("init", "--layout", layout)
    umoci("new", "--image", f"{layout}:{SUITE}")
    bundle = os.path.join(work, "debian-bundle")
    umoci("unpack", "--image", f"{layout}:{SUITE}", bundle)
    rootfs = os.path.join(bundle, "rootfs")
    # a container's /dev comes from its runtime; images carry none of it
    p = run(["tar", "-C", rootfs, "-xpf", tarball, "--numeric-owner", "--exclude=./dev/*"])
    if p.returncode != 0:
        raise RuntimeError(f"tar -x {tarball}: {p.stderr.strip()}")
    umoci("repack", "--image", f"{layout}:{SUITE}", bundle)
    umoci("config", "--image", f"{layout}:{SUITE}", "--os", "linux",
          "--architecture", podlib.fx.host_arch(), "--config.cmd", "bash",
          "--config.env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    shutil.rmtree(bundle)


def release_dockerfile_for_debug(ref):
    """The top-level Dockerfile with its release stage replaced by the image built from it,
    so that --target debug builds only the busybox and debug stages on that image."""
    lines = open(os.path.join(TOP, "Dockerfile")).read().splitlines(keepends=True)
    out, skipping, replaced = [], False, False
    for line in lines:
        if re.match(r"(?i)FROM\s", line):
            skipping = bool(re.match(r"(?i)FROM\s+scratch\s+AS\s+release\s*$", line))
            if skipping:
                out.append(f"FROM {ref} AS release\n")
                replaced = True
                continue
        if not skipping:
            out.append(line)
    if not replaced:
        raise RuntimeError("no 'FROM scratch AS release' stage in the Dockerfile")
    return "".join(out)


def elf_interp(path):
    p = run(["readelf", "-lW", path])
    return p.returncode, "INTERP" in p.stdout


def tree(rootfs):
    """path -> (kind, mode) of everything under rootfs."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(rootfs):
        for n in dirnames + filenames:
            full = os.path.join(dirpath, n)
            st = os.lstat(full)
            kind = "dir" if os.path.isdir(full) and not os.path.islink(full) else \
                "link" if os.path.islink(full) else "file"
            out[os.path.relpath(full, rootfs)] = (kind, oct(st.st_mode & 0o7777))
    return out


class SelfBuild:
    def __init__(self, t, work, executor):
        self.t = t
        self.work = work
        self.executor = executor
        self.times = {}

    def lading(self, name, context, dockerfile, ref, extra=()):
        """lading in sandbox mode; returns (exit status, stderr tail)."""
        cfg = os.path.join(self.work, "docker-config")
        podlib.docker_config(os.path.join(cfg, "config.json"), self.reg.host, self.reg.user,
                             self.reg.password)
        argv = [self.executor, "--sandbox", os.path.join(self.work, f"sandbox-{name}"),
                "--kaniko-dir", "/lading", "--context", context, "--dockerfile", dockerfile,
                "--destination", ref,
                "--registry-mirror", self.mirror.host, "--insecure-registry", self.mirror.host,
                "--registry-certificate", f"{self.reg.host}={self.reg.ca_cert}"] + list(extra)
        env = dict(os.environ, DOCKER_CONFIG=cfg)
        log = os.path.join(self.work, f"lading-{name}.log")
        start = time.monotonic()
        with open(log, "w") as f:
            try:
                p = subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT, env=env,
                                   timeout=BUILD_TIMEOUT)
                rc = p.returncode
            except subprocess.TimeoutExpired:
                rc = "timeout"
        self.times[name] = time.monotonic() - start
        with open(log, errors="replace") as f:
            text = f.read()
        return rc, text

    def base(self):
        t = self.t
        sources = debian_sources()
        if not t.ok(sources, f"this machine's apt sources name a Debian {SUITE} mirror",
                    f"no enabled 'deb' entry for {SUITE} in the apt sources"):
            return False
        t.comment("mirror entries: " + " | ".join(sources))
        tarball = os.path.join(self.work, "minbase.tar")
        start = time.monotonic()
        p = run(["mmdebstrap", "--variant=minbase", "--mode=root", "--quiet", SUITE, tarball]
                + sources, timeout=1200)
        self.times["mmdebstrap"] = time.monotonic() - start
        if not t.ok(p.returncode == 0,
                    f"mmdebstrap --variant=minbase {SUITE} (needs the network to Debian's "
                    "mirror)", p.stderr[-3000:]):
            return False
        start = time.monotonic()
        layout = os.path.join(self.work, "debian")
        debian_image(tarball, layout, self.work)
        sk.copy(f"oci:{layout}:{SUITE}", f"docker://{self.mirror.host}/library/debian:{SUITE}",
                self.mirror.skopeo_args("dest"))
        os.unlink(tarball)
        self.times["base image"] = time.monotonic() - start
        return True

    def release(self):
        t = self.t
        ref = f"{self.reg.host}/lading/executor:selftest"
        rc, log = self.lading("release", TOP, os.path.join(TOP, "Dockerfile"), ref,
                              ["--digest-file", os.path.join(self.work, "release.digest")])
        t.comment(f"lading built the release image in {self.times['release']:.0f} s")
        if not t.ok(rc == 0, "lading builds its own top-level Dockerfile and pushes it",
                    f"exit {rc}\n{log[-6000:]}"):
            return None
        t.ok(re.search(r"(?m)^lading executor \S+ \(", log) is not None,
             "the build stage ran the static executor it built ('executor version')")
        layout = os.path.join(self.work, "oci")
        manifest, config = podlib.pull(ref, self.reg.skopeo_args("src"), layout, "release")
        c = config.get("config", {})
        t.eq((c.get("Entrypoint"), c.get("Cmd"), c.get("Env"), c.get("WorkingDir"),
              c.get("User") or "", c.get("Volumes")),
             (["/kaniko/executor"], None, IMAGE_ENV, "/workspace", "", None),
             "the image's config is Kaniko's: ENTRYPOINT, ENV, WORKDIR")
        names = sorted({n for layer in podlib.layer_entries(layout, manifest) for n in layer})
        t.eq(names, ["etc", "etc/nsswitch.conf", "kaniko", "kaniko/.docker", "kaniko/executor",
                     "kaniko/ssl", "kaniko/ssl/certs", "kaniko/ssl/certs/ca-certificates.crt",
                     "workspace"],
             "the image holds the executor, the CA bundle, .docker, nsswitch.conf, /workspace")
        rootfs = podlib.unpack(layout, "release", os.path.join(self.work, "release-bundle"))
        tr = tree(rootfs)
        t.eq([tr.get(p) for p in ("kaniko", "kaniko/executor", "kaniko/.docker",
                                  "kaniko/ssl/certs/ca-certificates.crt", "workspace")],
             [("dir", "0o777"), ("file", "0o755"), ("dir", "0o755"), ("file", "0o644"),
              ("dir", "0o755")],
             "/kaniko is world-writable (0777), the executor executable")
        exe = os.path.join(rootfs, "kaniko", "executor")
        t.eq(elf_interp(exe), (0, False), "the executor has no ELF interpreter: static")
        bundle = open(os.path.join(rootfs, "kaniko/ssl/certs/ca-certificates.crt")).read()
        t.ok(bundle.count("BEGIN CERTIFICATE") > 50,
             "the CA bundle is Debian's ca-certificates", f"{len(bundle)} bytes")
        hosts = open(os.path.join(rootfs, "etc/nsswitch.conf")).read()
        t.ok(re.search(r"(?m)^hosts:\s+files dns$", hosts) is not None,
             "nsswitch.conf resolves host names from files, then DNS")
        self.release_ref = ref
        self.release_config = c
        return rootfs

    def pod_build(self, rootfs):
        """The release image's executor builds examples/hello as PID 1 of a bare root made
        of the image's files."""
        t = self.t
        root = os.path.join(self.work, "pod-root")
        shutil.copytree(rootfs, root, symlinks=True)
        shutil.copyfile(self.reg.ca_cert,
                        os.path.join(root, "kaniko", "ssl", "certs", "lading-test-ca.crt"))
        secret = os.path.join(self.work, "secret")
        podlib.docker_config(os.path.join(secret, "config.json"), self.reg.host,
                             self.reg.user, self.reg.password)
        FixtureStore().push("busybox", f"{self.reg.host}/base/busybox:1",
                            self.reg.skopeo_args("dest"))
        ref = f"{self.reg.host}/examples/hello:1"
        env = dict(e.split("=", 1) for e in self.release_config["Env"])
        argv = self.release_config["Entrypoint"][1:] + [
            "--destination", ref, "--build-arg", f"BASE={self.reg.host}/base/busybox:1"]
        ws = os.path.join(self.work, "workspace")
        shutil.copytree(os.path.join(TOP, "examples", "hello"), ws)
        pod = podlib.Pod(self.work, ws, secret)
        start = time.monotonic()
        rc, out, err = pod.run(root, env, argv, log=os.path.join(self.work, "pod-hello.log"),
                               cwd=self.release_config["WorkingDir"])
        self.times["pod build"] = time.monotonic() - start
        if not t.ok(rc == 0, "the image's executor, as PID 1 of a bare root of the image's "
                             "files, builds examples/hello and pushes it",
                    f"exit {rc}\n{err[-4000:]}"):
            return
        layout = os.path.join(self.work, "oci")
        podlib.pull(ref, self.reg.skopeo_args("src"), layout, "hello")
        hello = podlib.unpack(layout, "hello", os.path.join(self.work, "hello-bundle"))
        p = run([CHROOT, hello, "/usr/local/bin/hello", "demo"], env={"PATH": "/bin"})
        t.eq((p.returncode, p.stdout), (0, "hello, demo, from an image built by lading\n"),
             "the example image runs")

    def debug(self):
        t = self.t
        ctx = os.path.join(self.work, "debug-context")
        os.makedirs(ctx)
        podlib.write(os.path.join(ctx, "Dockerfile"),
                     release_dockerfile_for_debug(self.release_ref))
        ref = f"{self.reg.host}/lading/executor:selftest-debug"
        rc, log = self.lading("debug", ctx, os.path.join(ctx, "Dockerfile"), ref,
                              ["--target", "debug"])
        t.comment(f"lading built the debug target in {self.times['debug']:.0f} s")
        if not t.ok(rc == 0, "the debug target builds on the release image",
                    f"exit {rc}\n{log[-6000:]}"):
            return
        layout = os.path.join(self.work, "oci")
        manifest, config = podlib.pull(ref, self.reg.skopeo_args("src"), layout, "debug")
        c = config.get("config", {})
        env = [e for e in c.get("Env", []) if e.startswith("PATH=")]
        t.eq((c.get("Entrypoint"), env, c.get("Volumes"), c.get("WorkingDir")),
             (["/kaniko/executor"], ["PATH=/usr/local/bin:/kaniko:/busybox"], {"/busybox": {}},
              "/workspace"),
             "debug: busybox on PATH, VOLUME /busybox (so builds keep it), Kaniko's entrypoint")
        rootfs = podlib.unpack(layout, "debug", os.path.join(self.work, "debug-bundle"))
        t.eq([os.readlink(os.path.join(rootfs, p)) if os.path.islink(os.path.join(rootfs, p))
              else None for p in ("bin/sh", "busybox/sh")], ["/busybox/sh", "busybox"],
             "debug: /bin/sh is busybox's shell")
        p = run([CHROOT, rootfs, "/bin/sh", "-c", "cd /workspace && executor version"],
                env={"PATH": "/usr/local/bin:/kaniko:/busybox"})
        t.ok(p.returncode == 0 and p.stdout.startswith("lading executor "),
             "debug: its shell finds and runs the executor", p.stdout + p.stderr)


def main():
    if os.geteuid() != 0:
        podlib.skip_all("needs root (sandbox, mmdebstrap, chroot)")
    if os.environ.get("LADING_TEST_SELFBUILD") == "skip":
        podlib.skip_all("LADING_TEST_SELFBUILD=skip")
    t = podlib.Tap()
    work = tempfile.mkdtemp(prefix="lading-test-selfbuild-")
    os.chmod(work, 0o755)
    sb = SelfBuild(t, work, os.path.abspath(sys.argv[1]))
    sb.mirror = Registry("http", directory=os.path.join(work, "mirror"), name="mirror")
    sb.reg = Registry("basic+https", directory=os.path.join(work, "registry"))
    start = time.monotonic()
    try:
        missing = [p for p in ("mmdebstrap", "umoci", "skopeo", "readelf") if not shutil.which(p)]
        if t.ok(not missing, "the tools are installed", f"missing: {missing}"):
            sb.mirror.start()
            sb.reg.start()
            if sb.base():
                rootfs = sb.release()
                if rootfs:
                    sb.pod_build(rootfs)
                    sb.debug()
    except Exception as e:  # a harness failure is a test failure, with its message
        t.ok(False, "the test ran to its end", f"{type(e).__name__}: {e}")
    finally:
        sb.mirror.stop()
        sb.reg.stop()
        sb.times["total"] = time.monotonic() - start
        t.comment("times: " + json.dumps({k: round(v, 1) for k, v in sb.times.items()}))
        status = podlib.finish(t, work)
    sys.exit(status)


if __name__ == "__main__":
    main()
