# SPDX-License-Identifier: Apache-2.0
"""Process, port and temp-dir plumbing shared by the harness services.

Every process the harness starts goes through spawn(); it is remembered by pid and stopped by
that pid only (never by name), by its owner's stop(), by the atexit hook, or by the kernel
when the starting thread dies (setpriv --pdeathsig). Nothing here talks to the network except
the loopback readiness probe.
"""

import atexit
import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

LOOPBACK = "127.0.0.1"

# Every external command gets a bound; a hung tool must fail a test, not the CI job.
DEFAULT_TIMEOUT = 120


class HarnessError(RuntimeError):
    """A harness service could not be started, reached or stopped; the message says why."""


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0 and release it).

    Another process may take it before we use it, so starters retry with a new port when the
    service fails with "address already in use".
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def clean_env(extra=None):
    """The environment for child tools: ours minus settings that would make them read this
    machine's own configuration (REGISTRY_* overrides the registry's config file, proxies
    would send loopback traffic elsewhere)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("REGISTRY_")
           and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env["NO_PROXY"] = "*"
    if extra:
        env.update(extra)
    return env


def run(argv, timeout=DEFAULT_TIMEOUT, check=True, env=None, input=None, cwd=None):
    """Run a tool to completion with captured text output; raise HarnessError on failure
    (non-zero exit or timeout) with its stderr when check is true."""
    try:
        p = subprocess.run(argv, capture_output=True, text=input is None or isinstance(input, str),
                           timeout=timeout, env=env if env is not None else clean_env(),
                           input=input, cwd=cwd,
                           stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise HarnessError(f"'{' '.join(argv)}' timed out after {timeout}s") from e
    except FileNotFoundError as e:
        raise HarnessError(f"'{argv[0]}' is not installed") from e
    if check and p.returncode != 0:
        err = p.stderr if isinstance(p.stderr, str) else p.stderr.decode(errors="replace")
        raise HarnessError(f"'{' '.join(argv)}' exited with {p.returncode}: {err.strip()}")
    return p


_live = {}          # pid -> Process, for the atexit sweep
_live_lock = threading.Lock()


class Process:
    """A child process started by the harness, its output going to a log file."""

    def __init__(self, argv, log_path, env=None, cwd=None):
        self.argv = list(argv)
        self.log_path = log_path
        # --pdeathsig: if the thread that started us dies (test killed by its runner), the
        # kernel stops the child too, so no registry outlives its test.
        full = ["setpriv", "--pdeathsig", "TERM", "--"] + self.argv \
            if shutil.which("setpriv") else self.argv
        with open(log_path, "ab") as log:
            self.popen = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT,
                                          env=env if env is not None else clean_env(), cwd=cwd)
        self.pid = self.popen.pid
        with _live_lock:
            _live[self.pid] = self

    def alive(self):
        return self.popen.poll() is None

    def log_tail(self, lines=20):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()[-16384:].decode(errors="replace")
        except OSError:
            return ""
        return "\n".join(data.splitlines()[-lines:])

    def stop(self, grace=5.0):
        """SIGTERM, then SIGKILL after `grace` seconds; reaps the child. Idempotent."""
        if self.popen.poll() is None:
            try:
                self.popen.send_signal(signal.SIGTERM)
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=grace)
            except ProcessLookupError:
                pass
        with _live_lock:
            _live.pop(self.pid, None)
        return self.popen.returncode


def _stop_all():
    with _live_lock:
        procs = list(_live.values())
    for p in procs:
        try:
            p.stop(grace=2.0)
        except Exception:  # best effort at interpreter exit
            pass


atexit.register(_stop_all)


def install_signal_handlers():
    """Make SIGTERM/SIGINT/SIGHUP unwind the stack (context managers, atexit) so that the
    services of a CLI process or test script are stopped when it is killed politely."""
    def on_signal(signum, frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)


def probe_http(host, port, path="/", ssl_context=None, timeout=2.0):
    """One GET; returns the status code, or None when nothing answers yet."""
    if ssl_context is not None:
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl_context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except (OSError, http.client.HTTPException, ssl.SSLError):
        return None
    finally:
        conn.close()


def wait_http(host, port, path, proc=None, ssl_context=None, timeout=30.0, what="service"):
    """Wait until host:port answers GET path with any HTTP status (bounded by timeout).

    Fails early, with the log tail, when `proc` exits first.
    """
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        if proc is not None and not proc.alive():
            raise HarnessError(f"{what} exited with {proc.popen.returncode} before answering "
                               f"on {host}:{port}:\n{proc.log_tail()}")
        status = probe_http(host, port, path, ssl_context)
        if status is not None:
            return status
        if time.monotonic() > deadline:
            tail = proc.log_tail() if proc else ""
            raise HarnessError(f"{what} did not answer on {host}:{port}{path} within "
                               f"{timeout:.0f}s\n{tail}")
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


class WorkDir:
    """A directory the harness owns: created here (or adopted if given and empty), removed by
    cleanup() only when the harness created it or `remove` is set."""

    def __init__(self, path=None, prefix="lading-harness-"):
        if path is None:
            self.path = tempfile.mkdtemp(prefix=prefix)
            self.created = True
        else:
            self.path = os.path.abspath(path)
            self.created = not os.path.exists(self.path)
            os.makedirs(self.path, exist_ok=True)

    def sub(self, *parts, mkdir=False):
        p = os.path.join(self.path, *parts)
        if mkdir:
            os.makedirs(p, exist_ok=True)
        return p

    def cleanup(self, remove=None):
        if remove if remove is not None else self.created:
            shutil.rmtree(self.path, ignore_errors=True)


def write_file(path, data, mode=0o644):
    """Write atomically (temp file + rename) so readers never see half a file."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
