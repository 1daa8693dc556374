# SPDX-License-Identifier: Apache-2.0
"""A fault-injecting HTTP/1.1 reverse proxy to put in front of a registry.

Every request is recorded (method, path, headers with secrets redacted, sizes, status, the
fault applied, the client connection it came on), so tests can assert retries, `Range`
requests, `?mount=` uploads, and that no blob was uploaded twice. Faults are programmed per
test, in order of addition; the first fault that matches a request and still has budget
fires:

  reset     close the client connection with a TCP RST. Default: right after the request
            head, nothing forwarded. forward=true: forward the request and reset instead of
            answering (the registry did the work, the client never hears). after_bytes=N:
            answer, then reset after N bytes of the body.
  status    answer `status` without forwarding, with a registry-style JSON error body
            (code/message overridable), optional `headers` and `retry_after` (seconds).
  truncate  forward, send the full headers but only `bytes` body bytes, then close (FIN).
  corrupt   forward, flip bits `mask` (default 0x01) of the body byte at `offset` (default 0).
  delay     sleep `seconds`, then forward normally.
  redirect  answer 307 to a second URL on this proxy under another host name (`localhost`),
            which serves the original request; tests check that the redirected request did
            not carry Authorization (it is recorded with storage=true).

Matching: `method`, `path` (regular expression searched in the request target), `headers`
({name: regex}); `skip` lets that many matching requests through first; `times` is how often
the fault fires (0: always). Bodies are streamed in 64 KiB pieces both ways: memory use does
not depend on blob size.
"""

import itertools
import json
import re
import secrets
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .util import LOOPBACK, HarnessError

CHUNK = 64 * 1024
MAX_HEAD = 64 * 1024

ACTIONS = ("reset", "status", "truncate", "corrupt", "delay", "redirect")

_SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie")
_HOP_HEADERS = ("connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade")

_ERROR_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "DENIED", 404: "NAME_UNKNOWN",
                405: "UNSUPPORTED", 416: "RANGE_INVALID", 429: "TOOMANYREQUESTS",
                500: "UNKNOWN", 502: "UNAVAILABLE", 503: "UNAVAILABLE", 504: "UNAVAILABLE"}
_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
            307: "Temporary Redirect", 400: "Bad Request", 401: "Unauthorized",
            403: "Forbidden", 404: "Not Found", 416: "Range Not Satisfiable",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}


class Fault:
    """One programmed fault; see the module doc for fields."""

    _ids = itertools.count(1)

    def __init__(self, action, method=None, path=None, headers=None, skip=0, times=1, **params):
        if action not in ACTIONS:
            raise HarnessError(f"unknown fault action '{action}' (known: {', '.join(ACTIONS)})")
        self.id = next(Fault._ids)
        self.action = action
        self.method = method.upper() if method else None
        self.path = path
        self._path_re = re.compile(path) if path else None
        self.headers = dict(headers or {})
        self._header_res = {k.lower(): re.compile(v) for k, v in self.headers.items()}
        self.skip = int(skip)
        self.times = int(times)
        self.params = params
        self.seen = 0
        self.fired = 0
        if action == "status" and "status" not in params:
            raise HarnessError("fault 'status' needs a 'status' code")
        if action == "truncate" and "bytes" not in params:
            raise HarnessError("fault 'truncate' needs 'bytes'")
        if action == "delay" and "seconds" not in params:
            raise HarnessError("fault 'delay' needs 'seconds'")

    def matches(self, method, target, headers):
        if self.method and method != self.method:
            return False
        if self._path_re and not self._path_re.search(target):
            return False
        for name, rx in self._header_res.items():
            if not any(k.lower() == name and rx.search(v) for k, v in headers):
                return False
        return True

    def to_json(self):
        d = {"id": self.id, "action": self.action, "method": self.method, "path": self.path,
             "headers": self.headers, "skip": self.skip, "times": self.times,
             "seen": self.seen, "fired": self.fired}
        d.update(self.params)
        return d

    @classmethod
    def from_json(cls, d):
        d = dict(d)
        for k in ("id", "seen", "fired"):
            d.pop(k, None)
        return cls(**d)


def redact_headers(headers):
    """{lower-case name: value} with credentials reduced to their scheme."""
    out = {}
    for k, v in headers:
        k = k.lower()
        if k in _SECRET_HEADERS:
            v = v.split(" ", 1)[0] + " <redacted>" if " " in v else "<redacted>"
        out[k] = v if k not in out else out[k] + ", " + v
    return out


def _header(headers, name):
    name = name.lower()
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


class _Reader:
    """Buffered reads from a socket: lines for heads, pieces for bodies."""

    def __init__(self, sock):
        self.f = sock.makefile("rb", buffering=CHUNK)

    def head(self):
        """(start line, [(name, value)]) or None at a clean EOF before any byte."""
        lines = []
        total = 0
        while True:
            line = self.f.readline(MAX_HEAD + 1)
            if not line:
                if lines:
                    raise ConnectionError("connection closed inside a message head")
                return None
            total += len(line)
            if total > MAX_HEAD:
                raise ConnectionError("message head too large")
            line = line.rstrip(b"\r\n")
            if not line:
                if not lines:
                    continue                # tolerate CRLF between messages
                break
            lines.append(line.decode("latin-1"))
        headers = []
        for h in lines[1:]:
            name, _, value = h.partition(":")
            headers.append((name.strip(), value.strip()))
        return lines[0], headers

    def body(self, framing, length=0):
        """Decoded body pieces for framing 'length', 'chunked', 'close' or 'none'."""
        if framing == "length":
            left = length
            while left > 0:
                data = self.f.read1(min(CHUNK, left))
                if not data:
                    raise ConnectionError(f"body ended {left} bytes early")
                left -= len(data)
                yield data
        elif framing == "chunked":
            while True:
                line = self.f.readline(1024)
                if not line.endswith(b"\n"):
                    raise ConnectionError("bad chunk header")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.f.readline(MAX_HEAD) not in (b"\r\n", b"\n", b""):
                        pass                # trailers are dropped
                    return
                left = size
                while left > 0:
                    data = self.f.read1(min(CHUNK, left))
                    if not data:
                        raise ConnectionError("chunk ended early")
                    left -= len(data)
                    yield data
                self.f.readline(16)
        elif framing == "close":
            while True:
                data = self.f.read1(CHUNK)
                if not data:
                    return
                yield data


def _framing(headers, is_response=False, method=None, status=None):
    if is_response and (method == "HEAD" or status in (204, 304) or 100 <= status < 200):
        return "none", 0
    te = _header(headers, "transfer-encoding")
    if te and "chunked" in te.lower():
        return "chunked", 0
    cl = _header(headers, "content-length")
    if cl is not None:
        return "length", int(cl)
    return ("close", 0) if is_response else ("none", 0)


def _frame(data, framing):
    if framing == "chunked":
        return b"%x\r\n" % len(data) + data + b"\r\n" if data else b""
    return data


def _reset(sock):
    """Close with RST instead of FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class _Abort(Exception):
    """Stop serving this client connection (after a reset or truncation)."""


class FaultProxy:
    """The proxy. upstream: base URL of the registry (http or https).

    tls: (cert, key) to serve HTTPS to clients. upstream_ca / upstream_client: trust and
    client certificate (cert, key) for an https upstream. storage_host: host name used in
    redirect faults (must differ from how clients address the proxy to count as another
    host). log_path: also append each record as a JSON line there.
    """

    def __init__(self, upstream, tls=None, upstream_ca=None, upstream_client=None,
                 storage_host="localhost", log_path=None, name="proxy"):
        u = urllib.parse.urlsplit(upstream)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise HarnessError(f"bad upstream URL '{upstream}'")
        self.upstream = upstream
        self.up_host = u.hostname
        self.up_port = u.port or (443 if u.scheme == "https" else 80)
        self.up_ctx = None
        if u.scheme == "https":
            self.up_ctx = ssl.create_default_context(cafile=upstream_ca)
            if upstream_client:
                self.up_ctx.load_cert_chain(*upstream_client)
        self.tls = tls
        self.storage_host = storage_host
        self.log_path = log_path
        self.name = name
        self._faults = []
        self._log = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._inflight = 0
        self._seq = itertools.count(1)
        self._conn_ids = itertools.count(1)
        self._storage = {}
        self._clients = set()
        self._listener = None
        self._control = None
        self.port = None
        self.control_port = None
        self._stopping = False

    # -- addresses

    @property
    def scheme(self):
        return "https" if self.tls else "http"

    @property
    def host(self):
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self):
        return f"{self.scheme}://{self.host}"

    @property
    def control_url(self):
        return f"http://{LOOPBACK}:{self.control_port}"

    ca_cert = None
    cert_dir = None

    def info(self):
        return {"name": self.name, "url": self.url, "host": self.host, "port": self.port,
                "upstream": self.upstream, "control_url": self.control_url,
                "log": self.log_path, "storage_host": self.storage_host,
                "ca": self.ca_cert, "cert_dir": self.cert_dir}

    # -- faults and log

    def add_fault(self, action, **kw):
        """Add a fault (see module doc); returns its id."""
        f = Fault(action, **kw)
        with self._lock:
            self._faults.append(f)
        return f.id

    def add_fault_json(self, d):
        f = Fault.from_json(d)
        with self._lock:
            self._faults.append(f)
        return f.id

    def faults(self):
        with self._lock:
            return [f.to_json() for f in self._faults]

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    def requests(self, since=0, settle=5.0):
        """Recorded requests (dicts) with seq > since, in order of arrival (seq).

        A request is recorded when the proxy is done with it, which can be a moment after
        the client has read the last byte; so this first waits (up to `settle` seconds)
        until no request is in progress.
        """
        deadline = time.monotonic() + settle
        with self._idle:
            while self._inflight and time.monotonic() < deadline:
                self._idle.wait(max(0.0, deadline - time.monotonic()))
            return sorted((dict(r) for r in self._log if r["seq"] > since),
                          key=lambda r: r["seq"])

    def clear_log(self):
        """Forget recorded requests (after letting those in progress finish, so none of
        them lands in the log afterwards). Sequence numbers keep counting."""
        self.requests(settle=5.0)
        with self._lock:
            self._log.clear()

    def _pick_fault(self, method, target, headers):
        with self._lock:
            for f in self._faults:
                if not f.matches(method, target, headers):
                    continue
                f.seen += 1
                if f.seen <= f.skip or (f.times and f.fired >= f.times):
                    continue
                f.fired += 1
                return f
        return None

    def _record(self, rec):
        with self._lock:
            self._log.append(rec)
            if self.log_path:
                with open(self.log_path, "a") as fh:
                    fh.write(json.dumps(rec) + "\n")
            self._inflight -= 1
            self._idle.notify_all()

    # -- lifecycle

    def start(self):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((LOOPBACK, 0))
        ls.listen(64)
        self._listener = ls
        self.port = ls.getsockname()[1]
        self._server_ctx = None
        if self.tls:
            self._server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._server_ctx.load_cert_chain(*self.tls)
            self._server_ctx.set_alpn_protocols(["http/1.1"])
        threading.Thread(target=self._accept_loop, name=f"{self.name}-accept",
                         daemon=True).start()
        handler = type("ControlHandler", (_ControlHandler,), {"proxy": self})
        self._control = ThreadingHTTPServer((LOOPBACK, 0), handler)
        self._control.daemon_threads = True
        self.control_port = self._control.server_address[1]
        threading.Thread(target=self._control.serve_forever, name=f"{self.name}-control",
                         daemon=True).start()
        return self

    def stop(self):
        self._stopping = True
        if self._listener:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            clients = list(self._clients)
        for s in clients:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._control:
            self._control.shutdown()
            self._control.server_close()
            self._control = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _accept_loop(self):
        while not self._stopping:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve_client, args=(sock,), daemon=True,
                             name=f"{self.name}-conn").start()

    # -- one client connection

    def _serve_client(self, sock):
        conn_id = next(self._conn_ids)
        with self._lock:
            self._clients.add(sock)
        up = _Upstream(self)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._server_ctx:
                sock.settimeout(10)
                sock = self._server_ctx.wrap_socket(sock, server_side=True)
                sock.settimeout(None)
            reader = _Reader(sock)
            if not self._server_ctx and reader.f.peek(1)[:1] == b"\x16":
                # A TLS ClientHello on the plain port (clients such as skopeo try HTTPS
                # first): answer at once, as Go's server does, so they fall back to HTTP
                # instead of waiting for a handshake timeout.
                sock.sendall(b"HTTP/1.0 400 Bad Request\r\nConnection: close\r\n\r\n"
                             b"Client sent an HTTPS request to an HTTP server.\n")
                return
            while not self._stopping:
                head = reader.head()
                if head is None:
                    break
                if not self._serve_request(sock, reader, head, conn_id, up):
                    break
        except (_Abort, OSError, ConnectionError, ValueError, ssl.SSLError):
            pass
        finally:
            up.close()
            with self._lock:
                self._clients.discard(sock)
            try:
                sock.close()
            except OSError:
                pass

    def _serve_request(self, sock, reader, head, conn_id, up):
        """Serve one request; returns False when the client connection must close."""
        start = time.monotonic()
        line, headers = head
        try:
            method, target, version = line.split(" ", 2)
        except ValueError:
            raise ConnectionError(f"bad request line '{line[:80]}'")
        method = method.upper()
        rec = {"seq": None, "conn": conn_id, "time": time.time(), "method": method,
               "path": target, "headers": redact_headers(headers), "request_bytes": 0,
               "status": None, "response_bytes": 0, "fault": None, "storage": False,
               "upstream": False, "error": None}
        keep_alive = version == "HTTP/1.1" and \
            (_header(headers, "connection") or "").lower() != "close"
        req_framing, req_len = _framing(headers)
        expect = (_header(headers, "expect") or "").lower() == "100-continue"
        fwd_target, fwd_headers = target, headers
        with self._lock:
            self._inflight += 1         # until _record(), in the finally below
            rec["seq"] = next(self._seq)
        try:
            if target.startswith("/_storage/"):
                saved = self._storage.get(target[len("/_storage/"):])
                rec["storage"] = True
                if saved is None:
                    self._drain(reader, req_framing, req_len, rec, expect)
                    self._reply(sock, 404, {}, b"unknown storage key\n", rec, keep_alive)
                    return keep_alive
                fwd_target, fwd_headers = saved
                fault = None
            else:
                fault = self._pick_fault(method, target, headers)
            if fault:
                rec["fault"] = {"id": fault.id, "action": fault.action}
                p = fault.params
                if fault.action == "reset" and not p.get("forward") and \
                        p.get("after_bytes") is None:
                    rec["status"] = "reset"
                    _reset(sock)
                    raise _Abort()
                if fault.action == "status":
                    return self._fault_status(sock, reader, fault, req_framing, req_len, rec,
                                              expect, keep_alive)
                if fault.action == "redirect":
                    return self._fault_redirect(sock, reader, fault, method, target, headers,
                                                req_framing, req_len, rec, expect, keep_alive)
                if fault.action == "delay":
                    time.sleep(float(p["seconds"]))
            return self._forward(sock, reader, up, method, fwd_target, fwd_headers,
                                 req_framing, req_len, expect, keep_alive, fault, rec)
        except (OSError, ConnectionError, ValueError) as e:
            rec["error"] = str(e) or type(e).__name__
            raise
        finally:
            rec["duration"] = round(time.monotonic() - start, 4)
            self._record(rec)

    def _drain(self, reader, framing, length, rec, expect):
        """Read and drop a request body we answer without forwarding (not when the client
        waits for 100-continue: it will not send the body then)."""
        if expect:
            return False
        for data in reader.body(framing, length):
            rec["request_bytes"] += len(data)
        return True

    def _reply(self, sock, status, headers, body, rec, keep_alive):
        hdrs = dict(headers)
        hdrs["Content-Length"] = str(len(body))
        if not keep_alive:
            hdrs["Connection"] = "close"
        out = f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
        out += "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
        sock.sendall(out.encode("latin-1") + body)
        rec["status"] = status
        rec["response_bytes"] = len(body)

    def _fault_status(self, sock, reader, fault, framing, length, rec, expect, keep_alive):
        p = fault.params
        status = int(p["status"])
        if not self._drain(reader, framing, length, rec, expect):
            keep_alive = False
        body = p.get("body")
        if body is None:
            code = p.get("code", _ERROR_CODES.get(status, "UNKNOWN"))
            msg = p.get("message", f"injected by the test proxy: {status}")
            body = json.dumps({"errors": [{"code": code, "message": msg, "detail": None}]})
            ctype = "application/json; charset=utf-8"
        else:
            ctype = p.get("content_type", "text/plain; charset=utf-8")
        headers = {"Content-Type": ctype, "Docker-Distribution-Api-Version": "registry/2.0"}
        if p.get("retry_after") is not None:
            headers["Retry-After"] = str(p["retry_after"])
        headers.update(p.get("headers") or {})
        self._reply(sock, status, headers, body.encode(), rec, keep_alive)
        return keep_alive

    def _fault_redirect(self, sock, reader, fault, method, target, headers, framing, length,
                        rec, expect, keep_alive):
        if not self._drain(reader, framing, length, rec, expect):
            keep_alive = False
        key = secrets.token_hex(8)
        self._storage[key] = (target, headers)
        host = fault.params.get("host", self.storage_host)
        loc = f"{self.scheme}://{host}:{self.port}/_storage/{key}"
        status = int(fault.params.get("status", 307))
        self._reply(sock, status, {"Location": loc}, b"", rec, keep_alive)
        rec["location"] = loc
        return keep_alive

    def _forward(self, sock, reader, up, method, target, headers, req_framing, req_len,
                 expect, keep_alive, fault, rec):
        out_headers = [(k, v) for k, v in headers
                       if k.lower() not in _HOP_HEADERS
                       and k.lower() not in ("expect", "x-forwarded-proto")]
        # The registry builds absolute Location URLs from Host (kept) and this header.
        out_headers.append(("X-Forwarded-Proto", self.scheme))
        head = (f"{method} {target} HTTP/1.1\r\n" +
                "".join(f"{k}: {v}\r\n" for k, v in out_headers) + "\r\n").encode("latin-1")
        rec["upstream"] = True
        fresh = up.sock is None
        if fresh:
            up.connect()
        try:
            up.sock.sendall(head)
        except OSError:
            up.connect()
            fresh = True
            up.sock.sendall(head)
        if expect:
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        up_broken = False
        for data in reader.body(req_framing, req_len):
            rec["request_bytes"] += len(data)
            if not up_broken:
                try:
                    up.sock.sendall(_frame(data, req_framing))
                except OSError:
                    up_broken = True    # the registry answered early; read its answer
        if req_framing == "chunked" and not up_broken:
            try:
                up.sock.sendall(b"0\r\n\r\n")
            except OSError:
                up_broken = True
        resp = self._read_response_head(up)
        if resp is None and not fresh and rec["request_bytes"] == 0:
            # An idle keep-alive connection the registry had closed: try once more.
            up.connect()
            up.sock.sendall(head)
            resp = self._read_response_head(up)
        if resp is None:
            up.close()
            rec["error"] = "upstream closed the connection without answering"
            self._reply(sock, 502, {"Content-Type": "text/plain"},
                        b"test proxy: upstream closed the connection\n", rec, False)
            return False
        status_line, resp_headers = resp
        status = int(status_line.split(" ", 2)[1])
        rec["status"] = status
        p = fault.params if fault else {}
        if fault and fault.action == "reset" and p.get("after_bytes") is None:
            rec["status"] = f"reset (registry answered {status})"
            up.close()
            _reset(sock)
            raise _Abort()
        framing, length = _framing(resp_headers, True, method, status)
        close_after = framing == "close" or not keep_alive
        out = [status_line + "\r\n"]
        out += [f"{k}: {v}\r\n" for k, v in resp_headers if k.lower() not in _HOP_HEADERS]
        if close_after:
            out.append("Connection: close\r\n")
        sock.sendall(("".join(out) + "\r\n").encode("latin-1"))
        self._relay_body(sock, up, framing, length, fault, rec)
        if framing == "close" or up_broken or \
                (_header(resp_headers, "connection") or "").lower() == "close":
            up.close()
        return not close_after

    @staticmethod
    def _read_response_head(up):
        """The next final response head from the registry (1xx interim ones skipped), or
        None when the connection closed first."""
        try:
            while True:
                resp = up.reader.head()
                if resp is None:
                    return None
                code = int(resp[0].split(" ", 2)[1])
                if code >= 200 or code == 101:
                    return resp
        except (OSError, ConnectionError, ValueError, IndexError):
            return None

    def _relay_body(self, sock, up, framing, length, fault, rec):
        p = fault.params if fault else {}
        action = fault.action if fault else None
        limit = None
        if action == "truncate":
            limit = int(p["bytes"])
        elif action == "reset":
            limit = int(p["after_bytes"])
        corrupt_at = int(p.get("offset", 0)) if action == "corrupt" else None
        mask = int(p.get("mask", 1)) if action == "corrupt" else 0
        pos = 0
        for data in up.reader.body(framing, length):
            if corrupt_at is not None and pos <= corrupt_at < pos + len(data):
                i = corrupt_at - pos
                data = data[:i] + bytes([data[i] ^ mask]) + data[i + 1:]
                rec["corrupted_offset"] = corrupt_at
            if limit is not None and pos + len(data) >= limit:
                data = data[:limit - pos]
                if data:
                    sock.sendall(_frame(data, framing))
                rec["response_bytes"] = limit
                up.close()          # the rest of the body is abandoned with the connection
                if action == "reset":
                    _reset(sock)
                else:
                    sock.shutdown(socket.SHUT_RDWR)
                raise _Abort()
            sock.sendall(_frame(data, framing))
            pos += len(data)
            rec["response_bytes"] = pos
        if limit is not None:
            rec["note"] = f"body of {pos} bytes was shorter than the fault limit {limit}"
        if framing == "chunked":
            sock.sendall(b"0\r\n\r\n")


class _Upstream:
    """The proxy's connection to the registry for one client connection (kept alive)."""

    def __init__(self, proxy):
        self.proxy = proxy
        self.sock = None
        self.reader = None

    def connect(self):
        self.close()
        s = socket.create_connection((self.proxy.up_host, self.proxy.up_port), timeout=60)
        s.settimeout(None)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.proxy.up_ctx:
            s = self.proxy.up_ctx.wrap_socket(s, server_hostname=self.proxy.up_host)
        self.sock = s
        self.reader = _Reader(s)

    def close(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.reader = None


class _ControlHandler(BaseHTTPRequestHandler):
    proxy = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/faults":
            return self._send(200, self.proxy.faults())
        if u.path == "/log":
            return self._send(200, self.proxy.requests(int(q.get("since", ["0"])[0])))
        if u.path == "/info":
            return self._send(200, self.proxy.info())
        self._send(404, {"error": f"unknown control path '{u.path}'"})

    def do_POST(self):
        if self.path != "/faults":
            return self._send(404, {"error": f"unknown control path '{self.path}'"})
        n = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(n) or b"null")
            items = body if isinstance(body, list) else [body]
            ids = [self.proxy.add_fault_json(d) for d in items]
        except (ValueError, TypeError, KeyError, HarnessError, re.error) as e:
            return self._send(400, {"error": str(e)})
        self._send(200, {"ids": ids})

    def do_DELETE(self):
        if self.path == "/faults":
            self.proxy.clear_faults()
        elif self.path == "/log":
            self.proxy.clear_log()
        else:
            return self._send(404, {"error": f"unknown control path '{self.path}'"})
        self._send(200, {})


def proxy_for(registry, directory, tls=None, name="proxy", log=True):
    """A started FaultProxy in front of `registry` (a registry.Registry).

    The proxy speaks TLS to clients when the registry does (or tls=True), with a certificate
    from the registry's CA (or a CA of its own in `directory`); toward an mTLS registry it
    presents the registry's client certificate. Its info() then also has ca and cert_dir.
    """
    import os
    from . import pki
    os.makedirs(directory, exist_ok=True)
    tls = registry.tls if tls is None else tls
    cert_pair = ca_cert = cert_dir = None
    if tls:
        ca = registry.ca if registry.ca else pki.CA(os.path.join(directory, "pki"))
        cert_pair = ca.issue(name)
        ca_cert = ca.cert
        cert_dir = os.path.join(directory, "certs")
        os.makedirs(cert_dir, exist_ok=True)
        with open(ca_cert) as src, open(os.path.join(cert_dir, "ca.crt"), "w") as dst:
            dst.write(src.read())
    client = (registry.client_cert, registry.client_key) if registry.client_cert else None
    p = FaultProxy(registry.url, tls=cert_pair, upstream_ca=registry.ca_cert,
                   upstream_client=client, name=name,
                   log_path=os.path.join(directory, f"{name}-requests.jsonl") if log else None)
    p.ca_cert = ca_cert
    p.cert_dir = cert_dir
    return p.start()
