# SPDX-License-Identifier: Apache-2.0
"""A tiny S3 on 127.0.0.1 for the s3:// context tests: path-style GetObject only, with its own
SigV4 verification (hmac, hashlib; nothing shared with lading's C code) and S3's XML errors."""

import hashlib
import hmac
import re
import urllib.parse

from cachelib import LoopbackFake

AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                     r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$")


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signature(secret, amz_date, region, creq):
    date = amz_date[:8]
    scope = f"{date}/{region}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = _hmac(("AWS4" + secret).encode(), date)
    for part in (region, "s3", "aws4_request"):
        k = _hmac(k, part)
    return hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()


class FakeS3(LoopbackFake):
    """objects: {(bucket, key): bytes}; users: {access key: (secret, session token or None)};
    public: set of (bucket, key) readable without credentials."""

    def __init__(self, objects, users, public=()):
        self.objects, self.users, self.public = objects, users, set(public)
        self.requests = []  # (path, access key or None, region, signed headers, status)
        self.start()

    def reply(self, h, status, body, record):
        self.requests.append(record + (status,))
        h.send_response(status)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Content-Type", "application/xml" if status >= 400 else
                      "application/octet-stream")
        h.end_headers()
        h.wfile.write(body)

    def error(self, h, status, code, message, record):
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{message}</Message><RequestId>1</RequestId></Error>").encode()
        self.reply(h, status, body, record)

    def check_auth(self, h, path):
        """(None, record) when the request is correctly signed or anonymous, else
        ((status, code, message), record)."""
        auth = h.headers.get("Authorization")
        if auth is None:
            return None, (path, None, None, None)
        m = AUTH_RE.match(auth)
        if not m:
            return (400, "AuthorizationHeaderMalformed", "bad header"), (path, None, None, None)
        ak, date, region, signed, sig = m.groups()
        record = (path, ak, region, signed)
        if ak not in self.users:
            return (403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not "
                    "exist in our records."), record
        secret, token = self.users[ak]
        names = signed.split(";")
        amz_date = h.headers.get("x-amz-date", "")
        payload = h.headers.get("x-amz-content-sha256", "")
        if ("host" not in names or "x-amz-date" not in names or names != sorted(names)
                or not amz_date.startswith(date) or not payload):
            return (403, "AccessDenied", "host and x-amz-date must be signed"), record
        if token is not None and h.headers.get("x-amz-security-token") != token:
            return (403, "InvalidToken", "The provided token is malformed or otherwise "
                    "invalid."), record
        lines = [f"{n}:{' '.join((h.headers.get(n) or '').split())}" for n in names]
        creq = "\n".join(["GET", path, "", *lines, "", signed, payload])
        if not hmac.compare_digest(signature(secret, amz_date, region, creq), sig):
            return (403, "SignatureDoesNotMatch", "The request signature we calculated does "
                    "not match the signature you provided. Check your key and signing "
                    "method."), record
        return None, record

    def serve(self, h):
        path = h.path.split("?", 1)[0]
        problem, record = self.check_auth(h, path)
        parts = urllib.parse.unquote(path).lstrip("/").split("/", 1)
        obj = (parts[0], parts[1] if len(parts) > 1 else "")
        if problem is None and record[1] is None and obj not in self.public:
            problem = (403, "AccessDenied", "Access Denied")
        if problem:
            return self.error(h, *problem, record)
        if obj not in self.objects:
            return self.error(h, 404, "NoSuchKey", "The specified key does not exist.", record)
        self.reply(h, 200, self.objects[obj], record)
