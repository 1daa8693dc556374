# SPDX-License-Identifier: Apache-2.0
"""The real CNCF distribution registry (Debian's `docker-registry`, 2.8) on 127.0.0.1.

Run directly with a generated config file (never through systemd), on a free port, with its
storage in a temporary directory. Modes combine a transport and an authentication:

  http      plain HTTP, no auth          https   TLS, a CA generated for this registry
  mtls      TLS + client certificates    basic   htpasswd Basic auth (plain HTTP)
  token     Bearer tokens from a TokenServer (plain HTTP)

and combinations written with '+': "basic+https", "token+https", "basic+mtls".
"""

import json
import os
import ssl

from . import pki
from .htpasswd import write_htpasswd
from .tokenserver import Rule, TokenServer
from .util import (LOOPBACK, HarnessError, Process, WorkDir, free_port, wait_http,
                   write_file)

REGISTRY_BIN = "docker-registry"

DEFAULT_USER = "alice"
DEFAULT_PASSWORD = "wonderland"

_TRANSPORTS = ("http", "https", "mtls")
_AUTHS = ("none", "basic", "token")


def parse_mode(mode):
    """'token+https' -> ('https', 'token'); raises HarnessError on unknown parts."""
    transport, auth = "http", "none"
    for part in mode.split("+"):
        if part in _TRANSPORTS:
            transport = part
        elif part in _AUTHS:
            auth = part
        else:
            raise HarnessError(f"unknown registry mode '{part}' (known: "
                               f"{', '.join(_TRANSPORTS + _AUTHS[1:])}, joined by '+')")
    return transport, auth


class Registry:
    """One registry instance. Use as a context manager, or start()/stop().

    Arguments:
      mode: see the module doc.
      directory: working dir (config, storage, certs, logs); a temp dir when None.
      users: {name: password} for basic/token modes (default {"alice": "wonderland"}).
      rules: token mode access rules (tokenserver.Rule list; default: users push/pull all,
        anonymous pull of public/*).
      token_options: extra TokenServer arguments (key_mode, ttl, deny_status, oauth_post).
      relative_urls: registry returns relative Location headers (http.relativeurls).
      delete: enable manifest/blob DELETE.
    """

    def __init__(self, mode="http", directory=None, users=None, rules=None,
                 token_options=None, relative_urls=False, delete=True, name="registry"):
        self.mode = mode
        self.transport, self.auth = parse_mode(mode)
        self.name = name
        self.workdir = WorkDir(directory, prefix=f"lading-{name}-")
        self.dir = self.workdir.path
        if users is None:
            users = {DEFAULT_USER: DEFAULT_PASSWORD} if self.auth != "none" else {}
        self.users = dict(users)
        self.rules = rules
        self.token_options = dict(token_options or {})
        self.relative_urls = relative_urls
        self.delete = delete
        self.port = None
        self.proc = None
        self.ca = None
        self.ca_cert = None
        self.client_cert = None
        self.client_key = None
        self.cert_dir = None
        self.token_server = None
        self._started = False

    # -- addresses and credentials

    @property
    def tls(self):
        return self.transport != "http"

    @property
    def host(self):
        """host:port, as in image references."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://{self.host}"

    @property
    def user(self):
        return next(iter(self.users), None)

    @property
    def password(self):
        return self.users.get(self.user) if self.user else None

    @property
    def creds(self):
        """'user:password' of the first user, or None without auth."""
        return f"{self.user}:{self.password}" if self.auth != "none" and self.user else None

    def info(self):
        """Everything a client needs, as a JSON-able dict (the CLI prints this)."""
        d = {"name": self.name, "mode": self.mode, "transport": self.transport,
             "auth": self.auth, "url": self.url, "host": self.host, "port": self.port,
             "pid": self.proc.pid if self.proc else None, "dir": self.dir,
             "storage": os.path.join(self.dir, "storage"),
             "config": os.path.join(self.dir, "config.yml"),
             "log": os.path.join(self.dir, "registry.log"),
             "ca": self.ca_cert, "cert_dir": self.cert_dir,
             "client_cert": self.client_cert, "client_key": self.client_key,
             "users": self.users, "user": self.user, "password": self.password,
             "creds": self.creds, "insecure": not self.tls}
        if self.token_server:
            ts = self.token_server
            d["token"] = {"realm": ts.realm, "service": ts.service, "issuer": ts.issuer,
                          "url": ts.url, "cert": ts.cert, "key_mode": ts.key_mode,
                          "ttl": ts.ttl, "kid": ts.kid, "log": ts.log_path,
                          "rules": [r.to_json() for r in ts.rules]}
        return d

    def ssl_context(self, client_cert=True):
        """An ssl.SSLContext trusting this registry (with the client cert in mtls mode)."""
        if not self.tls:
            return None
        ctx = ssl.create_default_context(cafile=self.ca_cert)
        if client_cert and self.client_cert:
            ctx.load_cert_chain(self.client_cert, self.client_key)
        return ctx

    def skopeo_args(self, role="dest", creds=True, tls_verify=True):
        """skopeo options to reach this registry: role "dest", "src" or "" (inspect)."""
        p = f"--{role}-" if role else "--"
        args = []
        if not self.tls:
            args.append(f"{p}tls-verify=false")
        elif tls_verify:
            args += [f"{p}cert-dir", self.cert_dir]
        else:
            args.append(f"{p}tls-verify=false")
        if creds and self.creds:
            args += [f"{p}creds", self.creds]
        elif role:
            args.append(f"{p}no-creds")
        else:
            args.append("--no-creds")
        return args

    # -- lifecycle

    def _config(self):
        http = {"addr": self.host, "secret": os.urandom(16).hex(),
                "relativeurls": self.relative_urls,
                "headers": {"X-Content-Type-Options": ["nosniff"]}}
        if self.tls:
            http["tls"] = {"certificate": self._server_cert, "key": self._server_key}
            if self.transport == "mtls":
                http["tls"]["clientcas"] = [self.ca_cert]
        cfg = {"version": "0.1",
               "log": {"level": "info", "formatter": "text",
                       "accesslog": {"disabled": False}},
               "storage": {"filesystem": {"rootdirectory": os.path.join(self.dir, "storage")},
                           "delete": {"enabled": self.delete},
                           "maintenance": {"uploadpurging": {"enabled": False}},
                           "cache": {"blobdescriptor": "inmemory"}},
               "http": http,
               "health": {"storagedriver": {"enabled": False}}}
        if self.auth == "basic":
            cfg["auth"] = {"htpasswd": {"realm": "lading-test", "path": self._htpasswd}}
        elif self.auth == "token":
            ts = self.token_server
            cfg["auth"] = {"token": {"realm": ts.realm, "service": ts.service,
                                     "issuer": ts.issuer, "rootcertbundle": ts.cert}}
        # JSON is YAML: the registry's YAML parser reads this as its config file.
        return json.dumps(cfg, indent=1)

    def _prepare(self):
        if self.tls:
            self.ca = pki.CA(self.workdir.sub("pki"))
            self.ca_cert = self.ca.cert
            self._server_cert, self._server_key = self.ca.issue("registry")
            # A Docker/containers-style certs.d directory: ca.crt (+ client.cert/key).
            self.cert_dir = self.workdir.sub("certs", mkdir=True)
            with open(self.ca_cert) as f:
                write_file(os.path.join(self.cert_dir, "ca.crt"), f.read())
            if self.transport == "mtls":
                cert, key = self.ca.issue("client", client=True)
                self.client_cert = os.path.join(self.cert_dir, "client.cert")
                self.client_key = os.path.join(self.cert_dir, "client.key")
                for src, dst in ((cert, self.client_cert), (key, self.client_key)):
                    with open(src) as f:
                        write_file(dst, f.read(), 0o600)
        if self.auth == "basic":
            self._htpasswd = self.workdir.sub("htpasswd")
            write_htpasswd(self._htpasswd, self.users)
        elif self.auth == "token":
            opts = dict(self.token_options)
            if self.tls:
                opts.setdefault("tls", self.ca.issue("token-server"))
            rules = self.rules
            if rules is not None:
                rules = [r if isinstance(r, Rule) else Rule.from_json(r) for r in rules]
            self.token_server = TokenServer(self.workdir.sub("token", mkdir=True),
                                            users=self.users, rules=rules,
                                            log_path=self.workdir.sub("token-requests.jsonl"),
                                            **opts).start()

    def start(self, timeout=30.0):
        if self._started:
            return self
        self._started = True
        try:
            self._prepare()
            os.makedirs(os.path.join(self.dir, "storage"), exist_ok=True)
            # Another process may grab the port between free_port() and the registry's bind.
            for attempt in range(5):
                self.port = free_port()
                cfg = self.workdir.sub("config.yml")
                write_file(cfg, self._config(), 0o600)
                self.proc = Process([REGISTRY_BIN, "serve", cfg], self.workdir.sub("registry.log"))
                try:
                    wait_http(LOOPBACK, self.port, "/v2/", proc=self.proc,
                              ssl_context=self.ssl_context(), timeout=timeout,
                              what=f"registry ({self.mode})")
                    return self
                except HarnessError as e:
                    self.proc.stop()
                    if "address already in use" not in str(e) or attempt == 4:
                        raise
        except BaseException:
            self.stop()
            raise

    def stop(self, remove=None):
        """Stop the registry (by pid) and the token server, and remove the work dir if the
        harness created it (or remove=True)."""
        if self.proc:
            self.proc.stop()
        if self.token_server:
            self.token_server.stop()
        self.workdir.cleanup(remove)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log_tail(self, lines=30):
        return self.proc.log_tail(lines) if self.proc else ""

