#!/usr/bin/env python3
"""A git smart-HTTP server for tests: `git http-backend` run as a CGI program behind
http.server on 127.0.0.1 (a free port). Paths:
  /REPO...           served by http-backend from root (protocol v2 when the client asks)
  /corrupt/REPO...   the same, with one byte of the packfile flipped in fetch responses
  /notgit/...        an HTML page (a web server that is not git)
  /v0/REPO...        the same as /REPO, without the Git-Protocol header (protocol v0 only)
  /auth/REPO...      the same as /REPO, for HTTP basic auth as user:secret only (else 401)
  /moved/REPO...     a 301 redirect to /REPO... (a repository that moved)
"""
import base64
import http.server
import os
import subprocess
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    root = None
    log = None

    def log_message(self, fmt, *args):
        if self.log is not None:
            self.log.append(fmt % args)

    def _notgit(self):
        body = b"<html><body>not a git server</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _plain(self, status, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _backend(self):
        path, _, query = self.path.partition("?")
        if path.startswith("/moved/"):
            return self._plain(301, [("Location", self.path[len("/moved"):])])
        if path.startswith("/auth/"):
            want = "Basic " + base64.b64encode(b"user:secret").decode()
            if self.headers.get("Authorization") != want:
                return self._plain(401, [("WWW-Authenticate", 'Basic realm="git"')])
            path = path[len("/auth"):]
        v0 = path.startswith("/v0/")
        if v0:
            path = path[len("/v0"):]
        corrupt = path.startswith("/corrupt/")
        if corrupt:
            path = path[len("/corrupt"):]
        if path.startswith("/notgit/"):
            return self._notgit()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        if self.headers.get("Git-Protocol") and not v0:
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        p = subprocess.run(["git", "http-backend"], input=body, capture_output=True, env=env,
                           timeout=60)
        head, _, out = p.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, out = p.stdout.partition(b"\n\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        if corrupt and b"packfile\n" in out:
            at = out.find(b"\x01PACK")
            if at >= 0 and at + 40 < len(out):
                out = out[:at + 40] + bytes([out[at + 40] ^ 0xff]) + out[at + 41:]
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = _backend
    do_POST = _backend


class GitServer:
    """with GitServer(root) as s: s.url -> http://127.0.0.1:PORT"""

    def __init__(self, root):
        self.root = root
        self.log = []

    def __enter__(self):
        handler = type("H", (Handler,), {"root": self.root, "log": self.log})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
