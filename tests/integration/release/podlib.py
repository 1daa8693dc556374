# SPDX-License-Identifier: Apache-2.0
"""What the release tests share: TAP output, a bare root laid out as the release image
(/kaniko with the executor, CA certificates and a mounted docker config), running the
executor there as PID 1 with pod.py, a multi-layer base image whose shell is dynamically
linked against its own glibc, and reading pushed images back with skopeo and umoci.
Standard library and the harness only."""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time

from harness import fixtures as fx
from harness import oci
from harness import skopeo as sk

HERE = os.path.dirname(os.path.abspath(__file__))
POD = os.path.join(HERE, "pod.py")
SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"

# The release image's environment (Dockerfile, as Kaniko's image): tests that run the
# static executor built by scripts/build-static.sh use it as the pod's environment.
RELEASE_ENV = {"HOME": "/root", "USER": "root", "PATH": "/usr/local/bin:/kaniko",
               "SSL_CERT_DIR": "/kaniko/ssl/certs", "DOCKER_CONFIG": "/kaniko/.docker/"}

# What a pod has mounted besides its volumes, and where the tests mount the volumes: none of
# these may reach a layer.
POD_MOUNTS = ["proc", "dev", "sys", "etc/hosts", "etc/hostname", "etc/resolv.conf",
              "var/run/secrets/kubernetes.io/serviceaccount", "workspace", "kaniko/.docker"]


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=""):
        self.n += 1
        if not cond:
            self.failed += 1
        print(("ok" if cond else "not ok") + f" {self.n} - {name}")
        if not cond and detail:
            for line in str(detail).splitlines()[-60:]:
                print("#   " + line)
        sys.stdout.flush()
        return bool(cond)

    def eq(self, got, want, name):
        return self.ok(got == want, name, f"got:  {got!r}\nwant: {want!r}")

    def skip(self, name, why):
        self.n += 1
        print(f"ok {self.n} - {name} # SKIP {why}")
        sys.stdout.flush()

    def comment(self, text):
        for line in str(text).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def finish(self):
        print(f"1..{self.n}")
        return 1 if self.failed else 0


def skip_all(why):
    print(f"1..0 # SKIP {why}")
    sys.exit(77)


def finish(t, work):
    """Ends the TAP stream; removes the work dir of a passing run unless LADING_RELEASE_KEEP=1."""
    status = t.finish()
    if status == 0 and os.environ.get("LADING_RELEASE_KEEP") != "1":
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"# kept {work}")
    return status


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.chmod(path, mode)


def docker_config(path, host, user, password):
    """A config.json as `kubectl create secret docker-registry` makes it."""
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    write(path, json.dumps({"auths": {host: {"username": user, "password": password,
                                             "auth": auth}}}, indent=1) + "\n", 0o600)


def make_kaniko_home(root, executor, extra_certs=()):
    """/kaniko as in the release image: the executor, the CA bundle (plus extra CA files,
    as users add theirs to /kaniko/ssl/certs), an empty .docker for the mounted secret."""
    kaniko = os.path.join(root, "kaniko")
    os.makedirs(os.path.join(kaniko, "ssl", "certs"))
    os.makedirs(os.path.join(kaniko, ".docker"))
    os.chmod(kaniko, 0o777)
    shutil.copy2(executor, os.path.join(kaniko, "executor"))
    os.chmod(os.path.join(kaniko, "executor"), 0o755)
    shutil.copyfile(SYSTEM_CA, os.path.join(kaniko, "ssl", "certs", "ca-certificates.crt"))
    for name, src in extra_certs:
        shutil.copyfile(src, os.path.join(kaniko, "ssl", "certs", name))


class Pod:
    """The volumes and files a pod of the tests gets (see POD_MOUNTS)."""

    def __init__(self, work, workspace, docker_config_dir):
        self.work = work
        self.files = os.path.join(work, "pod-files")
        os.makedirs(self.files, exist_ok=True)
        write(os.path.join(self.files, "hosts"), "127.0.0.1\tlocalhost\n::1\tlocalhost\n")
        write(os.path.join(self.files, "hostname"), "lading-build-pod\n")
        write(os.path.join(self.files, "resolv.conf"), "nameserver 127.0.0.1\noptions ndots:5\n")
        # the context volume is writable, as an emptyDir or `docker run -v` is (a core file
        # of a crashed executor lands there)
        self.binds = [(workspace, "/workspace", False),
                      (docker_config_dir, "/kaniko/.docker", True),
                      (os.path.join(self.files, "hosts"), "/etc/hosts", False),
                      (os.path.join(self.files, "hostname"), "/etc/hostname", False),
                      (os.path.join(self.files, "resolv.conf"), "/etc/resolv.conf", False)]
        self.tmpfs = ["/var/run/secrets/kubernetes.io/serviceaccount"]

    def argv(self, root, env, args, drop=(), pidfile=None, cwd="/workspace"):
        cmd = [sys.executable, POD]
        for src, dst, ro in self.binds:
            cmd += ["--bind", f"{src}:{dst}" + (":ro" if ro else "")]
        for t in self.tmpfs:
            cmd += ["--tmpfs", t]
        for k, v in env.items():
            cmd += ["--env", f"{k}={v}"]
        for c in drop:
            cmd += ["--drop-cap", c]
        if pidfile:
            cmd += ["--pidfile", pidfile]
        cmd += ["--cwd", cwd, root, "--", "/kaniko/executor"] + list(args)
        return cmd

    def run(self, root, env, args, drop=(), timeout=600, log=None, cwd="/workspace"):
        """Runs the executor as PID 1 of root; returns (exit status, stdout, stderr)."""
        p = subprocess.run(self.argv(root, env, args, drop, cwd=cwd), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        if log:
            write(log, f"$ {' '.join(args)}\n--- stdout\n{out}--- stderr\n{err}")
        return p.returncode, out, err

    def start(self, root, env, args, pidfile):
        return subprocess.Popen(self.argv(root, env, args, pidfile=pidfile),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(path, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.05)
    return False


# -- the base image --------------------------------------------------------------------------

def _libs_of(program):
    """Absolute paths of the shared objects `program` loads (ldd), its loader included."""
    out = subprocess.run(["ldd", program], stdout=subprocess.PIPE, check=True,
                         text=True).stdout
    libs = []
    for line in out.splitlines():
        m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
        if m:
            libs.append(m.group(1))
    return libs


def dynamic_base_image():
    """A three-layer base: busybox (static), then dash with this machine's glibc and loader
    as /bin/sh, then a layer that deletes a directory and adds a file. RUN steps on it run
    the image's own dynamically linked shell: the executor's root "/" must hold the image's
    /lib, not the executor's."""
    busybox = fx.CATALOGUE["busybox"][0]()
    dash = shutil.which("dash") or "/bin/dash"
    layer2 = {"bin/dash": fx.File(src=("copy", dash), mode=0o755),
              "bin/sh": fx.Symlink("dash"),
              "opt/old/file": "removed by the third layer\n",
              "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"
                            "app:x:1000:1000:app:/home/app:/bin/sh\n"
                            "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
              "etc/group": "root:x:0:\napp:x:1000:\nnogroup:x:65534:\n",
              "home/app": fx.Dir(uid=1000, gid=1000)}
    for lib in _libs_of(dash):
        layer2[lib.lstrip("/")] = fx.File(src=("copy", os.path.realpath(lib)), mode=0o755)
    layer3 = fx.Layer({"etc/motd": "layer three\n"}, delete=["opt/old"],
                      comment="a whiteout and a file")
    return fx.Image([busybox.layers[0],
                     fx.Layer(layer2, comment="dash and its glibc as /bin/sh"),
                     layer3],
                    {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                     "Cmd": ["/bin/sh"]}, f"linux/{fx.host_arch()}")


def build_layout(layout, tag, image, work):
    """Builds an image spec (harness.fixtures) into a new OCI layout with umoci."""
    fx._umoci("init", "--layout", layout)
    return fx._build_image(layout, tag, image, work)


# -- reading images back ---------------------------------------------------------------------

def pull(ref, src_args, layout, tag):
    """skopeo copy ref to an OCI layout; returns (manifest, config)."""
    sk.copy(f"docker://{ref}", f"oci:{layout}:{tag}", src_args)
    _, manifest, config = oci.manifest_of(layout, tag)
    return manifest, config


def layer_entries(layout, manifest):
    """For each layer, the sorted names of its tar entries (no leading ./ or /)."""
    out = []
    for ly in manifest["layers"]:
        with tarfile.open(oci.blob_path(layout, ly["digest"]), "r:*") as tf:
            out.append(sorted(n.name.lstrip("./").lstrip("/") for n in tf.getmembers()))
    return out


def unpack(layout, tag, bundle):
    subprocess.run(["umoci", "--log", "error", "unpack", "--image", f"{layout}:{tag}", bundle],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    return os.path.join(bundle, "rootfs")


def under(name, prefixes):
    """The prefix of `prefixes` that the entry name is, or lies under; None otherwise."""
    for p in prefixes:
        if name == p or name.startswith(p + "/"):
            return p
    return None
