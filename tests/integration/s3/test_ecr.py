#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Kaniko's built-in ECR credentials: creds-lookup (creds_lookup() with the ECR provider, as the
executor registers it) asks a fake ECR API on 127.0.0.1 (AWS_ENDPOINT_URL_ECR) for
GetAuthorizationToken. The fake checks the request as ECR would: POST /, the JSON 1.1 content
type, the X-Amz-Target, body {}, and the SigV4 signature for service "ecr" in the host's region
(verified here with hmac and hashlib, nothing shared with lading's C code), and the session
token of temporary credentials (ECS, from fake_aws.py). A real ECR host cannot be reached from
a test, so the push with these credentials is not exercised here (basic auth pushes are tested
elsewhere)."""

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cache"))
sys.path.insert(0, HERE)

from cachelib import LoopbackFake, Tap, clean_env  # noqa: E402
from fake_aws import FakeAWS  # noqa: E402

HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
HOST_CN = "210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn"
AK, SECRET = "AKIDECRTEST", "ecr/Secret+Key"
ECS_CREDS = ("ASIAECSTEMP", "ecs/Secret+Temp", "IQoJb3JpZ2luX2VjECS+token")
ECS_AUTH = "Bearer eks-pod-identity-token-123"
PASSWORD = "eyJwYXlsb2FkIjoiZWNyLXRva2VuIn0"
TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/ecr/aws4_request, "
                     r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$")


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signature(secret, amz_date, region, creq):
    scope = f"{amz_date[:8]}/{region}/ecr/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = _hmac(("AWS4" + secret).encode(), amz_date[:8])
    for part in (region, "ecr", "aws4_request"):
        k = _hmac(k, part)
    return hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()


class FakeECR(LoopbackFake):
    """users: {access key: (secret, session token or None)}."""

    METHODS = ("POST",)

    def __init__(self, users):
        self.users = users
        self.requests = []  # (region, access key, "ok" or what was wrong)
        self.start()

    def reply(self, h, status, obj, record):
        self.requests.append(record)
        data = json.dumps(obj).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/x-amz-json-1.1")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def problem(self, h, body):
        """(type, message) when the request is not what ECR accepts, else None."""
        if h.path != "/" or h.headers.get("Content-Type") != "application/x-amz-json-1.1":
            return "SerializationException", "bad path or content type"
        if h.headers.get("X-Amz-Target") != TARGET or body != b"{}":
            return "UnknownOperationException", "bad target or body"
        m = AUTH_RE.match(h.headers.get("Authorization") or "")
        if not m:
            return "MissingAuthenticationTokenException", "no SigV4 Authorization for ecr"
        ak, date, region, signed, sig = m.groups()
        if ak not in self.users:
            return "UnrecognizedClientException", "The security token included in the " \
                "request is invalid."
        secret, token = self.users[ak]
        names = signed.split(";")
        amz_date = h.headers.get("X-Amz-Date", "")
        if (names != sorted(names) or not {"host", "x-amz-date", "x-amz-target"} <= set(names)
                or not amz_date.startswith(date)):
            return "IncompleteSignatureException", "host, x-amz-date and x-amz-target " \
                "must be signed"
        if token is not None and ("x-amz-security-token" not in names
                                  or h.headers.get("X-Amz-Security-Token") != token):
            return "UnrecognizedClientException", "bad session token"
        lines = [f"{n}:{' '.join((h.headers.get(n) or '').split())}" for n in names]
        creq = "\n".join(["POST", "/", "", *lines, "", signed,
                          hashlib.sha256(body).hexdigest()])
        if not hmac.compare_digest(signature(secret, amz_date, region, creq), sig):
            return "InvalidSignatureException", "The request signature we calculated does " \
                "not match the signature you provided."
        return None

    def serve(self, h):
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        m = AUTH_RE.match(h.headers.get("Authorization") or "")
        record = (m.group(3), m.group(1)) if m else (None, None)
        bad = self.problem(h, body)
        if bad:
            return self.reply(h, 400, {"__type": bad[0], "message": bad[1]}, record + (bad[0],))
        token = base64.b64encode(f"AWS:{PASSWORD}".encode()).decode()
        self.reply(h, 200, {"authorizationData": [{
            "authorizationToken": token, "expiresAt": 1.7649e9,
            "proxyEndpoint": f"https://{HOST}"}]}, record + ("ok",))


def lookup(binary, env, *hosts):
    base = {"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
            "AWS_CONFIG_FILE": "/nonexistent/config", "AWS_EC2_METADATA_DISABLED": "true"}
    full = {k: v for k, v in clean_env().items() if not k.startswith(("AWS_", "CI_"))}
    full.update(base)
    full.update(env)
    p = subprocess.run([binary, *hosts], env=full, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def creds_text(host, source):
    return f"user=AWS\npassword={PASSWORD}\nsource=credentials for '{host}' from ECR " \
        f"GetAuthorizationToken (AWS credentials from {source})\n"


def main():
    t = Tap()
    binary = sys.argv[1]
    ecr = FakeECR({AK: (SECRET, None), ECS_CREDS[0]: (ECS_CREDS[1], ECS_CREDS[2])})
    aws = FakeAWS("unused", ECS_AUTH, ("A", "S", "T"), ECS_CREDS, ("A", "S", "T"))
    tmp = tempfile.mkdtemp(prefix="lading-ecr-")
    try:
        keys = {"AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SECRET,
                "AWS_ENDPOINT_URL_ECR": ecr.endpoint}

        rc, out, err = lookup(binary, keys, HOST, HOST)
        t.eq(rc, 0, "environment keys: exit status", err)
        t.eq(out, creds_text(HOST, "environment") * 2, "environment keys: credentials twice")
        t.eq(ecr.requests, [("eu-west-1", AK, "ok")], "one signed request, cached after")
        t.ok(PASSWORD not in err, "the password is not logged")

        ecr.requests.clear()
        rc, out, err = lookup(binary, dict(keys, AWS_ENDPOINT_URL_ECR="",
                                           AWS_ENDPOINT_URL=ecr.endpoint), HOST_CN)
        t.eq((rc, out), (0, creds_text(HOST_CN, "environment")), "AWS_ENDPOINT_URL, China host",
             err)
        t.eq(ecr.requests, [("cn-north-1", AK, "ok")], "China host: signed for its region")

        ecr.requests.clear()
        token_file = os.path.join(tmp, "ecs-token")
        with open(token_file, "w") as f:
            f.write(ECS_AUTH + "\n")
        rc, out, err = lookup(binary, {
            "AWS_ENDPOINT_URL_ECR": ecr.endpoint,
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": aws.endpoint + "/ecs/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": token_file}, HOST)
        t.eq((rc, out), (0, creds_text(HOST, "ECS container endpoint")),
             "ECS temporary credentials", err)
        t.eq(ecr.requests, [("eu-west-1", ECS_CREDS[0], "ok")], "ECS: session token checked")

        ecr.requests.clear()
        rc, out, err = lookup(binary, dict(keys, AWS_SECRET_ACCESS_KEY="wrong"), HOST)
        t.eq((rc, out), (1, f"error: get credentials for '{HOST}': ECR GetAuthorizationToken "
                            f"at '{ecr.endpoint}/': HTTP 400 InvalidSignatureException: The "
                            "request signature we calculated does not match the signature you "
                            "provided.\n"), "wrong secret: one error line", err)

        ecr.requests.clear()
        rc, out, err = lookup(binary, {"AWS_ENDPOINT_URL_ECR": ecr.endpoint}, HOST)
        t.eq((rc, out), (0, f"user=\npassword=\nsource=no credentials for '{HOST}' in "
                            "config.json (anonymous)\n"), "no AWS credentials: anonymous", err)
        t.eq(ecr.requests, [], "no AWS credentials: no request")

        rc, out, err = lookup(binary, keys, "registry.example:5000")
        t.eq((rc, out), (0, "user=\npassword=\nsource=no credentials for "
                            "'registry.example:5000' in config.json (anonymous)\n"),
             "not an ECR host", err)
        t.eq(ecr.requests, [], "not an ECR host: no request")
    finally:
        ecr.stop()
        aws.stop()
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
