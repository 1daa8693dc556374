# SPDX-License-Identifier: Apache-2.0
"""The builders under test: lading's executor (sandbox mode) and the reference, Debian's
buildah (`buildah bud --isolation chroot --storage-driver vfs`, private storage per test).
Both take the same BuildRequest and push to the same test registry."""

import os
import time

from .util import clean_env, run, safe_rmtree, TestError

BUILD_TIMEOUT = int(os.environ.get("LADING_BUILD_TIMEOUT", "240"))


class BuildRequest:
    """What to build. secrets: [(id, host path)]; registries: harness Registry objects the
    build talks to (TLS material, plain HTTP or not); mirror: a Registry standing in for
    Docker Hub, or None; extra: flags for this builder only."""

    def __init__(self, context, dockerfile, destinations, build_args=None, target=None,
                 secrets=(), labels=None, platform=None, single_snapshot=False,
                 reproducible=False, extra=(), registries=(), mirror=None, no_push=False):
        self.context = context
        self.dockerfile = dockerfile
        self.destinations = list(destinations)
        self.build_args = dict(build_args or {})
        self.target = target
        self.secrets = list(secrets)
        self.labels = dict(labels or {})
        self.platform = platform
        self.single_snapshot = single_snapshot
        self.reproducible = reproducible
        self.extra = list(extra)
        self.registries = list(registries)
        self.mirror = mirror
        self.no_push = no_push


class BuildResult:
    def __init__(self, argv, status, stdout, stderr, seconds):
        self.argv, self.status, self.stdout, self.stderr = argv, status, stdout, stderr
        self.seconds = seconds

    def summary(self, lines=25):
        tail = "\n".join((self.stderr or "").strip().splitlines()[-lines:])
        return f"$ {' '.join(self.argv)}\nexit status {self.status}\n{tail}"


def _timed(argv, env, cwd=None, timeout=BUILD_TIMEOUT):
    t0 = time.monotonic()
    try:
        p = run(argv, timeout=timeout, env=env, cwd=cwd)
        return BuildResult(argv, p.returncode, p.stdout, p.stderr, time.monotonic() - t0)
    except TestError as e:
        return BuildResult(argv, None, "", str(e), time.monotonic() - t0)


class Lading:
    name = "lading"

    def __init__(self, executor, workdir):
        self.executor = os.path.abspath(executor)
        self.workdir = workdir
        self.home = os.path.join(workdir, "home")
        os.makedirs(os.path.join(self.home, ".docker"), exist_ok=True)
        self.builds = 0

    def argv(self, req, sandbox):
        a = [self.executor, "--sandbox", sandbox, "--context", req.context,
             "--dockerfile", req.dockerfile]
        for d in req.destinations:
            a += ["--destination", d]
        if req.no_push:
            a.append("--no-push")
        plain = [r for r in req.registries if not r.tls]
        if plain:
            a += ["--insecure", "--insecure-pull"]
        for r in req.registries:
            if r.tls:
                a += ["--registry-certificate", f"{r.host}={r.ca_cert}"]
        if req.mirror is not None:
            a += ["--registry-mirror", req.mirror.host]
            if not req.mirror.tls:
                a += ["--insecure-registry", req.mirror.host]
        for k, v in req.build_args.items():
            a += ["--build-arg", f"{k}={v}"]
        if req.target:
            a += ["--target", req.target]
        for sid, src in req.secrets:
            a += ["--secret", f"id={sid},src={src}"]
        for k, v in req.labels.items():
            a += ["--label", f"{k}={v}"]
        if req.platform:
            a += ["--custom-platform", req.platform]
        if req.single_snapshot:
            a.append("--single-snapshot")
        if req.reproducible:
            a.append("--reproducible")
        return a + req.extra

    def build(self, req):
        self.builds += 1
        sandbox = os.path.join(self.workdir, f"sandbox{self.builds}")
        env = clean_env({"HOME": self.home, "DOCKER_CONFIG": os.path.join(self.home, ".docker")})
        res = _timed(self.argv(req, sandbox), env)
        if os.environ.get("LADING_BUILD_KEEP") == "1":
            return res          # the sandbox root, kept for inspection with the work dir
        left = safe_rmtree(sandbox)
        if left:
            res.stderr += f"\n(test: could not remove {left[:5]} from the sandbox)"
        return res

    def close(self):
        pass


class Buildah:
    name = "buildah"

    def __init__(self, workdir, mirror=None):
        self.workdir = workdir
        self.root = os.path.join(workdir, "root")
        self.runroot = os.path.join(workdir, "run")
        self.tmp = os.path.join(workdir, "tmp")
        for d in (self.root, self.runroot, self.tmp):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.runroot, 0o700)
        self.files = {n: os.path.join(workdir, n) for n in
                      ("storage.conf", "registries.conf", "policy.json", "containers.conf",
                       "auth.json")}
        with open(self.files["storage.conf"], "w") as f:
            f.write(f'[storage]\ndriver = "vfs"\nrunroot = "{self.runroot}"\n'
                    f'graphroot = "{self.root}"\n')
        with open(self.files["policy.json"], "w") as f:
            f.write('{"default": [{"type": "insecureAcceptAnything"}]}\n')
        with open(self.files["containers.conf"], "w") as f:
            f.write("# empty: no machine-wide defaults\n")
        with open(self.files["auth.json"], "w") as f:
            f.write("{}\n")
        with open(self.files["registries.conf"], "w") as f:
            if mirror is None:
                f.write("# empty: no mirrors, no search registries\n")
            else:
                # FROM busybox resolves to docker.io/library/busybox, served by the mirror;
                # docker.io itself is never reached (the mirror has the image).
                f.write('unqualified-search-registries = ["docker.io"]\n'
                        'short-name-mode = "permissive"\n'
                        '[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n'
                        f'[[registry.mirror]]\nlocation = "{mirror.host}"\n'
                        f'insecure = {"false" if mirror.tls else "true"}\n')
        self.env = clean_env({
            "CONTAINERS_STORAGE_CONF": self.files["storage.conf"],
            "CONTAINERS_REGISTRIES_CONF": self.files["registries.conf"],
            "CONTAINERS_CONF": self.files["containers.conf"],
            "REGISTRY_AUTH_FILE": self.files["auth.json"],
            "XDG_RUNTIME_DIR": self.runroot, "TMPDIR": self.tmp,
            "BUILDAH_ISOLATION": "chroot", "HOME": workdir})
        self.builds = 0

    def _base(self):
        return ["buildah", "--root", self.root, "--runroot", self.runroot,
                "--storage-driver", "vfs"]

    @staticmethod
    def _tls(req):
        tls = [r for r in req.registries if r.tls]
        if tls:
            return ["--tls-verify=true", "--cert-dir", tls[0].cert_dir]
        return ["--tls-verify=false"]

    def argv(self, req, tag):
        a = self._base() + ["bud", "--isolation", "chroot", "--format", "docker",
                            "--signature-policy", self.files["policy.json"]] + self._tls(req)
        # one layer per instruction, as Docker; without --layers buildah writes one layer
        # for the whole stage, which is what --single-snapshot asks of lading
        if not req.single_snapshot:
            a.append("--layers")
        for k, v in req.build_args.items():
            a += ["--build-arg", f"{k}={v}"]
        if req.target:
            a += ["--target", req.target]
        for sid, src in req.secrets:
            a += ["--secret", f"id={sid},src={src}"]
        for k, v in req.labels.items():
            a += ["--label", f"{k}={v}"]
        if req.platform:
            a += ["--platform", req.platform]
        if req.reproducible:
            a += ["--timestamp", "0"]
        return a + req.extra + ["-t", tag, "-f", req.dockerfile, req.context]

    def build(self, req):
        self.builds += 1
        tag = f"localhost/lading-test/build:{self.builds}"
        res = _timed(self.argv(req, tag), self.env, cwd=req.context)
        if res.status != 0 or req.no_push:
            return res
        for d in req.destinations:
            push = self._base() + ["push", "--signature-policy", self.files["policy.json"]] + \
                self._tls(req) + [tag, f"docker://{d}"]
            p = _timed(push, self.env)
            if p.status != 0:
                p.stderr = f"(push after a successful build)\n{p.stderr}"
                return p
        return res

    def close(self):
        # remove the containers and images so that vfs storage holds no mounts, then the tree
        for what in (["rm", "--all"], ["rmi", "--all", "--force"]):
            try:
                run(self._base() + what, timeout=120, env=self.env)
            except TestError:
                pass
