#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Self-tests of the fault proxy: each fault is observable by a client exactly as described,
the request log records what tests assert on (secrets redacted, Range, ?mount=, retries,
connections), skopeo retries through a reset, and a 200 MiB blob streams through a proxy
process whose peak memory stays small."""

import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import unittest
import urllib.request

import selftest
from harness import Registry, proxy_for
from harness import skopeo as sk
from harness.util import HarnessError

AUTH = selftest.basic("alice", "wonderland")
# distribution 2.8 serves an OCI manifest only to clients that accept its media type.
ACCEPT = "application/vnd.oci.image.manifest.v1+json"


class ProxyFaults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.small = selftest.store().build("small")
        cls.reg = Registry("basic").start()
        cls.workdir = cls.reg.workdir.sub("proxy")
        cls.proxy = proxy_for(cls.reg, cls.workdir)
        sk.copy(f"oci:{cls.small['layout']}:small", f"docker://{cls.reg.host}/fx/small:1",
                cls.reg.skopeo_args("dest"))
        cls.layer = cls.small["layers"][0]["digest"]
        cls.blob = f"/v2/fx/small/blobs/{cls.layer}"
        with open(os.path.join(cls.small["layout"], "blobs", "sha256", cls.layer[7:]), "rb") as f:
            cls.blob_bytes = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.reg.stop()

    def setUp(self):
        self.proxy.clear_faults()
        self.proxy.clear_log()

    def request(self, method, path, headers=None, body=None, conn=None):
        c = conn or http.client.HTTPConnection(self.proxy.host, timeout=10)
        h = {"Authorization": AUTH, "Accept": ACCEPT}
        h.update(headers or {})
        try:
            c.request(method, path, body=body, headers=h)
            resp = c.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            if conn is None:
                c.close()

    def test_log_records_and_redacts(self):
        status, _, _ = self.request("GET", "/v2/")
        self.assertEqual(status, 200)
        [rec] = self.proxy.requests()
        self.assertEqual((rec["method"], rec["path"], rec["status"], rec["fault"],
                          rec["upstream"]), ("GET", "/v2/", 200, None, True))
        self.assertEqual(rec["headers"]["authorization"], "Basic <redacted>")
        self.assertNotIn("YWxpY2U", json.dumps(rec))      # base64 of "alice"
        with open(self.proxy.log_path) as f:
            self.assertIn('"Basic <redacted>"', f.read())

    def test_keep_alive_connection_is_reused_and_recorded(self):
        c = http.client.HTTPConnection(self.proxy.host, timeout=10)
        try:
            for _ in range(3):
                self.assertEqual(self.request("GET", "/v2/", conn=c)[0], 200)
        finally:
            c.close()
        self.request("GET", "/v2/")
        conns = [r["conn"] for r in self.proxy.requests()]
        self.assertEqual(len(set(conns[:3])), 1)
        self.assertNotEqual(conns[3], conns[0])

    def test_status_503_times_2(self):
        self.proxy.add_fault("status", status=503, path="/manifests/", times=2)
        got = [self.request("GET", "/v2/fx/small/manifests/1")[0] for _ in range(3)]
        self.assertEqual(got, [503, 503, 200])
        _, _, body = self.request("GET", "/v2/fx/small/manifests/1")
        self.assertEqual(selftest.sha256(body), self.small["digest"])
        [f] = self.proxy.faults()
        self.assertEqual((f["seen"], f["fired"]), (4, 2))
        recs = self.proxy.requests()
        self.assertEqual([r["upstream"] for r in recs], [False, False, True, True])

    def test_500_body_is_registry_style(self):
        self.proxy.add_fault("status", status=500, method="GET", path="/blobs/")
        status, headers, body = self.request("GET", self.blob)
        self.assertEqual(status, 500)
        self.assertEqual(json.loads(body), {"errors": [{
            "code": "UNKNOWN", "message": "injected by the test proxy: 500", "detail": None}]})
        self.assertEqual(headers["Content-Type"], "application/json; charset=utf-8")

    def test_429_with_retry_after(self):
        self.proxy.add_fault("status", status=429, retry_after=3, path="/blobs/")
        status, headers, body = self.request("GET", self.blob)
        self.assertEqual((status, headers["Retry-After"]), (429, "3"))
        self.assertEqual(json.loads(body)["errors"][0]["code"], "TOOMANYREQUESTS")
        self.assertEqual(self.request("GET", self.blob)[0], 200)

    def test_denied_403_for_push(self):
        self.proxy.add_fault("status", status=403, method="POST", path="/blobs/uploads/",
                             message="requested access to the resource is denied")
        status, _, body = self.request("POST", "/v2/fx/other/blobs/uploads/", body=b"")
        self.assertEqual(status, 403)
        self.assertEqual(json.loads(body)["errors"][0],
                         {"code": "DENIED", "message": "requested access to the resource is "
                          "denied", "detail": None})

    def test_reset_on_nth_request(self):
        self.proxy.add_fault("reset", path="/manifests/", skip=1)
        self.assertEqual(self.request("GET", "/v2/fx/small/manifests/1")[0], 200)
        with self.assertRaises((ConnectionResetError, http.client.RemoteDisconnected)):
            self.request("GET", "/v2/fx/small/manifests/1")
        self.assertEqual(self.request("GET", "/v2/fx/small/manifests/1")[0], 200)
        recs = self.proxy.requests()
        self.assertEqual([r["status"] for r in recs], [200, "reset", 200])
        self.assertEqual(recs[1]["fault"]["action"], "reset")

    def test_reset_after_forwarding(self):
        self.proxy.add_fault("reset", path="/manifests/", forward=True)
        with self.assertRaises((ConnectionResetError, http.client.RemoteDisconnected)):
            self.request("GET", "/v2/fx/small/manifests/1")
        [rec] = self.proxy.requests()
        self.assertEqual(rec["status"], "reset (registry answered 200)")

    def test_reset_mid_body(self):
        self.proxy.add_fault("reset", path="/blobs/", after_bytes=10)
        with self.assertRaises((ConnectionResetError, http.client.IncompleteRead)):
            self.request("GET", self.blob)
        [rec] = self.proxy.requests()
        self.assertEqual(rec["response_bytes"], 10)

    def test_truncated_body(self):
        self.proxy.add_fault("truncate", path="/blobs/", bytes=50)
        with self.assertRaises(http.client.IncompleteRead) as cm:
            self.request("GET", self.blob)
        self.assertEqual(cm.exception.partial, self.blob_bytes[:50])
        self.assertEqual(cm.exception.expected, len(self.blob_bytes) - 50)

    def test_corrupted_body_changes_digest(self):
        self.proxy.add_fault("corrupt", path="/blobs/", offset=7, mask=0x80)
        status, _, body = self.request("GET", self.blob)
        self.assertEqual((status, len(body)), (200, len(self.blob_bytes)))
        self.assertNotEqual(selftest.sha256(body), self.layer)
        fixed = body[:7] + bytes([body[7] ^ 0x80]) + body[8:]
        self.assertEqual(selftest.sha256(fixed), self.layer)
        self.assertEqual(self.proxy.requests()[0]["corrupted_offset"], 7)

    def test_delay(self):
        self.proxy.add_fault("delay", seconds=0.3, path="/v2/$")
        self.assertEqual(self.request("GET", "/v2/")[0], 200)
        self.assertGreaterEqual(self.proxy.requests()[0]["duration"], 0.3)

    def test_redirect_to_storage_host_without_authorization(self):
        self.proxy.add_fault("redirect", method="GET", path="/blobs/")
        status, headers, _ = self.request("GET", self.blob)
        self.assertEqual(status, 307)
        loc = headers["Location"]
        self.assertTrue(loc.startswith(f"http://localhost:{self.proxy.port}/_storage/"), loc)
        # Follow it as a client must across hosts: without the Authorization header.
        path = loc.split(str(self.proxy.port), 1)[1]
        c = http.client.HTTPConnection(self.proxy.host, timeout=10)
        try:
            c.request("GET", path, headers={"Host": f"localhost:{self.proxy.port}"})
            resp = c.getresponse()
            body = resp.read()
        finally:
            c.close()
        self.assertEqual((resp.status, selftest.sha256(body)), (200, self.layer))
        first, second = self.proxy.requests()
        self.assertEqual((first["status"], first["storage"]), (307, False))
        self.assertEqual((second["status"], second["storage"]), (200, True))
        self.assertNotIn("authorization", second["headers"])

    def test_matching_by_method_and_header(self):
        self.proxy.add_fault("status", status=503, method="HEAD", path="/blobs/", times=0)
        self.proxy.add_fault("status", status=416, headers={"Range": "^bytes=100-"})
        self.assertEqual(self.request("GET", self.blob)[0], 200)
        self.assertEqual(self.request("HEAD", self.blob)[0], 503)
        self.assertEqual(self.request("HEAD", self.blob)[0], 503)
        status, _, body = self.request("GET", self.blob, {"Range": "bytes=10-19"})
        self.assertEqual((status, body), (206, self.blob_bytes[10:20]))
        self.assertEqual(self.request("GET", self.blob, {"Range": "bytes=100-"})[0], 416)
        recs = self.proxy.requests()
        self.assertEqual(recs[3]["headers"]["range"], "bytes=10-19")

    def test_expect_100_continue_upload(self):
        data = os.urandom(300000)
        status, headers, _ = self.request("POST", "/v2/fx/up/blobs/uploads/", body=b"")
        self.assertEqual(status, 202)
        loc = headers["Location"]
        self.assertTrue(loc.startswith(f"http://{self.proxy.host}/v2/fx/up/blobs/uploads/"), loc)
        digest = selftest.sha256(data)
        path = loc.split(self.proxy.host, 1)[1] + "&digest=" + digest.replace(":", "%3A")
        s = socket.create_connection(("127.0.0.1", self.proxy.port), timeout=10)
        try:
            s.sendall((f"PUT {path} HTTP/1.1\r\nHost: {self.proxy.host}\r\n"
                       f"Authorization: {AUTH}\r\nContent-Length: {len(data)}\r\n"
                       "Content-Type: application/octet-stream\r\n"
                       "Expect: 100-continue\r\n\r\n").encode())
            f = s.makefile("rb")
            self.assertEqual(f.readline(), b"HTTP/1.1 100 Continue\r\n")
            self.assertEqual(f.readline(), b"\r\n")
            s.sendall(data)
            self.assertEqual(f.readline(), b"HTTP/1.1 201 Created\r\n")
            f.close()
        finally:
            s.close()
        status, _, body = self.request("GET", f"/v2/fx/up/blobs/{digest}")
        self.assertEqual((status, body), (200, data))
        put = [r for r in self.proxy.requests() if r["method"] == "PUT"][0]
        self.assertEqual((put["request_bytes"], put["headers"]["expect"]),
                         (len(data), "100-continue"))

    def test_tls_hello_on_plain_port_is_refused_quickly(self):
        s = socket.create_connection(("127.0.0.1", self.proxy.port), timeout=10)
        try:
            s.sendall(b"\x16\x03\x01\x00\x05hello")
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.0 400 Bad Request\r\n"))
        finally:
            s.close()

    def test_skopeo_retries_through_a_reset_and_mounts(self):
        # forward=true: the reset comes after skopeo has sent the whole body, so it reads
        # ECONNRESET (which it retries) and never loses the race to a write error on the
        # closed socket (which it does not retry; seen on a loaded CI machine).
        self.proxy.add_fault("reset", method="PATCH", path="/blobs/uploads/", forward=True)
        args = ["--retry-times", "2"] + self.reg.skopeo_args("dest")
        sk.copy(f"oci:{self.small['layout']}:small", f"docker://{self.proxy.host}/fx/retry:1",
                args)
        patches = [r for r in self.proxy.requests() if r["method"] == "PATCH"]
        self.assertEqual(patches[0]["status"], "reset (registry answered 202)")
        self.assertTrue(all(r["status"] == 202 for r in patches[1:]))
        self.assertEqual(self.proxy.faults()[0]["fired"], 1)
        _, digest = sk.inspect_raw(f"docker://{self.reg.host}/fx/retry:1",
                                   self.reg.skopeo_args(""))
        self.assertEqual(digest, self.small["digest"])
        # A registry-to-registry copy mounts the layer instead of uploading it again.
        self.proxy.clear_log()
        sk.copy(f"docker://{self.proxy.host}/fx/retry:1",
                f"docker://{self.proxy.host}/fx/mounted:1",
                self.reg.skopeo_args("src") + self.reg.skopeo_args("dest"))
        recs = self.proxy.requests()
        mounts = [r for r in recs if r["method"] == "POST" and "mount=" in r["path"]]
        self.assertEqual(len(mounts), 1)
        self.assertIn(f"mount={self.layer.replace(':', '%3A')}", mounts[0]["path"])
        self.assertIn("from=fx%2Fretry", mounts[0]["path"])
        self.assertEqual(mounts[0]["status"], 201)
        layer_uploads = [r for r in recs if r["method"] in ("PATCH", "PUT")
                         and r["request_bytes"] == len(self.blob_bytes)]
        self.assertEqual(layer_uploads, [])

    def test_control_api(self):
        ctl = self.proxy.control_url
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        def call(method, path, body=None):
            req = urllib.request.Request(ctl + path, method=method,
                                         data=json.dumps(body).encode() if body else None)
            with opener.open(req, timeout=10) as resp:
                return json.loads(resp.read())

        ids = call("POST", "/faults", [{"action": "status", "status": 502, "path": "/v2/$"},
                                       {"action": "delay", "seconds": 0}])["ids"]
        self.assertEqual(len(ids), 2)
        self.assertEqual(self.request("GET", "/v2/")[0], 502)
        faults = call("GET", "/faults")
        self.assertEqual([(f["action"], f["fired"]) for f in faults],
                         [("status", 1), ("delay", 0)])
        [rec] = call("GET", "/log")
        self.assertEqual(rec["status"], 502)
        self.assertEqual(call("GET", f"/log?since={rec['seq']}"), [])
        self.assertEqual(len(call("GET", f"/log?since={rec['seq'] - 1}")), 1)
        call("DELETE", "/faults")
        call("DELETE", "/log")
        self.assertEqual((call("GET", "/faults"), call("GET", "/log")), ([], []))
        with self.assertRaises(urllib.error.HTTPError) as cm:
            call("POST", "/faults", {"action": "explode"})
        self.assertEqual(cm.exception.code, 400)

    def test_bad_fault_is_refused(self):
        with self.assertRaisesRegex(HarnessError, "unknown fault action 'explode'"):
            self.proxy.add_fault("explode")
        with self.assertRaisesRegex(HarnessError, "fault 'status' needs a 'status' code"):
            self.proxy.add_fault("status")


class TLSProxy(unittest.TestCase):
    def test_tls_front_of_mtls_registry(self):
        small = selftest.store().build("small")
        with Registry("mtls") as r:
            p = proxy_for(r, r.workdir.sub("proxy"))
            try:
                self.assertTrue(p.url.startswith("https://"))
                sk.copy(f"oci:{small['layout']}:small", f"docker://{p.host}/fx/tls:1",
                        ["--dest-cert-dir", p.cert_dir])
                _, digest = sk.inspect_raw(f"docker://{r.host}/fx/tls:1", r.skopeo_args(""))
                self.assertEqual(digest, small["digest"])
                self.assertTrue(any(x["method"] == "PUT" and x["status"] == 201
                                    for x in p.requests()))
            finally:
                p.stop()


class Streaming(unittest.TestCase):
    """200 MiB up and down through a proxy in its own process; its peak RSS (VmHWM) must not
    follow the blob size."""

    def test_large_blob_streams_with_flat_memory(self):
        large = selftest.store().build("large")
        layer = large["layers"][0]
        self.assertGreaterEqual(layer["size"], 200 << 20)
        with Registry("http") as r:
            d = r.workdir.sub("proxyd")
            env = dict(os.environ, PYTHONPATH=selftest.INTEGRATION)
            out = subprocess.run([sys.executable, "-m", "harness", "proxy", "start",
                                  "--upstream", r.url, "--dir", d],
                                 capture_output=True, text=True, env=env, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            state = json.loads(out.stdout)
            pid = state["daemon_pid"]
            host = state["proxies"]["proxy"]["host"]
            try:
                sk.copy(f"oci:{large['layout']}:large", f"docker://{host}/fx/large:1",
                        ["--dest-tls-verify=false"])
                c = http.client.HTTPConnection(host, timeout=60)
                c.request("GET", f"/v2/fx/large/blobs/{layer['digest']}")
                resp = c.getresponse()
                h = hashlib.sha256()
                n = 0
                while True:
                    b = resp.read(1 << 20)
                    if not b:
                        break
                    h.update(b)
                    n += len(b)
                c.close()
                self.assertEqual((n, "sha256:" + h.hexdigest()), (layer["size"], layer["digest"]))
                with open(f"/proc/{pid}/status") as f:
                    hwm_kb = int([x for x in f if x.startswith("VmHWM:")][0].split()[1])
                print(f"proxy peak RSS after 2 x {layer['size'] >> 20} MiB: {hwm_kb >> 10} MiB",
                      file=sys.stderr)
                self.assertLess(hwm_kb, 64 << 10)
                with open(os.path.join(d, "proxy-requests.jsonl")) as f:
                    log = [json.loads(x) for x in f]
                up = [x for x in log if x["method"] in ("PATCH", "PUT")
                      and x["request_bytes"] == layer["size"]]
                self.assertEqual(len(up), 1)
            finally:
                subprocess.run([sys.executable, "-m", "harness", "proxy", "stop", "--dir", d],
                               env=env, timeout=60, capture_output=True)
            self.assertFalse(selftest.pid_alive(pid))
            self.assertFalse(os.path.exists(d))


if __name__ == "__main__":
    selftest.main()
