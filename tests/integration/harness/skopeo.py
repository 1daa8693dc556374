# SPDX-License-Identifier: Apache-2.0
"""skopeo, run hermetically: our own trust policy, an empty registries.conf and auth file,
so this machine's container configuration (mirrors, stored logins) never takes part.

skopeo is the independent reference client: fixtures are pushed with it, and tests check
what lading pushed with `skopeo inspect` / `skopeo copy`.
"""

import hashlib
import json
import os
import subprocess
import tempfile

from .util import HarnessError, clean_env

_home = None


def _hermetic_home():
    global _home
    if _home is None:
        _home = tempfile.mkdtemp(prefix="lading-skopeo-")
        with open(os.path.join(_home, "policy.json"), "w") as f:
            json.dump({"default": [{"type": "insecureAcceptAnything"}]}, f)
        with open(os.path.join(_home, "registries.conf"), "w") as f:
            f.write("# empty: no mirrors, no search registries, no blocked hosts\n")
        with open(os.path.join(_home, "auth.json"), "w") as f:
            f.write("{}\n")
        os.makedirs(os.path.join(_home, "registries.d"))
        os.makedirs(os.path.join(_home, "run"), mode=0o700)
        import atexit
        import shutil
        atexit.register(shutil.rmtree, _home, True)
    return _home


class SkopeoError(HarnessError):
    """skopeo failed; .stderr has its message (tests assert on it)."""

    def __init__(self, argv, returncode, stderr):
        super().__init__(f"skopeo {' '.join(argv)} exited with {returncode}: {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


def _env():
    home = _hermetic_home()
    return clean_env({"CONTAINERS_REGISTRIES_CONF": os.path.join(home, "registries.conf"),
                      "REGISTRY_AUTH_FILE": os.path.join(home, "auth.json"),
                      "XDG_RUNTIME_DIR": os.path.join(home, "run")})


def skopeo(args, timeout=180, check=True, binary=False):
    """Run `skopeo ARGS`; returns the CompletedProcess (text, or bytes when binary) or raises
    SkopeoError."""
    home = _hermetic_home()
    argv = ["skopeo", "--policy", os.path.join(home, "policy.json"),
            "--registries.d", os.path.join(home, "registries.d")] + list(args)
    try:
        p = subprocess.run(argv, capture_output=True, text=not binary, timeout=timeout,
                           env=_env(), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise HarnessError(f"skopeo {' '.join(args)} timed out after {timeout}s") from e
    if check and p.returncode != 0:
        err = p.stderr.decode(errors="replace") if binary else p.stderr
        raise SkopeoError(list(args), p.returncode, err)
    return p


def copy(src, dst, args=(), timeout=300):
    """skopeo copy SRC DST with extra args (e.g. registry.skopeo_args('dest'))."""
    return skopeo(["copy", "--quiet"] + list(args) + [src, dst], timeout=timeout)


def inspect(ref, args=(), config=False):
    """skopeo inspect [--config]: the parsed JSON."""
    return json.loads(skopeo(["inspect"] + (["--config"] if config else []) + list(args)
                             + [ref]).stdout)


def inspect_raw(ref, args=(), config=False):
    """(bytes, digest): the manifest (or config) exactly as the registry serves it."""
    out = skopeo(["inspect", "--raw"] + (["--config"] if config else []) + list(args) + [ref],
                 binary=True).stdout
    return out, "sha256:" + hashlib.sha256(out).hexdigest()
