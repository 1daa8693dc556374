# SPDX-License-Identifier: Apache-2.0
"""The harness CLI (python3 -m harness ...), for shell scripts and C test drivers.

`registry start` and `proxy start` leave a small daemon (`python3 -m harness _serve`) running
that owns the services; it writes DIR/state.json and stops them on SIGTERM, when its
--max-lifetime runs out, or when the registry dies. `... stop --dir DIR` ends that daemon
(by the pid in state.json, after checking its command line) and removes DIR.
`run` does everything in one process around a command and is what meson tests use.
"""

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request

from . import fixtures as fx
from .proxy import ACTIONS, proxy_for
from .registry import Registry
from .tokenserver import Rule
from .util import HarnessError, install_signal_handlers, write_file

STATE = "state.json"


# -- shared option parsing -------------------------------------------------------------------

def _add_registry_options(p):
    p.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD",
                   help="a user for basic/token modes (repeatable; default alice:wonderland)")
    p.add_argument("--rule", action="append", default=[], metavar="ACCOUNT:REPO-GLOB:ACTIONS",
                   help="token access rule (repeatable): ACCOUNT is a user, '*' (any user) or "
                        "empty (anonymous); ACTIONS e.g. pull,push. Default: users may do "
                        "everything, anonymous may pull public/*")
    p.add_argument("--token-key", choices=("x5c", "kid"), default="x5c",
                   help="how tokens name their signing key (default x5c)")
    p.add_argument("--token-ttl", type=int, default=300, help="token lifetime in seconds")
    p.add_argument("--deny-status", type=int, default=None,
                   help="token server refuses missing rights with this status and a DENIED "
                        "body instead of issuing a token with reduced access")
    p.add_argument("--no-oauth-post", action="store_true",
                   help="token server answers POST /token with 404")
    p.add_argument("--relative-urls", action="store_true",
                   help="registry sends relative Location headers")


def _registry_kwargs(a):
    users = None
    if a.user:
        users = {}
        for u in a.user:
            name, sep, pw = u.partition(":")
            if not sep:
                raise HarnessError(f"--user '{u}' must be NAME:PASSWORD")
            users[name] = pw
    rules = None
    if a.rule:
        rules = []
        for r in a.rule:
            parts = r.split(":")
            if len(parts) != 3:
                raise HarnessError(f"--rule '{r}' must be ACCOUNT:REPO-GLOB:ACTIONS")
            rules.append(Rule(parts[0], parts[1], parts[2].split(",")))
    return {"users": users, "rules": rules, "relative_urls": a.relative_urls,
            "token_options": {"key_mode": a.token_key, "ttl": a.token_ttl,
                              "deny_status": a.deny_status, "oauth_post": not a.no_oauth_post}}


def _env_for(state):
    """LADING_TEST_* variables describing the services in a state dict."""
    env = {}
    if state.get("dir"):
        env["LADING_TEST_DIR"] = state["dir"]
    if state.get("state_file"):
        env["LADING_TEST_STATE"] = state["state_file"]
    for name, r in state.get("registries", {}).items():
        p = "LADING_TEST_" + name.upper().replace("-", "_") + "_"
        vals = {"HOST": r["host"], "URL": r["url"], "MODE": r["mode"], "AUTH": r["auth"],
                "DIR": r["dir"], "CA": r["ca"], "CERT_DIR": r["cert_dir"],
                "CLIENT_CERT": r["client_cert"], "CLIENT_KEY": r["client_key"],
                "USER": r["user"], "PASSWORD": r["password"], "PID": r["pid"]}
        if r.get("token"):
            vals.update(TOKEN_REALM=r["token"]["realm"], TOKEN_SERVICE=r["token"]["service"],
                        TOKEN_LOG=r["token"]["log"])
        env.update({p + k: str(v) for k, v in vals.items() if v is not None})
    for name, x in state.get("proxies", {}).items():
        p = "LADING_TEST_" + name.upper().replace("-", "_") + "_"
        vals = {"HOST": x["host"], "URL": x["url"], "CONTROL": x["control_url"],
                "LOG": x["log"], "CA": x.get("ca"), "CERT_DIR": x.get("cert_dir")}
        env.update({p + k: str(v) for k, v in vals.items() if v is not None})
    for f in state.get("fixtures", []):
        p = "LADING_TEST_FIXTURE_" + f["name"].upper() + "_" + f["format"].upper() + "_"
        env[p + "REF"] = f["reference"]
        env[p + "DIGEST"] = f["digest"]
    return env


def _print_state(state, fmt):
    if fmt == "env":
        for k, v in sorted(_env_for(state).items()):
            print(f"{k}={shlex.quote(v)}")
    else:
        print(json.dumps(state, indent=1))


def _load_state(d):
    path = os.path.join(d, STATE)
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise HarnessError(f"no harness state in '{d}' (not started, or already stopped)")


# -- services in one process (used by _serve and run) -----------------------------------------

class Services:
    """Registries, proxies and pushed fixtures started together and stopped together."""

    def __init__(self, base):
        self.base = base
        self.registries = {}
        self.proxies = {}
        self.fixtures = []
        self.store = None

    def add_registry(self, name, mode, directory=None, **kw):
        r = Registry(mode, directory or os.path.join(self.base, name), name=name, **kw)
        self.registries[name] = r
        r.start()
        return r

    def add_proxy(self, name, registry_name, tls=None, directory=None):
        if registry_name not in self.registries:
            raise HarnessError(f"proxy '{name}': no registry named '{registry_name}'")
        p = proxy_for(self.registries[registry_name], directory or os.path.join(self.base, name),
                      tls=tls, name=name)
        self.proxies[name] = p
        return p

    def push_fixture(self, spec):
        """spec: NAME[:FORMAT][@REGISTRY][=REPO[:TAG]]"""
        left, _, dest = spec.partition("=")
        left, _, reg_name = left.partition("@")
        name, _, fmt = left.partition(":")
        fmt = fmt or "oci"
        reg_name = reg_name or next(iter(self.registries), None)
        if reg_name not in self.registries:
            raise HarnessError(f"fixture '{spec}': no registry named '{reg_name}'")
        reg = self.registries[reg_name]
        repo = dest or f"fixtures/{name}:{fmt}"
        if ":" not in repo.rsplit("/", 1)[-1]:
            repo += ":" + fmt
        if self.store is None:
            self.store = fx.FixtureStore()
        res = self.store.push(name, f"{reg.host}/{repo}", reg.skopeo_args("dest"), fmt)
        res.update(name=name, format=fmt, registry=reg_name)
        self.fixtures.append(res)
        return res

    def state(self):
        return {"dir": self.base,
                "registries": {n: r.info() for n, r in self.registries.items()},
                "proxies": {n: p.info() for n, p in self.proxies.items()},
                "fixtures": self.fixtures}

    def alive(self):
        return all(r.proc and r.proc.alive() for r in self.registries.values())

    def stop(self):
        for p in self.proxies.values():
            p.stop()
        for r in self.registries.values():
            r.stop(remove=False)
        if self.store:
            self.store.close()


# -- commands --------------------------------------------------------------------------------

def _daemon_start(a, spec):
    d = os.path.abspath(a.dir) if a.dir else None
    if d is None:
        import tempfile
        d = tempfile.mkdtemp(prefix="lading-harness-")
    elif os.path.exists(d) and os.listdir(d):
        raise HarnessError(f"'{d}' is not empty")
    os.makedirs(d, exist_ok=True)
    spec["max_lifetime"] = a.max_lifetime
    write_file(os.path.join(d, "spec.json"), json.dumps(spec))
    log = open(os.path.join(d, "daemon.log"), "ab")
    proc = subprocess.Popen([sys.executable, "-m", "harness", "_serve", "--dir", d],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, PYTHONPATH=_pythonpath()), close_fds=True)
    log.close()
    deadline = time.monotonic() + 120
    while not os.path.exists(os.path.join(d, STATE)):
        if proc.poll() is not None:
            with open(os.path.join(d, "daemon.log"), errors="replace") as f:
                tail = f.read()[-4000:]
            raise HarnessError(f"harness daemon failed (exit {proc.returncode}):\n{tail}")
        if time.monotonic() > deadline:
            proc.terminate()
            raise HarnessError("harness daemon did not come up within 120s")
        time.sleep(0.05)
    state = _load_state(d)
    _print_state(state, a.format)


def _pythonpath():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    old = os.environ.get("PYTHONPATH")
    return here + (os.pathsep + old if old else "")


def cmd_registry_start(a):
    spec = {"registries": [{"name": a.name, "mode": a.mode, **_registry_kwargs(a)}],
            "proxies": [{"name": "proxy", "registry": a.name}] if a.proxy else [],
            "fixtures": a.fixture}
    for r in spec["registries"]:
        if r["rules"]:
            r["rules"] = [x.to_json() for x in r["rules"]]
    _daemon_start(a, spec)


def cmd_proxy_start(a):
    spec = {"registries": [], "proxies": [{"name": a.name, "upstream": a.upstream,
                                           "upstream_ca": a.upstream_ca}], "fixtures": []}
    _daemon_start(a, spec)


def _pid_is_our_daemon(pid, d):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    return b"_serve" in argv and d.encode() in argv


def cmd_stop(a):
    d = os.path.abspath(a.dir)
    try:
        state = _load_state(d)
    except HarnessError:
        state = None
    pid = state.get("daemon_pid") if state else None
    if pid and _pid_is_our_daemon(pid, d):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while _pid_is_our_daemon(pid, d) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_is_our_daemon(pid, d):
            os.kill(pid, signal.SIGKILL)
    if not a.keep:
        import shutil
        shutil.rmtree(d, ignore_errors=True)
    print(json.dumps({"stopped": d, "daemon_pid": pid}))


def _lookup(state, key):
    cur = state
    for part in key.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            raise HarnessError(f"no field '{key}' in the harness state")
    return cur


def cmd_info(a):
    state = _load_state(os.path.abspath(a.dir))
    if a.get:
        v = _lookup(state, a.get)
        print(v if isinstance(v, str) else json.dumps(v))
    else:
        _print_state(state, a.format)


def cmd_registry_log(a):
    state = _load_state(os.path.abspath(a.dir))
    reg = state["registries"].get(a.name)
    if not reg or not reg.get("token"):
        raise HarnessError(f"registry '{a.name}' has no token server")
    print(json.dumps(_read_jsonl(reg["token"]["log"]), indent=1))


def _read_jsonl(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def _control(state, name, method, path, body=None):
    x = state["proxies"].get(name)
    if not x:
        raise HarnessError(f"no proxy named '{name}' in this harness dir")
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(x["control_url"] + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=10) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        raise HarnessError(f"proxy control {method} {path}: {e.code} {e.read().decode()}")


def cmd_proxy_fault(a):
    state = _load_state(os.path.abspath(a.dir))
    if a.json:
        body = json.loads(a.json)
    else:
        body = {"action": a.action, "skip": a.skip, "times": a.times}
        for k in ("method", "path", "status", "retry_after", "bytes", "offset", "mask",
                  "seconds", "after_bytes", "code", "message", "host"):
            v = getattr(a, k)
            if v is not None:
                body[k] = v
        if a.forward:
            body["forward"] = True
        if a.header:
            body["headers"] = dict(h.split("=", 1) for h in a.header)
    print(json.dumps(_control(state, a.name, "POST", "/faults", body)))


def cmd_proxy_faults(a):
    state = _load_state(os.path.abspath(a.dir))
    if a.clear:
        _control(state, a.name, "DELETE", "/faults")
    print(json.dumps(_control(state, a.name, "GET", "/faults"), indent=1))


def cmd_proxy_log(a):
    state = _load_state(os.path.abspath(a.dir))
    if a.clear:
        _control(state, a.name, "DELETE", "/log")
        print("[]")
        return
    print(json.dumps(_control(state, a.name, "GET", f"/log?since={a.since}"), indent=1))


def cmd_fixture_list(a):
    for name, (_, doc) in fx.CATALOGUE.items():
        print(f"{name:12} {doc}")


def cmd_fixture_build(a):
    store = fx.FixtureStore(a.cache)
    try:
        info = store.build(a.name)
        if a.layout:
            import shutil
            shutil.copytree(store.layout, a.layout, symlinks=True)
            info["layout"] = os.path.abspath(a.layout)
        if not a.tree:
            info.pop("tree", None)
            for m in info.get("manifests", []):
                m.pop("tree", None)
        print(json.dumps(info, indent=1))
    finally:
        store.close()


def cmd_fixture_push(a):
    args = []
    if a.registry_dir:
        state = _load_state(os.path.abspath(a.registry_dir))
        regs = state["registries"]
        reg = regs.get(a.registry) if a.registry else next(iter(regs.values()), None)
        if reg is None:
            raise HarnessError("no such registry in the harness dir")
        if reg["transport"] == "http":
            args.append("--dest-tls-verify=false")
        else:
            args += ["--dest-cert-dir", reg["cert_dir"]]
        if reg["creds"]:
            args += ["--dest-creds", reg["creds"]]
        # Docker's rule: a first component with '.' or ':' (or localhost) names a host.
        first = a.target.split("/")[0]
        full = "/" in a.target and ("." in first or ":" in first or first == "localhost")
        target = a.target if full else f"{reg['host']}/{a.target}"
    else:
        target = a.target
    if a.creds:
        args += ["--dest-creds", a.creds]
    if a.tls_verify is False:
        args.append("--dest-tls-verify=false")
    if a.cert_dir:
        args += ["--dest-cert-dir", a.cert_dir]
    store = fx.FixtureStore(a.cache)
    try:
        print(json.dumps(store.push(a.name, target, args, a.format), indent=1))
    finally:
        store.close()


def cmd_serve(a):
    """The daemon behind `registry start` / `proxy start`."""
    install_signal_handlers()
    d = a.dir
    with open(os.path.join(d, "spec.json")) as f:
        spec = json.load(f)
    svc = Services(d)
    try:
        for r in spec["registries"]:
            kw = {k: v for k, v in r.items() if k not in ("name", "mode")}
            if kw.get("rules"):
                kw["rules"] = [Rule.from_json(x) for x in kw["rules"]]
            svc.add_registry(r["name"], r["mode"], directory=d, **kw)
        for p in spec["proxies"]:
            if p.get("upstream"):
                from .proxy import FaultProxy
                x = FaultProxy(p["upstream"], upstream_ca=p.get("upstream_ca"), name=p["name"],
                               log_path=os.path.join(d, f"{p['name']}-requests.jsonl")).start()
                svc.proxies[p["name"]] = x
            else:
                svc.add_proxy(p["name"], p["registry"], directory=d)
        for f in spec.get("fixtures", []):
            svc.push_fixture(f)
        state = svc.state()
        state.update(daemon_pid=os.getpid(), state_file=os.path.join(d, STATE))
        write_file(os.path.join(d, STATE), json.dumps(state, indent=1))
        deadline = time.monotonic() + spec.get("max_lifetime", 3600)
        while time.monotonic() < deadline:
            if not svc.alive():
                print("a registry exited; stopping", flush=True)
                return 1
            time.sleep(0.5)
        print("max lifetime reached; stopping", flush=True)
        return 0
    finally:
        svc.stop()


def cmd_run(a):
    """Start services, run the command with LADING_TEST_* set, stop everything."""
    install_signal_handlers()
    import tempfile
    base = os.path.abspath(a.dir) if a.dir else tempfile.mkdtemp(prefix="lading-run-")
    os.makedirs(base, exist_ok=True)
    svc = Services(base)
    cmd = a.command[1:] if a.command and a.command[0] == "--" else a.command
    if not cmd:
        raise HarnessError("run: no command given (after --)")
    ok = False
    try:
        kw = _registry_kwargs(a)
        for spec in a.registry or ["http"]:
            name, _, mode = spec.rpartition("=")
            svc.add_registry(name or ("registry" if not svc.registries else
                                      f"registry{len(svc.registries) + 1}"), mode, **kw)
        for spec in a.proxy:
            name, _, reg = spec.rpartition("=")
            svc.add_proxy(name or "proxy", reg or next(iter(svc.registries)))
        for f in a.fixture:
            svc.push_fixture(f)
        state = svc.state()
        state["state_file"] = os.path.join(base, STATE)
        write_file(state["state_file"], json.dumps(state, indent=1))
        env = dict(os.environ, **_env_for(state))
        rc = subprocess.call(cmd, env=env)
        ok = rc == 0
        return rc
    finally:
        svc.stop()
        if ok or not a.keep_on_failure:
            import shutil
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"harness: kept '{base}' (logs, storage)", file=sys.stderr)


# -- argument parsing ------------------------------------------------------------------------

def build_parser():
    top = argparse.ArgumentParser(prog="python3 -m harness",
                                  description="lading's integration test harness")
    sub = top.add_subparsers(dest="group", required=True)

    reg = sub.add_parser("registry", help="a real registry on 127.0.0.1").add_subparsers(
        dest="cmd", required=True)
    p = reg.add_parser("start", help="start a registry daemon, print its state")
    p.add_argument("--mode", default="http",
                   help="http, https, mtls, basic, token, or combinations like token+https")
    p.add_argument("--dir", help="harness dir (must be empty; default: a new temp dir)")
    p.add_argument("--name", default="registry")
    p.add_argument("--proxy", action="store_true", help="also start a fault proxy in front")
    p.add_argument("--fixture", action="append", default=[],
                   metavar="NAME[:FORMAT][=REPO[:TAG]]", help="push a fixture after start")
    p.add_argument("--format", choices=("json", "env"), default="json")
    p.add_argument("--max-lifetime", type=int, default=3600,
                   help="the daemon stops everything after this many seconds")
    _add_registry_options(p)
    p.set_defaults(func=cmd_registry_start)
    p = reg.add_parser("stop", help="stop the daemon of DIR and remove DIR")
    p.add_argument("--dir", required=True)
    p.add_argument("--keep", action="store_true", help="keep DIR (logs, storage)")
    p.set_defaults(func=cmd_stop)
    p = reg.add_parser("info", help="print the state of DIR (or one field with --get)")
    p.add_argument("--dir", required=True)
    p.add_argument("--get", metavar="FIELD", help="e.g. registries.registry.url")
    p.add_argument("--format", choices=("json", "env"), default="json")
    p.set_defaults(func=cmd_info)
    p = reg.add_parser("log", help="the token server's request log (JSON)")
    p.add_argument("--dir", required=True)
    p.add_argument("--name", default="registry")
    p.set_defaults(func=cmd_registry_log)

    prx = sub.add_parser("proxy", help="the fault-injecting proxy").add_subparsers(
        dest="cmd", required=True)
    p = prx.add_parser("start", help="start a proxy daemon in front of any URL")
    p.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:5000")
    p.add_argument("--upstream-ca", help="CA file for an https upstream")
    p.add_argument("--dir")
    p.add_argument("--name", default="proxy")
    p.add_argument("--format", choices=("json", "env"), default="json")
    p.add_argument("--max-lifetime", type=int, default=3600)
    p.set_defaults(func=cmd_proxy_start)
    p = prx.add_parser("stop", help="stop the daemon of DIR and remove DIR")
    p.add_argument("--dir", required=True)
    p.add_argument("--keep", action="store_true")
    p.set_defaults(func=cmd_stop)
    p = prx.add_parser("fault", help="add a fault")
    p.add_argument("action", choices=ACTIONS, nargs="?")
    p.add_argument("--dir", required=True)
    p.add_argument("--name", default="proxy")
    p.add_argument("--json", help="the fault as a JSON object (instead of options)")
    p.add_argument("--method")
    p.add_argument("--path", help="regular expression searched in the request target")
    p.add_argument("--header", action="append", metavar="NAME=REGEX")
    p.add_argument("--skip", type=int, default=0)
    p.add_argument("--times", type=int, default=1, help="0: every matching request")
    p.add_argument("--status", type=int)
    p.add_argument("--code")
    p.add_argument("--message")
    p.add_argument("--retry-after", type=int)
    p.add_argument("--bytes", type=int)
    p.add_argument("--offset", type=int)
    p.add_argument("--mask", type=int)
    p.add_argument("--seconds", type=float)
    p.add_argument("--after-bytes", type=int)
    p.add_argument("--forward", action="store_true")
    p.add_argument("--host", help="redirect: host name of the storage URL")
    p.set_defaults(func=cmd_proxy_fault)
    p = prx.add_parser("faults", help="list faults (with --clear: remove them first)")
    p.add_argument("--dir", required=True)
    p.add_argument("--name", default="proxy")
    p.add_argument("--clear", action="store_true")
    p.set_defaults(func=cmd_proxy_faults)
    p = prx.add_parser("log", help="recorded requests (JSON)")
    p.add_argument("--dir", required=True)
    p.add_argument("--name", default="proxy")
    p.add_argument("--since", type=int, default=0)
    p.add_argument("--clear", action="store_true")
    p.set_defaults(func=cmd_proxy_log)

    fxp = sub.add_parser("fixture", help="test images").add_subparsers(dest="cmd", required=True)
    p = fxp.add_parser("list")
    p.set_defaults(func=cmd_fixture_list)
    p = fxp.add_parser("build", help="build, print metadata (digests, platforms, layers)")
    p.add_argument("name")
    p.add_argument("--cache", help="fixture cache dir (default $LADING_TEST_FIXTURE_CACHE "
                                   "or a temp dir)")
    p.add_argument("--layout", help="also copy the OCI layout to this new directory")
    p.add_argument("--tree", action="store_true", help="include the expected file tree")
    p.set_defaults(func=cmd_fixture_build)
    p = fxp.add_parser("push", help="push a fixture with skopeo, print what the registry "
                                    "serves")
    p.add_argument("name")
    p.add_argument("target", help="HOST:PORT/REPO:TAG, or REPO:TAG with --registry-dir")
    p.add_argument("--format", choices=("oci", "v2s2"), default="oci")
    p.add_argument("--registry-dir", help="a harness dir: take host, TLS and creds from it")
    p.add_argument("--registry", help="registry name within --registry-dir")
    p.add_argument("--creds", metavar="USER:PASSWORD")
    p.add_argument("--tls-verify", type=lambda s: s.lower() not in ("false", "0", "no"),
                   default=None)
    p.add_argument("--cert-dir")
    p.add_argument("--cache")
    p.set_defaults(func=cmd_fixture_push)

    p = sub.add_parser("run", help="start services, run a command with LADING_TEST_* set, "
                                   "stop everything; exits with the command's status")
    p.add_argument("--registry", action="append", default=[], metavar="[NAME=]MODE",
                   help="repeatable; default one 'http' registry named 'registry'")
    p.add_argument("--proxy", action="append", default=[], metavar="[NAME=]REGISTRY",
                   help="a fault proxy in front of a registry (repeatable)")
    p.add_argument("--fixture", action="append", default=[],
                   metavar="NAME[:FORMAT][@REGISTRY][=REPO[:TAG]]")
    p.add_argument("--dir", help="base dir (default: a temp dir)")
    p.add_argument("--keep-on-failure", action="store_true",
                   help="keep --dir when the command fails")
    _add_registry_options(p)
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("_serve", help=argparse.SUPPRESS)
    p.add_argument("--dir", required=True)
    p.set_defaults(func=cmd_serve)
    return top


def main(argv=None):
    a = build_parser().parse_args(argv)
    try:
        rc = a.func(a)
    except HarnessError as e:
        print(f"harness: {e}", file=sys.stderr)
        return 2
    return rc or 0
