# SPDX-License-Identifier: Apache-2.0
"""A small Bearer token server for the registry's `auth: token` (distribution's token
authentication specification, docs/spec/auth/token.md and oauth.md).

Endpoints (both at /token):
- GET  ?service=S&scope=...&account=U&offline_token=true&client_id=C, Basic credentials
  optional: returns {"token", "access_token", "expires_in", "issued_at"[, "refresh_token"]}.
- POST application/x-www-form-urlencoded, grant_type=password (username, password) or
  grant_type=refresh_token (refresh_token), with service, scope, client_id, access_type:
  returns {"access_token", "scope", "expires_in", "issued_at"[, "refresh_token"]}.

Tokens are RS256 JWTs carrying either the signing certificate (`x5c`) or its libtrust key id
(`kid`); the registry trusts the certificate through `rootcertbundle`. What a token grants is
the intersection of the requested scope and the access rules for the caller. Every request is
logged (without secrets) so tests can count token fetches.
"""

import base64
import fnmatch
import json
import secrets
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import pki
from .util import LOOPBACK, HarnessError

ISSUER = "lading-test-token-issuer"
SERVICE = "lading-test-registry"

# distribution accepts a token up to 60 s after its `exp` (token.Leeway); we subtract it so
# a token really stops working `ttl` seconds after it was issued.
REGISTRY_LEEWAY = 60


def parse_scope(text):
    """'repository:name:pull,push' -> (type, name, [actions]); None if malformed.

    The name may itself contain ':' (a registry:catalog:* scope has none, a repository with
    a port in a plugin-style type might), so type is up to the first ':' and actions after
    the last one.
    """
    first = text.find(":")
    last = text.rfind(":")
    if first <= 0 or last == first:
        return None
    rtype = text[:first]
    name = text[first + 1:last]
    actions = [a for a in text[last + 1:].split(",") if a]
    if "(" in rtype:            # "repository(plugin)": the class is not part of the type
        rtype = rtype.split("(", 1)[0]
    return rtype, name, actions


class Rule:
    """Grants `actions` on repositories matching the glob `repository` to `account`.

    account: a user name, "*" for any authenticated user, or "" for anonymous callers (who
    are also covered by rules for "" only). actions: "pull", "push", "delete" or "*".
    """

    def __init__(self, account, repository, actions, rtype="repository"):
        self.account = account
        self.repository = repository
        self.actions = list(actions)
        self.type = rtype

    def applies(self, account, rtype, name):
        if rtype != self.type or not fnmatch.fnmatchcase(name, self.repository):
            return False
        if self.account == "":
            return True                     # anonymous rules apply to everyone
        if account is None:
            return False
        return self.account in ("*", account)

    def to_json(self):
        return {"account": self.account, "repository": self.repository,
                "actions": self.actions, "type": self.type}

    @classmethod
    def from_json(cls, d):
        return cls(d.get("account", "*"), d["repository"], d["actions"],
                   d.get("type", "repository"))


def default_rules():
    """Every user may pull and push everything; anonymous callers may pull `public/*`."""
    return [Rule("*", "*", ["pull", "push", "delete"]),
            Rule("", "public/*", ["pull"])]


class TokenServer:
    """The token server; start() serves it on 127.0.0.1 in a daemon thread.

    users: {name: password}. rules: list of Rule (default_rules() if None).
    key_mode: "x5c" (header carries the certificate chain) or "kid" (libtrust key id).
    ttl: seconds a token works at the registry (and its `expires_in`).
    deny_status: None to issue tokens with reduced access (the registry then answers 401
      insufficient_scope, as distribution's reference setup does), or e.g. 403 to refuse a
      request for actions the caller lacks with a {"errors":[{"code":"DENIED"}]} body, as
      some hosted registries do.
    oauth_post: answer POST /token (else 404, which tells Docker clients to fall back to GET).
    tls: (cert, key) to serve HTTPS, else plain HTTP.
    """

    def __init__(self, directory, users=None, rules=None, key_mode="x5c", ttl=300,
                 deny_status=None, oauth_post=True, tls=None, service=SERVICE, issuer=ISSUER,
                 log_path=None):
        if key_mode not in ("x5c", "kid"):
            raise HarnessError(f"unknown token key mode '{key_mode}'")
        self.dir = directory
        self.users = dict(users or {})
        self.rules = list(rules) if rules is not None else default_rules()
        self.key_mode = key_mode
        self.ttl = ttl
        self.deny_status = deny_status
        self.oauth_post = oauth_post
        self.tls = tls
        self.service = service
        self.issuer = issuer
        self.log_path = log_path
        self.requests = []
        self.refresh_tokens = {}        # token -> account
        self._lock = threading.Lock()
        self.cert, self.key_path = pki.make_signing_cert(directory)
        self._key = pki.RSAKey(self.key_path)
        self._x5c = [base64.b64encode(pki.pem_to_der(self.cert)).decode()]
        self.kid = pki.libtrust_key_id(pki.public_key_der(self.cert))
        self._httpd = None
        self._thread = None
        self.port = None

    # -- lifecycle

    @property
    def scheme(self):
        return "https" if self.tls else "http"

    @property
    def url(self):
        return f"{self.scheme}://{LOOPBACK}:{self.port}"

    @property
    def realm(self):
        return self.url + "/token"

    def start(self):
        handler = type("Handler", (_Handler,), {"server_obj": self})
        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), handler)
        self._httpd.daemon_threads = True
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="token-server",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- tokens

    def issue(self, account, scopes):
        """A signed JWT for account (None: anonymous) granting the allowed part of scopes.

        Returns (jwt, access list, denied list of (scope, missing actions)).
        """
        access = []
        denied = []
        for scope in scopes:
            rtype, name, wanted = scope
            allowed = set()
            for rule in self.rules:
                if rule.applies(account, rtype, name):
                    allowed.update(rule.actions)
            if "*" in allowed:
                granted = list(wanted)
            else:
                granted = [a for a in wanted if a in allowed]
            missing = [a for a in wanted if a not in granted]
            if missing:
                denied.append((f"{rtype}:{name}:{','.join(wanted)}", missing))
            access.append({"type": rtype, "name": name, "actions": granted})
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": account or "", "aud": self.service,
                  "exp": now + self.ttl - REGISTRY_LEEWAY, "nbf": now - 1, "iat": now,
                  "jti": secrets.token_hex(8), "access": access}
        header = {"typ": "JWT", "alg": "RS256"}
        if self.key_mode == "x5c":
            header["x5c"] = self._x5c
        else:
            header["kid"] = self.kid
        signing_input = (pki.b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         pki.b64url(json.dumps(claims, separators=(",", ":")).encode()))
        sig = self._key.sign_rs256(signing_input.encode())
        return signing_input + "." + pki.b64url(sig), access, denied

    def check_password(self, user, password):
        return user in self.users and secrets.compare_digest(self.users[user], password)

    def new_refresh_token(self, account):
        tok = "rt-" + secrets.token_urlsafe(24)
        with self._lock:
            self.refresh_tokens[tok] = account
        return tok

    def revoke_refresh_tokens(self):
        with self._lock:
            self.refresh_tokens.clear()

    def record(self, entry):
        with self._lock:
            entry["seq"] = len(self.requests) + 1
            self.requests.append(entry)
            if self.log_path:
                with open(self.log_path, "a") as f:
                    f.write(json.dumps(entry) + "\n")

    def log(self):
        with self._lock:
            return [dict(e) for e in self.requests]

    def clear_log(self):
        with self._lock:
            self.requests.clear()


def _error_body(code, message):
    return {"errors": [{"code": code, "message": message, "detail": None}]}


class _Handler(BaseHTTPRequestHandler):
    server_obj = None           # set per server by TokenServer.start
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass                    # requests are recorded in TokenServer.requests instead

    def _send(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _basic(self):
        """(user, password) from a Basic Authorization header, 'invalid', or None."""
        h = self.headers.get("Authorization")
        if not h:
            return None
        scheme, _, value = h.partition(" ")
        if scheme.lower() != "basic":
            return "invalid"
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
            user, sep, password = decoded.partition(":")
        except (ValueError, UnicodeDecodeError):
            return "invalid"
        return (user, password) if sep else "invalid"

    @staticmethod
    def _scopes(values):
        out = []
        for v in values:
            for s in v.split(" "):      # several scopes may share one parameter
                if s:
                    parsed = parse_scope(s)
                    if parsed:
                        out.append(parsed)
        return out

    def do_GET(self):
        srv = self.server_obj
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        entry = {"time": time.time(), "method": "GET", "path": url.path,
                 "service": q.get("service", [None])[0], "scopes": q.get("scope", []),
                 "account_param": q.get("account", [None])[0],
                 "client_id": q.get("client_id", [None])[0],
                 "offline_token": q.get("offline_token", ["false"])[0] == "true"}
        if url.path != "/token":
            entry.update(status=404, auth="none")
            srv.record(entry)
            return self._send(404, _error_body("NOT_FOUND", "not found"))
        creds = self._basic()
        account = None
        if creds is None:
            entry["auth"] = "none"
        elif creds == "invalid" or not srv.check_password(*creds):
            entry.update(auth="basic", account=creds[0] if isinstance(creds, tuple) else None,
                         status=401)
            srv.record(entry)
            return self._send(401, _error_body("UNAUTHORIZED", "authentication failed: "
                                               "invalid username or password"),
                              {"WWW-Authenticate": 'Basic realm="lading test token server"'})
        else:
            account = creds[0]
            entry["auth"] = "basic"
        self._grant(entry, account, self._scopes(q.get("scope", [])),
                    q.get("service", [None])[0],
                    refresh=account is not None and entry["offline_token"], oauth=False)

    def do_POST(self):
        srv = self.server_obj
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > 1 << 20:
            return self._send(413, _error_body("SIZE_INVALID", "form too large"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode(errors="replace"))
        grant = form.get("grant_type", [None])[0]
        entry = {"time": time.time(), "method": "POST", "path": url.path, "grant_type": grant,
                 "service": form.get("service", [None])[0], "scopes": form.get("scope", []),
                 "client_id": form.get("client_id", [None])[0],
                 "access_type": form.get("access_type", [None])[0], "auth": "form"}
        if url.path != "/token" or not srv.oauth_post:
            entry["status"] = 404
            srv.record(entry)
            return self._send(404, _error_body("NOT_FOUND", "not found"))
        if grant == "password":
            user = form.get("username", [""])[0]
            entry["account"] = user
            if not srv.check_password(user, form.get("password", [""])[0]):
                entry["status"] = 401
                srv.record(entry)
                return self._send(401, {"error": "invalid_grant",
                                        "error_description": "invalid username or password",
                                        **_error_body("UNAUTHORIZED", "authentication failed: "
                                                      "invalid username or password")})
            refresh = form.get("access_type", [""])[0] == "offline"
            account = user
        elif grant == "refresh_token":
            tok = form.get("refresh_token", [""])[0]
            with srv._lock:
                account = srv.refresh_tokens.get(tok)
            entry["account"] = account
            if account is None:
                entry["status"] = 401
                srv.record(entry)
                return self._send(401, {"error": "invalid_grant",
                                        "error_description": "unknown or revoked refresh token",
                                        **_error_body("UNAUTHORIZED", "invalid refresh token")})
            refresh = tok
        else:
            entry["status"] = 400
            srv.record(entry)
            return self._send(400, {"error": "unsupported_grant_type",
                                    "error_description": f"grant_type '{grant}' not supported"})
        self._grant(entry, account, self._scopes(form.get("scope", [])),
                    form.get("service", [None])[0], refresh=refresh, oauth=True)

    def _grant(self, entry, account, scopes, service, refresh, oauth):
        srv = self.server_obj
        entry["account"] = account
        if service is not None and service != srv.service:
            entry["status"] = 400
            srv.record(entry)
            return self._send(400, _error_body("UNSUPPORTED", f"unknown service '{service}'"))
        token, access, denied = srv.issue(account, scopes)
        entry["granted"] = access
        if denied and srv.deny_status:
            entry["status"] = srv.deny_status
            srv.record(entry)
            what = "; ".join(f"{s} (missing {','.join(m)})" for s, m in denied)
            return self._send(srv.deny_status, _error_body(
                "DENIED", f"requested access to the resource is denied: {what}"))
        body = {"access_token": token, "expires_in": srv.ttl,
                "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        if oauth:
            body["scope"] = " ".join(entry["scopes"])
        else:
            body["token"] = token
        if refresh:
            body["refresh_token"] = refresh if isinstance(refresh, str) else \
                srv.new_refresh_token(account)
        entry["status"] = 200
        entry["refresh_token_issued"] = "refresh_token" in body
        srv.record(entry)
        self._send(200, body)
