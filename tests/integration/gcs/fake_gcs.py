# SPDX-License-Identifier: Apache-2.0
"""A tiny GCS, OAuth token endpoint and GCE metadata server on 127.0.0.1 for the gs:// context
tests. The token endpoint checks the service account's JWT itself: its header and claims, and
its RS256 signature with `openssl dgst -sha256 -verify` against the account's public key
(nothing shared with lading's C code). Objects are served only with an issued token, unless
public; errors are the JSON API's {"error":{"code":N,"message":...}}."""

import base64
import json
import os
import subprocess
import tempfile
import time
import urllib.parse

from cachelib import LoopbackFake

SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def unb64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class FakeGCS(LoopbackFake):
    """objects: {(bucket, object): bytes}; accounts: {client_email: public key PEM path};
    users: {(client_id, client_secret, refresh_token)}; public: set of (bucket, object)."""

    METHODS = ("GET", "POST")

    def __init__(self, objects, accounts, users=(), public=()):
        self.objects, self.accounts = objects, accounts
        self.users, self.public = set(users), set(public)
        self.tokens = {}  # issued token -> who
        self.requests = []  # (method, path, who or None, status)
        self.jwt_problems = []
        self.scope = SCOPE  # what the token endpoint requires of a JWT
        self.tmp = tempfile.mkdtemp(prefix="lading-fake-gcs-")
        self.start()
        self.token_uri = f"{self.endpoint}/token"

    def stop(self):
        super().stop()
        for name in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, name))
        os.rmdir(self.tmp)

    def reply(self, h, status, obj, record, raw=None):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.requests.append(record + (status,))
        h.send_response(status)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Content-Type", "application/json" if raw is None else
                      "application/octet-stream")
        h.end_headers()
        h.wfile.write(body)

    def issue(self, who):
        token = f"ya29.fake-{len(self.tokens)}-{os.urandom(8).hex()}"
        self.tokens[token] = who
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def verify_signature(self, pub, signed, sig):
        data, sigf = os.path.join(self.tmp, "data"), os.path.join(self.tmp, "sig")
        with open(data, "wb") as f:
            f.write(signed)
        with open(sigf, "wb") as f:
            f.write(sig)
        p = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature", sigf,
                            data], capture_output=True, text=True)
        return p.returncode == 0 and "Verified OK" in p.stdout

    def check_jwt(self, jwt):
        """The client_email of a valid assertion, else None (the reason in jwt_problems)."""
        parts = jwt.split(".")
        try:
            header, claims = json.loads(unb64url(parts[0])), json.loads(unb64url(parts[1]))
            sig = unb64url(parts[2])
        except (ValueError, IndexError) as e:
            self.jwt_problems.append(f"malformed: {e}")
            return None
        now = time.time()
        want = {"alg": "RS256", "typ": "JWT"}
        iss = claims.get("iss")
        problems = [
            (header != want, f"header {header}"),
            (iss not in self.accounts, f"unknown iss {iss}"),
            (claims.get("aud") != self.token_uri, f"aud {claims.get('aud')}"),
            (claims.get("scope") != self.scope, f"scope {claims.get('scope')}"),
            (not isinstance(claims.get("iat"), int) or abs(claims["iat"] - now) > 300,
             f"iat {claims.get('iat')}"),
            (claims.get("exp") != (claims.get("iat") or 0) + 3600, f"exp {claims.get('exp')}"),
        ]
        for bad, why in problems:
            if bad:
                self.jwt_problems.append(why)
                return None
        if not self.verify_signature(self.accounts[iss], f"{parts[0]}.{parts[1]}".encode(), sig):
            self.jwt_problems.append("signature")
            return None
        return iss

    def serve(self, h):
        return self.post(h) if h.command == "POST" else self.get(h)

    def post(self, h):
        n = int(h.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(h.rfile.read(n).decode(), keep_blank_values=True)
        one = {k: v[0] for k, v in form.items() if len(v) == 1}
        record = ("POST", h.path, None)
        if h.path != "/token":
            return self.reply(h, 404, {"error": "not_found"}, record)
        if one.get("grant_type") == JWT_GRANT:
            who = self.check_jwt(one.get("assertion", ""))
        elif one.get("grant_type") == "refresh_token":
            key = (one.get("client_id"), one.get("client_secret"), one.get("refresh_token"))
            who = f"user:{key[0]}" if key in self.users else None
        else:
            return self.reply(h, 400, {"error": "unsupported_grant_type"}, record)
        if who is None:
            return self.reply(h, 400, {"error": "invalid_grant",
                                       "error_description": "Invalid JWT Signature."}, record)
        self.reply(h, 200, self.issue(who), ("POST", h.path, who))

    def get(self, h):
        path, _, query = h.path.partition("?")
        if path == "/computeMetadata/v1/instance/service-accounts/default/token":
            if h.headers.get("Metadata-Flavor") != "Google":
                return self.reply(h, 403, {"error": "missing Metadata-Flavor"}, ("GET", path, None))
            return self.reply(h, 200, self.issue("metadata"), ("GET", path, "metadata"))
        auth = h.headers.get("Authorization") or ""
        who = self.tokens.get(auth[len("Bearer "):]) if auth.startswith("Bearer ") else None
        record = ("GET", path, who)
        prefix = "/storage/v1/b/"
        rest = path[len(prefix):] if path.startswith(prefix) else ""
        bucket, sep, obj = rest.partition("/o/")
        if not sep or query != "alt=media":
            return self.reply(h, 400, {"error": {"code": 400, "message": "bad request"}}, record)
        key = (urllib.parse.unquote(bucket), urllib.parse.unquote(obj))
        if auth and who is None:
            return self.reply(h, 401, {"error": {"code": 401, "message": "Invalid Credentials"}},
                              record)
        if who is None and key not in self.public:
            return self.reply(h, 401, {"error": {
                "code": 401, "message": "Anonymous caller does not have storage.objects.get "
                "access to the Google Cloud Storage object."}}, record)
        if key not in self.objects:
            return self.reply(h, 404, {"error": {
                "code": 404, "message": f"No such object: {key[0]}/{key[1]}"}}, record)
        self.reply(h, 200, None, record, raw=self.objects[key])
