#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Self-tests: every registry mode comes up; skopeo pushes and inspects with the right
credentials and fails with the expected message without them; the token server's flows
(GET, OAuth2 POST, refresh tokens, anonymous, per-user rules, DENIED, expiry) and its
signatures check out; stop() leaves no process and no directory behind."""

import base64
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.parse
from unittest import mock

import selftest
from harness import Registry, Rule, htpasswd
from harness import skopeo as sk
from harness.skopeo import SkopeoError


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.small = selftest.store().build("small")
        cls.src = f"oci:{cls.small['layout']}:small"

    def push(self, r, repo, args):
        ref = f"docker://{r.host}/{repo}"
        sk.copy(self.src, ref, args)
        return ref

    def assert_pushed(self, r, repo, creds=True):
        ref = self.push(r, repo, r.skopeo_args("dest", creds=creds))
        _, digest = sk.inspect_raw(ref, r.skopeo_args("", creds=creds))
        self.assertEqual(digest, self.small["digest"])
        info = sk.inspect(ref, r.skopeo_args("", creds=creds))
        self.assertEqual(info["Layers"], [x["digest"] for x in self.small["layers"]])
        return ref

    def assert_fails(self, fn, *texts):
        with self.assertRaises(SkopeoError) as cm:
            fn()
        for t in texts:
            self.assertIn(t, cm.exception.stderr)
        return cm.exception.stderr

    def get(self, r, path, headers=None, ctx=None):
        if r.tls:
            c = http.client.HTTPSConnection(r.host, context=ctx or r.ssl_context(), timeout=10)
        else:
            c = http.client.HTTPConnection(r.host, timeout=10)
        try:
            c.request("GET", path, headers=headers or {})
            resp = c.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            c.close()


class Modes(Base):
    def test_http(self):
        with Registry("http") as r:
            self.assertTrue(r.url.startswith("http://127.0.0.1:"))
            status, headers, body = self.get(r, "/v2/")
            self.assertEqual((status, body), (200, b"{}"))
            self.assertEqual(headers["Docker-Distribution-Api-Version"], "registry/2.0")
            self.assert_pushed(r, "modes/http:1")
            self.assertIsNone(r.creds)
            self.assertEqual(r.skopeo_args("dest"), ["--dest-tls-verify=false", "--dest-no-creds"])

    def test_https(self):
        with Registry("https") as r:
            self.assertTrue(r.url.startswith("https://127.0.0.1:"))
            self.assertEqual(os.listdir(r.cert_dir), ["ca.crt"])
            self.assert_pushed(r, "modes/https:1")
            self.assert_fails(lambda: self.push(r, "modes/https:2", ["--dest-no-creds"]),
                              "x509: certificate signed by unknown authority")
            status, _, _ = self.get(r, "/v2/")
            self.assertEqual(status, 200)

    def test_mtls(self):
        with Registry("mtls") as r, tempfile.TemporaryDirectory() as ca_only:
            self.assertEqual(sorted(os.listdir(r.cert_dir)),
                             ["ca.crt", "client.cert", "client.key"])
            self.assert_pushed(r, "modes/mtls:1")
            shutil.copy(r.ca_cert, os.path.join(ca_only, "ca.crt"))
            self.assert_fails(lambda: self.push(r, "modes/mtls:2", ["--dest-cert-dir", ca_only]),
                              "remote error: tls: bad certificate")

    def test_basic(self):
        with Registry("basic") as r:
            with open(os.path.join(r.dir, "htpasswd")) as f:
                line = f.read()
            self.assertRegex(line, r"^alice:\$2b\$04\$[./A-Za-z0-9]{53}\n$")
            self.assert_pushed(r, "modes/basic:1")
            self.assert_fails(lambda: self.push(r, "modes/basic:2", ["--dest-tls-verify=false"]),
                              "unauthorized: authentication required")
            self.assert_fails(lambda: self.push(r, "modes/basic:2", [
                "--dest-tls-verify=false", "--dest-creds", "alice:wrong"]),
                "unauthorized: authentication required")
            status, headers, body = self.get(r, "/v2/")
            self.assertEqual(status, 401)
            self.assertEqual(headers["Www-Authenticate"], 'Basic realm="lading-test"')
            self.assertEqual(json.loads(body)["errors"][0]["code"], "UNAUTHORIZED")
            status, _, _ = self.get(r, "/v2/", {"Authorization": selftest.basic("alice",
                                                                                "wonderland")})
            self.assertEqual(status, 200)

    def test_basic_with_pure_python_bcrypt(self):
        # Where Python has no crypt module (3.13+), the harness's own bcrypt must do.
        with mock.patch("harness.htpasswd.bcrypt_libc", return_value=None):
            with Registry("basic", users={"bob": "b0b:pass word"}) as r:
                self.assert_pushed(r, "modes/purebcrypt:1")

    def test_basic_https(self):
        with Registry("basic+https") as r:
            self.assertEqual((r.transport, r.auth), ("https", "basic"))
            self.assert_pushed(r, "modes/basichttps:1")
            self.assert_fails(lambda: self.push(r, "modes/basichttps:2",
                                                ["--dest-cert-dir", r.cert_dir]),
                              "unauthorized: authentication required")

    def test_relative_and_absolute_upload_locations(self):
        for relative in (False, True):
            with Registry("http", relative_urls=relative) as r:
                c = http.client.HTTPConnection(r.host, timeout=10)
                try:
                    c.request("POST", "/v2/loc/x/blobs/uploads/", body=b"")
                    resp = c.getresponse()
                    resp.read()
                finally:
                    c.close()
                self.assertEqual(resp.status, 202)
                prefix = "" if relative else r.url
                self.assertTrue(resp.getheader("Location").startswith(
                    prefix + "/v2/loc/x/blobs/uploads/"), resp.getheader("Location"))

    def test_unknown_mode(self):
        with self.assertRaisesRegex(Exception, "unknown registry mode 'ftp'"):
            Registry("ftp")


class Lifecycle(Base):
    def test_stop_on_exception_kills_pid_and_removes_dir(self):
        with self.assertRaises(ZeroDivisionError):
            with Registry("token") as r:
                pid, d = r.proc.pid, r.dir
                self.assertTrue(selftest.pid_alive(pid))
                1 / 0
        self.assertFalse(selftest.pid_alive(pid))
        self.assertFalse(os.path.exists(d))
        self.assertIsNone(r.token_server._httpd)

    def test_given_dir_is_kept_on_stop(self):
        with tempfile.TemporaryDirectory() as d:
            with Registry("http", directory=d) as r:
                self.assertEqual(r.dir, d)
            self.assertTrue(os.path.exists(os.path.join(d, "registry.log")))
            self.assertFalse(selftest.pid_alive(r.proc.pid))

    def test_config_listens_on_loopback_only(self):
        with Registry("http") as r:
            with open(os.path.join(r.dir, "config.yml")) as f:
                cfg = json.load(f)
            self.assertEqual(cfg["http"]["addr"], f"127.0.0.1:{r.port}")


class Token(Base):
    @staticmethod
    def jwt_parts(token):
        def dec(s):
            return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
        h, c, s = token.split(".")
        return json.loads(dec(h)), json.loads(dec(c)), dec(s), f"{h}.{c}".encode()

    def token_get(self, r, query, auth=None):
        c = http.client.HTTPConnection("127.0.0.1", r.token_server.port, timeout=10)
        try:
            c.request("GET", "/token?" + urllib.parse.urlencode(query, doseq=True),
                      headers={"Authorization": auth} if auth else {})
            resp = c.getresponse()
            return resp.status, json.loads(resp.read())
        finally:
            c.close()

    def token_post(self, r, form):
        c = http.client.HTTPConnection("127.0.0.1", r.token_server.port, timeout=10)
        try:
            c.request("POST", "/token", body=urllib.parse.urlencode(form),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
            resp = c.getresponse()
            return resp.status, json.loads(resp.read())
        finally:
            c.close()

    def test_push_pull_and_log(self):
        with Registry("token") as r:
            self.assert_pushed(r, "tok/small:1")
            log = r.token_server.log()
            first = log[0]
            self.assertEqual((first["method"], first["auth"], first["account"], first["status"]),
                             ("GET", "basic", "alice", 200))
            self.assertEqual(first["service"], "lading-test-registry")
            self.assertEqual(first["scopes"], ["repository:tok/small:pull,push"])
            self.assertEqual(first["granted"], [{"type": "repository", "name": "tok/small",
                                                 "actions": ["pull", "push"]}])
            self.assertNotIn("wonderland", json.dumps(log))
            with open(r.token_server.log_path) as f:
                self.assertEqual(len(f.readlines()), len(log))

    def test_anonymous_and_wrong_password(self):
        with Registry("token") as r:
            self.assert_fails(lambda: self.push(r, "tok/anon:1", ["--dest-tls-verify=false"]),
                              "denied: requested access to the resource is denied")
            anon = r.token_server.log()[-1]
            self.assertEqual((anon["auth"], anon["account"]), ("none", None))
            self.assertEqual(anon["granted"][0]["actions"], [])
            self.assert_fails(lambda: self.push(r, "tok/anon:1", [
                "--dest-tls-verify=false", "--dest-creds", "alice:nope"]),
                "invalid username/password: unauthorized: authentication failed: "
                "invalid username or password")

    def test_anonymous_pull_of_public_repo(self):
        with Registry("token") as r:
            self.push(r, "public/small:1", r.skopeo_args("dest"))
            _, digest = sk.inspect_raw(f"docker://{r.host}/public/small:1",
                                       r.skopeo_args("", creds=False))
            self.assertEqual(digest, self.small["digest"])
            self.assert_fails(lambda: self.push(r, "public/small:2", ["--dest-tls-verify=false"]),
                              "denied: requested access to the resource is denied")

    def test_per_user_rules(self):
        users = {"alice": "a-pass", "bob": "b-pass"}
        rules = [Rule("alice", "team/*", ["pull", "push"]), Rule("bob", "team/*", ["pull"])]
        with Registry("token", users=users, rules=rules) as r:
            self.push(r, "team/app:1", ["--dest-tls-verify=false", "--dest-creds", "alice:a-pass"])
            bob = ["--tls-verify=false", "--creds", "bob:b-pass"]
            self.assertEqual(sk.inspect_raw(f"docker://{r.host}/team/app:1", bob)[1],
                             self.small["digest"])
            self.assert_fails(lambda: self.push(r, "team/app:2", [
                "--dest-tls-verify=false", "--dest-creds", "bob:b-pass"]),
                "denied: requested access to the resource is denied")
            pushes = [e for e in r.token_server.log()
                      if e["account"] == "bob" and "push" in e["scopes"][0]]
            self.assertEqual(pushes[0]["granted"][0]["actions"], ["pull"])
            self.assert_fails(lambda: self.push(r, "other/app:1", [
                "--dest-tls-verify=false", "--dest-creds", "alice:a-pass"]),
                "denied: requested access to the resource is denied")

    def test_deny_status(self):
        rules = [Rule("alice", "mine/*", ["pull", "push"])]
        with Registry("token", rules=rules, token_options={"deny_status": 403}) as r:
            self.push(r, "mine/app:1", r.skopeo_args("dest"))
            self.assert_fails(lambda: self.push(r, "theirs/app:1", r.skopeo_args("dest")),
                              "invalid status code from registry 403 (Forbidden)")
            status, body = self.token_get(r, {"service": "lading-test-registry",
                                              "scope": "repository:theirs/app:pull,push"},
                                          selftest.basic("alice", "wonderland"))
            self.assertEqual(status, 403)
            self.assertEqual(body["errors"][0]["code"], "DENIED")
            self.assertEqual(body["errors"][0]["message"],
                             "requested access to the resource is denied: "
                             "repository:theirs/app:pull,push (missing pull,push)")

    def test_kid_and_x5c_headers(self):
        for mode in ("x5c", "kid"):
            with Registry("token", token_options={"key_mode": mode}) as r:
                self.assert_pushed(r, f"tok/{mode}:1")
                tok, _, _ = r.token_server.issue("alice", [("repository", "x/y", ["pull"])])
                header, claims, _, _ = self.jwt_parts(tok)
                self.assertEqual(header["alg"], "RS256")
                if mode == "kid":
                    self.assertEqual(header["kid"], r.token_server.kid)
                    self.assertRegex(header["kid"], r"^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$")
                    self.assertNotIn("x5c", header)
                else:
                    self.assertEqual(len(header["x5c"]), 1)
                self.assertEqual((claims["iss"], claims["aud"], claims["sub"]),
                                 ("lading-test-token-issuer", "lading-test-registry", "alice"))

    def test_signature_verifies_with_openssl(self):
        with Registry("token") as r, tempfile.TemporaryDirectory() as d:
            tok, _, _ = r.token_server.issue("alice", [("repository", "x/y", ["pull"])])
            _, _, sig, signed = self.jwt_parts(tok)
            paths = {n: os.path.join(d, n) for n in ("msg", "sig", "pub")}
            for n, data in (("msg", signed), ("sig", sig)):
                with open(paths[n], "wb") as f:
                    f.write(data)
            subprocess.run(["openssl", "x509", "-in", r.token_server.cert, "-noout", "-pubkey",
                            "-out", paths["pub"]], check=True)
            out = subprocess.run(["openssl", "dgst", "-sha256", "-verify", paths["pub"],
                                  "-signature", paths["sig"], paths["msg"]],
                                 capture_output=True, text=True)
            self.assertEqual(out.stdout.strip(), "Verified OK")
            with open(paths["msg"], "ab") as f:
                f.write(b"x")
            out = subprocess.run(["openssl", "dgst", "-sha256", "-verify", paths["pub"],
                                  "-signature", paths["sig"], paths["msg"]],
                                 capture_output=True, text=True)
            self.assertEqual(out.stdout.strip(), "Verification failure")

    def test_oauth_post_refresh_and_use(self):
        with Registry("token") as r:
            self.push(r, "tok/oauth:1", r.skopeo_args("dest"))
            scope = "repository:tok/oauth:pull"
            status, body = self.token_post(r, {
                "grant_type": "password", "username": "alice", "password": "wonderland",
                "service": "lading-test-registry", "scope": scope, "client_id": "lading",
                "access_type": "offline"})
            self.assertEqual(status, 200)
            self.assertEqual((body["scope"], body["expires_in"]), (scope, 300))
            self.assertTrue(body["refresh_token"].startswith("rt-"))
            self.assertNotIn("token", body)
            status, body2 = self.token_post(r, {
                "grant_type": "refresh_token", "refresh_token": body["refresh_token"],
                "service": "lading-test-registry", "scope": scope, "client_id": "lading"})
            self.assertEqual(status, 200)
            self.assertEqual(body2["refresh_token"], body["refresh_token"])
            st, _, data = self.get(r, "/v2/tok/oauth/tags/list",
                                   {"Authorization": "Bearer " + body2["access_token"]})
            self.assertEqual((st, json.loads(data)), (200, {"name": "tok/oauth", "tags": ["1"]}))
            log = r.token_server.log()[-2:]
            self.assertEqual([(e["grant_type"], e["account"], e["refresh_token_issued"])
                              for e in log],
                             [("password", "alice", True), ("refresh_token", "alice", True)])
            self.assertNotIn(body["refresh_token"], json.dumps(r.token_server.log()))
            status, body = self.token_post(r, {"grant_type": "refresh_token",
                                               "refresh_token": "rt-bogus"})
            self.assertEqual((status, body["error"]), (401, "invalid_grant"))
            status, body = self.token_post(r, {"grant_type": "password", "username": "alice",
                                               "password": "bad"})
            self.assertEqual((status, body["error"]), (401, "invalid_grant"))
            status, body = self.token_post(r, {"grant_type": "client_credentials"})
            self.assertEqual((status, body["error"]), (400, "unsupported_grant_type"))

    def test_get_offline_token_and_no_oauth_post(self):
        with Registry("token", token_options={"oauth_post": False}) as r:
            status, body = self.token_get(r, {"service": "lading-test-registry",
                                              "scope": "repository:a/b:pull",
                                              "offline_token": "true", "client_id": "lading"},
                                          selftest.basic("alice", "wonderland"))
            self.assertEqual(status, 200)
            self.assertEqual(body["token"], body["access_token"])
            self.assertTrue(body["refresh_token"].startswith("rt-"))
            status, _ = self.token_get(r, {"scope": "repository:a/b:pull",
                                           "offline_token": "true"})
            self.assertEqual(status, 200)
            self.assertFalse(r.token_server.log()[-1]["refresh_token_issued"])
            status, _ = self.token_post(r, {"grant_type": "password", "username": "alice",
                                            "password": "wonderland"})
            self.assertEqual(status, 404)

    def test_expired_token_is_refused(self):
        with Registry("token") as r:
            self.push(r, "tok/exp:1", r.skopeo_args("dest"))
            scopes = [("repository", "tok/exp", ["pull"])]
            good, _, _ = r.token_server.issue("alice", scopes)
            r.token_server.ttl = -1     # exp is in the past, beyond the registry's leeway
            old, _, _ = r.token_server.issue("alice", scopes)
            st, _, _ = self.get(r, "/v2/tok/exp/tags/list", {"Authorization": "Bearer " + good})
            self.assertEqual(st, 200)
            st, headers, _ = self.get(r, "/v2/tok/exp/tags/list",
                                      {"Authorization": "Bearer " + old})
            self.assertEqual(st, 401)
            self.assertIn('error="invalid_token"', headers["Www-Authenticate"])

    def test_token_https(self):
        with Registry("token+https") as r:
            self.assertTrue(r.token_server.realm.startswith("https://127.0.0.1:"))
            self.assert_pushed(r, "tok/https:1")


class Bcrypt(unittest.TestCase):
    def test_pure_matches_libc_and_known_vector(self):
        salt = bytes(range(16))
        libc = htpasswd.bcrypt_libc("pa:ss w\u00f6rd", salt)
        pure = htpasswd.bcrypt_pure("pa:ss w\u00f6rd", salt)
        if libc is not None:
            self.assertEqual(pure, libc)
        self.assertEqual(htpasswd.salt_of(pure), salt)
        # OpenBSD's test vector ("U*U", cost 5).
        vec = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
        got = htpasswd.bcrypt_pure("U*U", htpasswd.salt_of(vec), cost=5)
        self.assertEqual(got[4:], vec[4:])


if __name__ == "__main__":
    selftest.main()
