# SPDX-License-Identifier: Apache-2.0
"""Process, directory and TAP plumbing for the build tests.

Every command runs with a timeout; every directory the suite makes is removed without ever
crossing into another filesystem, after lazily unmounting whatever a builder may have left
mounted beneath it (buildah's chroot isolation bind-mounts /dev and /proc pieces while a RUN
step runs: deleting through such a mount would delete the machine's own files)."""

import os
import stat
import subprocess
import sys
import tempfile


class TestError(RuntimeError):
    """A step of a test could not run (a tool failed); the message says what and why."""


def clean_env(extra=None):
    """Our environment minus what would make tools read this machine's own configuration or
    send loopback traffic through a proxy."""
    drop = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "docker_config",
            "registry_auth_file", "containers_storage_conf", "containers_registries_conf",
            "containers_conf", "buildah_isolation", "kaniko_dir", "kaniko_no_push",
            "kaniko_registry_mirror", "kaniko_registry_map")
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in drop and not k.startswith("REGISTRY_")}
    env["NO_PROXY"] = "*"
    if extra:
        env.update(extra)
    return env


def run(argv, timeout=120, env=None, cwd=None, check=False, binary=False, input=None):
    """Run a command to completion, output captured. Raises TestError on timeout, on a
    missing program, and (check=True) on a non-zero exit."""
    try:
        p = subprocess.run([str(a) for a in argv], capture_output=True, text=not binary,
                           timeout=timeout, env=env if env is not None else clean_env(),
                           cwd=cwd, input=input,
                           stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise TestError(f"'{' '.join(map(str, argv))}' timed out after {timeout}s") from e
    except FileNotFoundError as e:
        raise TestError(f"'{argv[0]}' is not installed") from e
    if check and p.returncode != 0:
        err = p.stderr if isinstance(p.stderr, str) else p.stderr.decode(errors="replace")
        raise TestError(f"'{' '.join(map(str, argv))}' exited with {p.returncode}: "
                        f"{err.strip()[-2000:]}")
    return p


def _unescape_mountinfo(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 3 < len(s) and s[i + 1:i + 4].isdigit():
            out.append(chr(int(s[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def mounts_under(path):
    """Mount points strictly under path (deepest first), from /proc/self/mountinfo."""
    path = os.path.realpath(path).rstrip("/") + "/"
    found = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                mp = _unescape_mountinfo(line.split()[4])
                if mp.startswith(path):
                    found.append(mp)
    except OSError:
        pass
    return sorted(set(found), key=len, reverse=True)


def safe_rmtree(path):
    """Remove a tree we made: first lazily unmount anything mounted beneath it, then delete
    without following symlinks or crossing into another filesystem (an entry on another
    device is left in place and reported). Returns the paths that could not be removed."""
    if not os.path.lexists(path):
        return []
    for mp in mounts_under(path):
        subprocess.run(["umount", "-l", mp], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        return []
    dev = st.st_dev
    left = []

    def rm(p):
        try:
            s = os.lstat(p)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(s.st_mode):
            if s.st_dev != dev:
                left.append(p)
                return
            # a builder may leave directories without write or search permission
            try:
                os.chmod(p, 0o700)
            except OSError:
                pass
            try:
                names = os.listdir(p)
            except OSError:
                left.append(p)
                return
            for n in names:
                rm(os.path.join(p, n))
            try:
                os.rmdir(p)
            except OSError:
                left.append(p)
        else:
            try:
                os.unlink(p)
            except OSError:
                left.append(p)

    # chattr +i files cannot be removed; builds in this suite never set them
    rm(path)
    return left


def make_workdir(name):
    base = os.environ.get("LADING_BUILD_TMPDIR") or tempfile.gettempdir()
    return tempfile.mkdtemp(prefix=f"lading-build-{name}-", dir=base)


class Tap:
    """TAP producer: one line per check, details as '#' lines, the plan at the end."""

    def __init__(self, out=sys.stdout):
        self.n = 0
        self.failed = 0
        self.out = out

    def ok(self, cond, name, detail=""):
        self.n += 1
        if not cond:
            self.failed += 1
        print(f"{'ok' if cond else 'not ok'} {self.n} - {name}", file=self.out)
        if not cond and detail:
            self.diag(detail)
        self.out.flush()
        return cond

    def check(self, name, errors):
        """ok when errors (a list of readable lines) is empty."""
        return self.ok(not errors, name, "\n".join(errors[:200]) +
                       (f"\n... and {len(errors) - 200} more" if len(errors) > 200 else ""))

    def skip(self, name, why):
        self.n += 1
        print(f"ok {self.n} - {name} # SKIP {why}", file=self.out)
        self.out.flush()

    def diag(self, text):
        for line in str(text).splitlines():
            print(f"#   {line}", file=self.out)
        self.out.flush()

    def note(self, text):
        for line in str(text).splitlines():
            print(f"# {line}", file=self.out)
        self.out.flush()

    def done(self):
        print(f"1..{self.n}", file=self.out)
        self.out.flush()
        return 1 if self.failed else 0
