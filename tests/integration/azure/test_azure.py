#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""An Azure Blob Storage context end to end: the executor in sandbox mode downloads
http://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB through an HTTP proxy on 127.0.0.1
(http_proxy: no DNS name is faked), which plays Azure and checks the Shared Key signature with
its own Python HMAC; the build pushes to a real registry and the image's files are checked.
A wrong key gives Azure's AuthenticationFailed in one line and pushes nothing; a missing blob
gives BlobNotFound; without AZURE_STORAGE_ACCESS_KEY a public blob is fetched unsigned."""

import base64
import hashlib
import hmac
import http.server
import os
import sys
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cache"))

from cachelib import build_remote, context_tgz, error_line, pushed, run_main  # noqa: E402

ACCOUNT = "ladingtest"
KEY = base64.b64encode(b"lading azure test key, 32 bytes!").decode()
HOST = f"{ACCOUNT}.blob.core.windows.net"
DOCKERFILE = """ARG BASE
FROM $BASE
COPY hello.txt /app/hello.txt
RUN cat /app/hello.txt > /out.txt
"""
CONTEXT_FILES = {"Dockerfile": DOCKERFILE, "hello.txt": "hello from azure\n"}


def error_xml(code, message):
    return (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>").encode()


class FakeAzure:
    """A forward proxy that answers for HOST itself: blobs {path: bytes}; public paths need no
    signature."""

    def __init__(self, blobs, public=()):
        self.blobs, self.public = blobs, set(public)
        self.requests = []  # (path, "signed" | "anonymous" | what was wrong, status)
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.get(self)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.proxy = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def check(self, h, path):
        auth = h.headers.get("Authorization")
        if auth is None:
            return "anonymous"
        date, version = h.headers.get("x-ms-date"), h.headers.get("x-ms-version")
        if not date or not version:
            return "missing x-ms-date or x-ms-version"
        sts = "GET\n" + "\n" * 11 + f"x-ms-date:{date}\nx-ms-version:{version}\n/{ACCOUNT}{path}"
        sig = base64.b64encode(hmac.new(base64.b64decode(KEY), sts.encode(),
                                        hashlib.sha256).digest()).decode()
        return "signed" if auth == f"SharedKey {ACCOUNT}:{sig}" else "bad signature"

    def reply(self, h, status, body, path, how):
        self.requests.append((path, how, status))
        h.send_response(status)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def get(self, h):
        url = urllib.parse.urlsplit(h.path)
        if url.netloc != HOST:
            return self.reply(h, 502, b"not a blob host", h.path, "proxy refused")
        how = self.check(h, url.path)
        if how not in ("signed", "anonymous") or (how == "anonymous" and
                                                   url.path not in self.public):
            return self.reply(h, 403, error_xml(
                "AuthenticationFailed", "Server failed to authenticate the request."),
                url.path, how)
        if url.path not in self.blobs:
            return self.reply(h, 404, error_xml("BlobNotFound",
                                                "The specified blob does not exist."),
                              url.path, how)
        self.reply(h, 200, self.blobs[url.path], url.path, how)


def build(ct, fake, url, tag, key):
    env = {"http_proxy": fake.proxy, "NO_PROXY": "127.0.0.1,localhost"}
    if key is not None:
        env["AZURE_STORAGE_ACCESS_KEY"] = key
    return build_remote(ct, url, tag, env, drop=("AZURE_",))


def run(t, ct):
    tgz = context_tgz(CONTEXT_FILES)
    fake = FakeAzure({"/ctx/build%20context.tar.gz": tgz, "/pub/c.tar.gz": tgz},
                     public=["/pub/c.tar.gz"])
    try:
        url = f"http://{HOST}/ctx/build%20context.tar.gz"
        res = build(ct, fake, url, "signed", KEY)
        t.eq(res.status, 0, "Shared Key: the build succeeds", res.summary())
        t.eq(fake.requests[-1:], [("/ctx/build%20context.tar.gz", "signed", 200)],
             "Shared Key: one GET with a valid signature", fake.requests)
        if res.status == 0:
            t.eq(ct.files("signed"), {"/app/hello.txt": "hello from azure\n"},
                 "Shared Key: the image has the context's files")
        t.ok(KEY not in res.stderr and "SharedKey" not in res.stderr,
             "Shared Key: neither the key nor the signature is in the log")

        wrong = base64.b64encode(b"not the key of this account.....").decode()
        res = build(ct, fake, url, "wrong", wrong)
        t.eq(res.status, 1, "wrong key: the build fails", res.summary())
        t.eq(error_line(res), "error: get the build context from Azure Blob Storage account "
             f"'{ACCOUNT}', blob 'ctx/build%20context.tar.gz': HTTP 403 AuthenticationFailed: "
             "Server failed to authenticate the request.", "wrong key: the error line")
        t.ok(not pushed(ct, "wrong"), "wrong key: nothing pushed")

        res = build(ct, fake, f"http://{HOST}/ctx/missing.tar.gz", "missing", KEY)
        t.eq(error_line(res), "error: get the build context from Azure Blob Storage account "
             f"'{ACCOUNT}', blob 'ctx/missing.tar.gz': HTTP 404 BlobNotFound: The specified blob "
             "does not exist.", "missing blob: the error line", res.summary())

        res = build(ct, fake, f"http://{HOST}/pub/c.tar.gz", "public", None)
        t.eq(res.status, 0, "no key: a public blob builds", res.summary())
        t.eq(fake.requests[-1:], [("/pub/c.tar.gz", "anonymous", 200)],
             "no key: one unsigned GET", fake.requests)
    finally:
        fake.stop()


def main():
    return run_main("azure", run)


if __name__ == "__main__":
    sys.exit(main())
