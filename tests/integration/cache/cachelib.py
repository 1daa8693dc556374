# SPDX-License-Identifier: Apache-2.0
"""Plumbing for the layer-cache tests: a registry with the busybox base image, builds with
lading's executor in sandbox mode, a counter server that RUN steps call (so that a test knows
which RUN steps really ran), and readers of the executor's cache log lines and of the pushed
images (skopeo, never lading itself)."""

import http.server
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from harness import FixtureStore, Registry  # noqa: E402
from harness import skopeo as sk  # noqa: E402

BUILD_TIMEOUT = 240


class LoopbackFake:
    """The scaffold of the fake cloud services (S3, STS/ECS/IMDS, ECR, GCS, Azure): an HTTP
    server on 127.0.0.1, on a free port, in a thread of the test. A subclass lists the HTTP
    methods it answers in METHODS and implements serve(handler); start() sets host and
    endpoint."""

    METHODS = ("GET",)

    def start(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

        for method in self.METHODS:
            setattr(Handler, "do_" + method, lambda h: fake.serve(h))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.endpoint = f"http://{self.host}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, detail=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print(f"{'ok' if cond else 'not ok'} {self.n} - {desc}", flush=True)
        if not cond and detail is not None:
            for line in str(detail).splitlines()[-40:]:
                print(f"#   {line}")
        return cond

    def eq(self, got, want, desc, detail=None):
        good = got == want
        if not good:
            detail = f"got:  {got!r}\nwant: {want!r}" + (f"\n{detail}" if detail else "")
        return self.ok(good, desc, detail)

    def skip(self, why):
        print(f"1..0 # SKIP {why}")
        sys.exit(0)

    def done(self):
        print(f"1..{self.n}")
        return 1 if self.failed else 0


class Counter:
    """An HTTP server on 127.0.0.1 counting GET /NAME; RUN steps call it with busybox wget."""

    def __init__(self):
        counts = self.counts = {}
        lock = self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with lock:
                    counts[self.path.strip("/")] = counts.get(self.path.strip("/"), 0) + 1
                body = b"counted\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def get(self, name):
        with self.lock:
            return self.counts.get(name, 0)

    def snapshot(self):
        with self.lock:
            return dict(self.counts)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def clean_env(extra=None):
    drop = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "docker_config",
            "kaniko_dir", "kaniko_no_push", "kaniko_registry_mirror", "kaniko_registry_map")
    env = {k: v for k, v in os.environ.items() if k.lower() not in drop}
    env["NO_PROXY"] = "*"
    env.update(extra or {})
    return env


class Result:
    def __init__(self, argv, proc):
        self.argv = argv
        self.status = proc.returncode
        self.stderr = proc.stderr
        self.stdout = proc.stdout

    def served(self):
        """Instructions served from the cache, in order."""
        return re.findall(r"^Using caching version of cmd: (.*) \(key sha256:[0-9a-f]{64}\)$",
                          self.stderr, re.M)

    def missed(self):
        return re.findall(r"^No cached layer found for cmd (.*) \(key sha256:[0-9a-f]{64}\)$",
                          self.stderr, re.M)

    def not_used(self):
        return re.findall(r"^Cached layer for cmd (.*) not used: ", self.stderr, re.M)

    def expired(self):
        return re.findall(r"^Cached layer for cmd (.*) has expired ", self.stderr, re.M)

    def keys(self):
        """{instruction: key} of every step that was looked up."""
        return dict(re.findall(r"^(?:Using caching version of cmd: |No cached layer found for "
                               r"cmd )(.*) \(key (sha256:[0-9a-f]{64})\)$", self.stderr, re.M))

    def warnings(self):
        return [line for line in self.stderr.splitlines() if line.startswith("warn")]

    def stage_lines(self):
        return re.findall(r"^Cache: stage \d+: .*$", self.stderr, re.M)

    def summary(self, lines=30):
        tail = "\n".join(self.stderr.strip().splitlines()[-lines:])
        return f"$ {' '.join(self.argv)}\nexit status {self.status}\n{tail}"


class CacheTest:
    """A work directory, a registry holding base/busybox, and builds of contexts."""

    def __init__(self, executor, name, registry_mode="http"):
        self.executor = os.path.abspath(executor)
        self.work = tempfile.mkdtemp(prefix=f"lading-cache-{name}-",
                                     dir=os.environ.get("LADING_BUILD_TMPDIR"))
        self.home = os.path.join(self.work, "home")
        os.makedirs(os.path.join(self.home, ".docker"))
        self.reg = Registry(registry_mode, directory=os.path.join(self.work, "reg"))
        self.reg.start()
        self.store = FixtureStore()
        self.base = f"{self.reg.host}/base/busybox:1"
        self.push_base("oci")
        self.counter = Counter()
        self.builds = 0
        self.extra_registries = []

    def push_base(self, fmt, ref=None):
        """The busybox fixture under ref (default self.base), as OCI or Docker schema 2: the
        same layers under another manifest digest."""
        self.store.push("busybox", ref or self.base, self.reg.skopeo_args("dest"), fmt)

    def context(self, name, files):
        """A build context: {relative path: text}."""
        ctx = os.path.join(self.work, name)
        for rel, text in files.items():
            p = os.path.join(ctx, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)
        return ctx

    def write(self, ctx, rel, text):
        with open(os.path.join(ctx, rel), "w") as f:
            f.write(text)

    def build(self, ctx, tag, *flags, build_args=None, destination=True, cache=True):
        self.builds += 1
        sandbox = os.path.join(self.work, f"sandbox{self.builds}")
        argv = [self.executor, "--sandbox", sandbox, "--context", ctx,
                "--dockerfile", os.path.join(ctx, "Dockerfile"), "--insecure", "--insecure-pull",
                "--build-arg", f"BASE={self.base}",
                "--build-arg", f"COUNTER=http://127.0.0.1:{self.counter.port}"]
        if destination:
            argv += ["--destination", f"{self.reg.host}/app/img:{tag}"]
        if cache:
            argv.append("--cache")
        for k, v in (build_args or {}).items():
            argv += ["--build-arg", f"{k}={v}"]
        argv += list(flags)
        env = clean_env({"HOME": self.home, "DOCKER_CONFIG": os.path.join(self.home, ".docker")})
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=BUILD_TIMEOUT,
                               env=env, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"build timed out: {' '.join(argv)}") from e
        shutil.rmtree(sandbox, ignore_errors=True)
        return Result(argv, p)

    def login(self, reg):
        """Credentials for reg in the builds' config.json."""
        import base64
        path = os.path.join(self.home, ".docker", "config.json")
        try:
            with open(path) as f:
                cfg = json.load(f)
        except FileNotFoundError:
            cfg = {"auths": {}}
        auth = base64.b64encode(f"{reg.user}:{reg.password}".encode()).decode()
        cfg["auths"][reg.host] = {"auth": auth}
        with open(path, "w") as f:
            json.dump(cfg, f)

    def skopeo_args(self):
        return ["--tls-verify=false"]

    def manifest(self, ref):
        raw, _ = sk.inspect_raw(f"docker://{ref}", self.skopeo_args())
        return json.loads(raw)

    def config(self, ref):
        raw, _ = sk.inspect_raw(f"docker://{ref}", self.skopeo_args(), config=True)
        return json.loads(raw)

    def layers(self, tag):
        return [layer["digest"] for layer in self.manifest(f"{self.reg.host}/app/img:{tag}")["layers"]]

    def digest(self, tag):
        _, d = sk.inspect_raw(f"docker://{self.reg.host}/app/img:{tag}", self.skopeo_args())
        return d

    def files(self, tag):
        """The image's files: {path: content} of regular files under /app and /out."""
        layout = os.path.join(self.work, f"oci-{tag}")
        bundle = os.path.join(self.work, f"bundle-{tag}")
        shutil.rmtree(layout, ignore_errors=True)
        shutil.rmtree(bundle, ignore_errors=True)
        sk.copy(f"docker://{self.reg.host}/app/img:{tag}", f"oci:{layout}:x",
                ["--src-tls-verify=false"])
        subprocess.run(["umoci", "unpack", "--image", f"{layout}:x", bundle], check=True,
                       capture_output=True, timeout=120)
        out = {}
        root = os.path.join(bundle, "rootfs")
        for top in ("app", "out"):
            for dirpath, _, names in os.walk(os.path.join(root, top)):
                for n in names:
                    p = os.path.join(dirpath, n)
                    if os.path.isfile(p) and not os.path.islink(p):
                        with open(p, errors="replace") as f:
                            out["/" + os.path.relpath(p, root)] = f.read()
        return out

    def delete_entry(self, key, repo="app/img/cache"):
        """Deletes the cache entry of key from the registry (as an expiry policy would)."""
        url = f"{self.reg.url}/v2/{repo}/manifests/{key.split(':')[1]}"
        head = urllib.request.Request(url, method="HEAD", headers={
            "Accept": "application/vnd.oci.image.manifest.v1+json"})
        with urllib.request.urlopen(head, timeout=30) as r:
            digest = r.headers["Docker-Content-Digest"]
        req = urllib.request.Request(f"{self.reg.url}/v2/{repo}/manifests/{digest}",
                                     method="DELETE")
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status

    def close(self):
        self.counter.stop()
        self.reg.stop()
        for r in self.extra_registries:
            r.stop()
        self.store.close()
        if os.environ.get("LADING_BUILD_KEEP") == "1":
            print(f"# kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def run_step(name):
    """A RUN that tells the counter it ran (and fails the step if the counter is down)."""
    return f"wget -q -O /dev/null \"$COUNTER/{name}\""


# -- remote build contexts (s3://, gs://, Azure Blob): the tests of tests/integration/{s3,gcs,azure}

def context_tgz(files):
    """A build context as a tar.gz in memory: {relative path: text}, mode 0644, fixed mtime."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tf:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1700000000
            tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


def build_remote(ct, context, tag, env, *flags, drop=()):
    """A sandbox build of a remote context (it holds the Dockerfile) pushed as app/img:TAG, with
    env over a clean environment that lacks the variables whose names start with drop."""
    ct.builds += 1
    sandbox = os.path.join(ct.work, f"sandbox{ct.builds}")
    argv = [ct.executor, "--sandbox", sandbox, *(["--context", context] if context else []),
            *flags, "--insecure", "--insecure-pull", "--build-arg", f"BASE={ct.base}",
            "--destination", f"{ct.reg.host}/app/img:{tag}"]
    full = {k: v for k, v in clean_env().items() if not k.startswith(tuple(drop))}
    full.update({"HOME": ct.home, "DOCKER_CONFIG": os.path.join(ct.home, ".docker")})
    full.update(env)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=BUILD_TIMEOUT, env=full,
                       stdin=subprocess.DEVNULL)
    shutil.rmtree(sandbox, ignore_errors=True)
    return Result(argv, p)


def pushed(ct, tag):
    """Whether app/img:TAG is in the test registry."""
    try:
        with urllib.request.urlopen(f"{ct.reg.url}/v2/app/img/manifests/{tag}", timeout=30):
            return True
    except urllib.error.HTTPError:
        return False


def error_line(res):
    """The last "error: " line of a build's stderr, or None."""
    lines = [line for line in res.stderr.splitlines() if line.startswith("error: ")]
    return lines[-1] if lines else None


def run_main(name, run):
    """TAP around run(t, ct) with a CacheTest of the executor in argv[1]; returns the status."""
    t = Tap()
    if os.geteuid() != 0:
        t.skip("the sandbox and umoci need root")
    ct = CacheTest(sys.argv[1], name)
    try:
        run(t, ct)
    except Exception as e:  # a tool failed: report it as a failed check
        t.ok(False, f"{name}: {type(e).__name__}", e)
    finally:
        ct.close()
    return t.done()
