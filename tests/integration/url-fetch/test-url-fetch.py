#!/usr/bin/env python3
"""url_fetch against a local HTTP server: content, digest, Last-Modified, redirects, retries
after 503, 404 and size limits."""
import hashlib
import http.server
import os
import subprocess
import sys
import tempfile
import threading

tool = sys.argv[1]
body = b"hello from the server\n" * 100
hits = {"flaky": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path.startswith("/file.txt"):
            self.send_response(200)
            self.send_header("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/file.txt")
            self.end_headers()
        elif self.path == "/flaky":
            hits["flaky"] += 1
            if hits["flaky"] < 3:
                self.send_response(503)
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(404)
            self.end_headers()


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{srv.server_address[1]}"
n = failed = 0


def check(cond, name, detail=""):
    global n, failed
    n += 1
    print(("ok" if cond else "not ok"), n, "-", name)
    if not cond:
        failed += 1
        print("#", detail)


def fetch(path, max_bytes=0, retries=0):
    out = tempfile.NamedTemporaryFile(delete=False)
    p = subprocess.run([tool, base + path, out.name, str(max_bytes), str(retries)],
                       capture_output=True, text=True)
    data = open(out.name, "rb").read()
    os.unlink(out.name)
    return p.returncode, p.stdout.strip(), data


want_digest = "sha256:" + hashlib.sha256(body).hexdigest()
rc, out, data = fetch("/file.txt?x=1")
check(rc == 0 and data == body, "content downloaded", out)
check(out == f"{len(body)} {want_digest} 1445412480", "size, digest and Last-Modified", out)
rc, out, data = fetch("/redirect")
check(rc == 0 and data == body, "redirect followed", out)
rc, out, data = fetch("/flaky", retries=3)
check(rc == 0 and data == body and hits["flaky"] == 3, "503 retried until success", out)
check(out.endswith(" -1"), "no Last-Modified gives -1", out)
rc, out, data = fetch("/missing")
check(rc == 1 and out == f"error: download '{base}/missing': HTTP 404", "404 is an error", out)
rc, out, data = fetch("/file.txt", max_bytes=100)
check(rc == 1 and out == f"error: download '{base}/file.txt': larger than 100 bytes",
      "size limit enforced", out)
hits["flaky"] = 0
rc, out, data = fetch("/flaky", retries=0)
check(rc == 1 and "HTTP 503" in out, "no retries left: the server error is reported", out)
srv.shutdown()
print(f"1..{n}")
sys.exit(1 if failed else 0)
