# SPDX-License-Identifier: Apache-2.0
"""Shared helpers of the registry/ integration tests: TAP output, regtool runs in an isolated
credential environment, registries from the harness, fixtures pushed with skopeo."""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

from harness import skopeo as sk
from harness.fixtures import FixtureStore
from harness.proxy import proxy_for
from harness.registry import Registry

REGTOOL = os.environ.get("REGTOOL") or sys.exit("REGTOOL is not set")


class Tap:
    """Minimal TAP producer: every check prints one line; done() prints the plan."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=None):
        self.n += 1
        print(f"{'ok' if cond else 'not ok'} {self.n} - {name}", flush=True)
        if not cond:
            self.failed += 1
            if detail is not None:
                for line in str(detail).splitlines()[:40]:
                    print(f"#   {line}", flush=True)
        return cond

    def eq(self, got, want, name, context=None):
        detail = f"got:  {got!r}\nwant: {want!r}"
        if context:
            detail += "\n" + str(context)[-3000:]
        return self.ok(got == want, name, detail)

    def has(self, text, part, name):
        return self.ok(part in (text or ""), name, f"'{part}' not in:\n{text}")

    def lacks(self, text, part, name):
        return self.ok(part not in (text or ""), name, f"'{part}' found in:\n{text}")

    def diag(self, msg):
        for line in str(msg).splitlines():
            print(f"# {line}", flush=True)

    def done(self):
        print(f"1..{self.n}", flush=True)
        sys.exit(1 if self.failed else 0)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def auth_b64(user, password):
    return base64.b64encode(f"{user}:{password}".encode()).decode()


class Client:
    """regtool with its own kaniko dir, HOME and config.json, so that nothing of this machine's
    Docker configuration takes part."""

    def __init__(self, base, name, config=None, env=None, certs=()):
        self.dir = os.path.join(base, name)
        self.kaniko = os.path.join(self.dir, "kaniko")
        os.makedirs(os.path.join(self.kaniko, ".docker"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "home"), exist_ok=True)
        if config is not None:
            self.write_config(config)
        if certs:
            d = os.path.join(self.kaniko, "ssl", "certs")
            os.makedirs(d, exist_ok=True)
            for i, c in enumerate(certs):
                shutil.copy(c, os.path.join(d, f"extra-{i}.crt"))
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "KANIKO_DIR",
                                 "SSL_CERT_DIR", "SSL_CERT_FILE")}
        self.env["HOME"] = os.path.join(self.dir, "home")
        self.env["XDG_RUNTIME_DIR"] = os.path.join(self.dir, "run")
        self.env.update(env or {})
        self.last_stderr = ""

    @property
    def config_path(self):
        return os.path.join(self.kaniko, ".docker", "config.json")

    def write_config(self, config):
        with open(self.config_path, "w") as f:
            json.dump(config, f)

    def run(self, *args, check=True, timeout=600):
        """(returncode, parsed stdout or None, stderr)."""
        argv = [REGTOOL, "--kaniko-dir", self.kaniko] + [str(a) for a in args]
        p = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=timeout)
        self.last_stderr = p.stderr
        out = None
        if p.stdout.strip():
            try:
                out = json.loads(p.stdout)
            except ValueError:
                out = p.stdout
        if check and p.returncode != 0:
            raise RuntimeError(f"regtool {' '.join(map(str, args))} failed ({p.returncode}): "
                               f"{p.stderr.strip()}")
        return p.returncode, out, p.stderr

    def error(self, *args):
        """The 'error: ...' line of a run that must fail ('' if it succeeded)."""
        rc, _, err = self.run(*args, check=False)
        if rc == 0:
            return ""
        lines = [ln for ln in err.splitlines() if ln.startswith("error: ")]
        return lines[-1][len("error: "):] if lines else err


class Env:
    """Registries, proxies and a work dir for one test program; stopped at exit."""

    def __init__(self, name):
        self.base = tempfile.mkdtemp(prefix=f"lading-regtest-{name}-")
        self.registries = []
        self.proxies = []
        self.store = FixtureStore()
        self.ok = False

    def registry(self, mode, name="registry", **kw):
        r = Registry(mode, os.path.join(self.base, name), name=name, **kw)
        r.start()
        self.registries.append(r)
        return r

    def proxy(self, registry, name="proxy", **kw):
        p = proxy_for(registry, os.path.join(self.base, name), name=name, **kw)
        self.proxies.append(p)
        return p

    def push_fixture(self, fixture, registry, repo, fmt="oci"):
        """skopeo-push a fixture; returns harness.fixtures.describe() of what is served."""
        return self.store.push(fixture, f"{registry.host}/{repo}", registry.skopeo_args("dest"),
                               fmt)

    def client(self, name, **kw):
        return Client(self.base, name, **kw)

    def close(self, keep=False):
        for p in self.proxies:
            p.stop()
        for r in self.registries:
            r.stop(remove=False)
        self.store.close()
        if keep:
            print(f"# kept {self.base}", flush=True)
        else:
            shutil.rmtree(self.base, ignore_errors=True)


def skopeo_raw(ref, registry):
    """(bytes, digest) of what skopeo reads at ref ('host/repo:tag')."""
    return sk.inspect_raw("docker://" + ref, registry.skopeo_args(""))


def config_for(registry, user=None, password=None):
    """A config.json with an auths entry for the registry."""
    user = user or registry.user
    password = password if password is not None else registry.password
    return {"auths": {registry.host: {"auth": auth_b64(user, password)}}}


def main(name, body):
    """Runs body(tap, env) and exits with TAP's status; keeps the work dir on failure."""
    tap = Tap()
    env = Env(name)
    try:
        body(tap, env)
    except Exception as e:          # a crash is a failure with its story, not a traceback
        import traceback
        tap.ok(False, f"test program raised {type(e).__name__}", traceback.format_exc())
    finally:
        env.close(keep=tap.failed > 0)
    tap.done()
