#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the static executor that scripts/build-static.sh produces (TAP output).

The executor: statically linked (file, ldd, readelf), runs with an empty environment and in
an empty root. The dependency probe built beside it (static-deps-check, same musl build of
libcurl/OpenSSL/libarchive/zstd/zlib): the configured features, a TLS handshake with
certificate verification against `openssl s_server` on 127.0.0.1, tar streams (gzip, zstd)
read with libarchive, and, in a user+network+mount namespace, host names resolved by musl
from /etc/hosts and from a DNS server on 127.0.0.1:53 (no NSS involved).

Which executor: $LADING_STATIC_EXECUTOR, or with LADING_STATIC_BUILD=1 the one that
scripts/build-static.sh builds into <build>/static-build (dependencies cached, see the script);
otherwise the whole test is skipped. The probe: $LADING_STATIC_DEPS_CHECK, or the
static-deps-check in the build directory of the executor (<builddir>/dist/executor).

Usage: test-static.py SOURCE_ROOT VERSION BUILD_ROOT
"""
import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

# ---------------------------------------------------------------------------------------------
# TAP


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, detail=""):
        self.n += 1
        print(f"{'ok' if cond else 'not ok'} {self.n} - {desc}")
        if not cond:
            self.failed += 1
            for line in str(detail).splitlines():
                print(f"#   {line}")
        sys.stdout.flush()
        return cond

    def eq(self, got, want, desc):
        return self.ok(got == want, desc, f"got:  {got!r}\nwant: {want!r}")

    def skip(self, desc, reason):
        self.n += 1
        print(f"ok {self.n} - {desc} # SKIP {reason}")
        sys.stdout.flush()

    def done(self):
        print(f"1..{self.n}")
        return 1 if self.failed else 0


def run(argv, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 60)
    return subprocess.run(argv, check=False, **kw)


# ---------------------------------------------------------------------------------------------
# The executor


def find_executor(source_root, build_root):
    exe = os.environ.get("LADING_STATIC_EXECUTOR")
    if exe:
        return os.path.abspath(exe)
    if os.environ.get("LADING_STATIC_BUILD") != "1":
        return None
    script = os.path.join(source_root, "scripts", "build-static.sh")
    builddir = os.path.join(build_root, "static-build")
    r = run(["bash", script, "--builddir", builddir], timeout=1800, stderr=None)
    lines = r.stdout.strip().splitlines()
    if r.returncode != 0 or not lines:
        print(f"Bail out! scripts/build-static.sh failed with exit code {r.returncode}")
        sys.exit(1)
    return lines[-1]


def check_executor(t, exe, version):
    r = run(["file", "-b", exe])
    t.ok(r.returncode == 0 and "statically linked" in r.stdout
         and "dynamically" not in r.stdout and "interpreter" not in r.stdout,
         "file(1) sees a statically linked executable", r.stdout + r.stderr)

    if shutil.which("ldd"):
        r = run(["ldd", exe])
        out = r.stdout + r.stderr
        # glibc's ldd, or musl's when it is the system's
        t.ok("not a dynamic executable" in out or "Not a valid dynamic program" in out,
             "ldd finds no dynamic linking", out)
    else:
        t.skip("ldd finds no dynamic linking", "no ldd")

    r = run(["readelf", "-lW", exe])
    t.ok(r.returncode == 0 and "Elf file type is EXEC" in r.stdout and "INTERP" not in r.stdout,
         "no ELF interpreter (PT_INTERP)", r.stdout[-2000:] + r.stderr)
    r = run(["readelf", "-dW", exe])
    t.eq(r.stdout.strip(), "There is no dynamic section in this file.", "no dynamic section")

    want = re.compile(r"lading executor " + re.escape(version) + r" \(([0-9a-f]{12}|unknown)\)\n")
    r = run([exe, "--version"])
    t.ok(r.returncode == 0 and want.fullmatch(r.stdout),
         "--version prints the version", f"exit {r.returncode}: {r.stdout!r} {r.stderr!r}")
    r = run([exe, "--version"], env={})
    t.ok(r.returncode == 0 and want.fullmatch(r.stdout),
         "--version with an empty environment", f"exit {r.returncode}: {r.stdout!r}")
    return want


# ---------------------------------------------------------------------------------------------
# The dependency probe


def check_features(t, probe):
    r = run([probe, "features"])
    if not t.ok(r.returncode == 0, "probe reports its libraries", r.stderr):
        return
    f = dict(line.split(" ", 1) for line in r.stdout.splitlines())
    t.eq(f.get("curl-protocols"), "http https", "libcurl speaks only http and https")
    t.ok(f.get("curl-ssl", "").startswith("OpenSSL/3."), "libcurl uses OpenSSL 3",
         f.get("curl-ssl"))
    features = set(f.get("curl-features", "").split())
    t.ok({"ssl", "libz", "asynchdns", "ipv6", "https-proxy", "http2"} <= features,
         "libcurl has TLS, zlib, the threaded resolver, IPv6, HTTPS proxies and HTTP/2",
         " ".join(sorted(features)))
    t.ok(re.fullmatch(r"1\.\d+\.\d+", f.get("curl-nghttp2", "")) is not None,
         "libcurl's HTTP/2 is nghttp2", f.get("curl-nghttp2"))
    unwanted = {"idn", "psl", "brotli", "zstd", "http3", "ntlm", "ntlm-wb", "gssapi",
                "kerberos5", "spnego", "tls-srp", "unix-sockets", "alt-svc", "hsts"}
    t.eq(sorted(features & unwanted), [], "libcurl has none of the features lading does not use")
    t.eq(f.get("openssl-threads"), "yes",
         "OpenSSL is built with thread support (its locks are real: the executor makes TLS "
         "connections from several threads)")
    t.eq(f.get("openssl-dir"), 'OPENSSLDIR: "/etc/ssl"', "OpenSSL's default CA paths are under /etc/ssl")
    t.ok(f.get("archive-zlib") == f.get("zlib") != "none", "libarchive uses the same zlib",
         f"{f.get('archive-zlib')} vs {f.get('zlib')}")
    t.ok(f.get("archive-zstd") == f.get("zstd") != "none", "libarchive uses the same zstd",
         f"{f.get('archive-zstd')} vs {f.get('zstd')}")
    t.ok(re.fullmatch(r"5\.\d+\.\d+", f.get("archive-lzma", "")) is not None,
         "libarchive has liblzma (ADD of .tar.xz)", f.get("archive-lzma"))
    t.ok(re.match(r"1\.0\.\d+,", f.get("archive-bzlib", "")) is not None,
         "libarchive has libbz2 (ADD of .tar.bz2)", f.get("archive-bzlib"))
    t.eq(f.get("archive-lz4"), "none", "libarchive has no lz4")


def make_certs(d):
    """A CA and a server certificate it signs, for 127.0.0.1 and the test host names."""
    def openssl(*args):
        r = run(["openssl", *args], cwd=d)
        if r.returncode != 0:
            raise RuntimeError(f"openssl {' '.join(args)}: {r.stderr}")

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=lading test CA")
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=lading")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:hosts.lading.test,DNS:dns.lading.test\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "rsa.key", "-out", "rsa.csr",
            "-subj", "/CN=lading")
    openssl("x509", "-req", "-in", "rsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "rsa.pem", "-days", "2", "-extfile", "ext.cnf")
    openssl("req", "-x509", *ec, "-keyout", "other.key", "-out", "other-ca.pem", "-days", "2",
            "-subj", "/CN=another CA")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_tls_server(d, port=None, cert="server", extra=()):
    """openssl s_server serving files of d (-WWW) on 127.0.0.1; returns (process, port)."""
    for _ in range(5):
        p = port or free_port()
        proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", f"127.0.0.1:{p}", "-cert", f"{cert}.pem",
             "-key", f"{cert}.key", "-WWW", "-quiet", "-naccept", "20", *extra],
            cwd=d, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", p), timeout=1):
                    return proc, p
            except OSError:
                time.sleep(0.05)
        proc.kill()
        proc.wait()
        if port:
            break
    raise RuntimeError("openssl s_server did not start")


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


PAGE = b"lading static TLS check\n" * 100


def tls_get(t, probe, url, want_tls, desc, cafile):
    r = run([probe, "get", url, cafile])
    body, _, info = r.stdout.partition("\n")[2].rpartition("\nstatus ")
    t.ok(r.returncode == 0 and body == PAGE.decode(), desc, f"exit {r.returncode}: {r.stderr}")
    t.eq(info, f"200\ntls {want_tls}\nbytes {len(PAGE)}\n", f"{desc}: status and TLS version")


def check_tls(t, probe, d):
    with open(os.path.join(d, "page.txt"), "wb") as f:
        f.write(PAGE)
    ca = os.path.join(d, "ca.pem")
    proc, port = start_tls_server(d)
    try:
        tls_get(t, probe, f"https://127.0.0.1:{port}/page.txt", "TLSv1.3",
                "TLS 1.3 GET (ECDSA P-256) from openssl s_server", ca)
        r = run([probe, "get", f"https://127.0.0.1:{port}/page.txt",
                 os.path.join(d, "other-ca.pem")])
        t.ok(r.returncode == 60 and "certificate" in r.stderr,
             "a server certificate from another CA is refused (CURLE_PEER_FAILED_VERIFICATION)",
             f"exit {r.returncode}: {r.stderr}")
    finally:
        stop(proc)
    proc, port = start_tls_server(d, cert="rsa", extra=("-tls1_2",))
    try:
        tls_get(t, probe, f"https://127.0.0.1:{port}/page.txt", "TLSv1.2",
                "TLS 1.2 GET (RSA, ECDHE) from openssl s_server", ca)
    finally:
        stop(proc)


def make_tar(d):
    """A pax tar with the entry kinds a layer has; returns (bytes, expected probe lines)."""
    buf = io.BytesIO()
    want = []
    big = bytes((i * 7 + i // 251) & 0xFF for i in range(1 << 20))
    long_name = "dir/" + "n" * 120 + ".txt"

    def sha(b):
        return hashlib.sha256(b).hexdigest()

    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name, kind, data=b"", mode=0o644, link="", pax=None):
            ti = tarfile.TarInfo(name)
            ti.type = kind
            ti.mode = mode
            ti.mtime = 1700000000
            ti.linkname = link
            ti.size = len(data)
            if pax:
                ti.pax_headers = pax
            tar.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

        add("dir", tarfile.DIRTYPE, mode=0o755)
        want.append(f"dir dir/ 0755 0 {sha(b'')}")
        add("dir/hello.txt", tarfile.REGTYPE, b"hello\n")
        want.append(f"file dir/hello.txt 0644 6 {sha(b'hello' + bytes([10]))}")
        add("dir/big.bin", tarfile.REGTYPE, big, mode=0o600)
        want.append(f"file dir/big.bin 0600 {len(big)} {sha(big)}")
        add("dir/link", tarfile.SYMTYPE, mode=0o777, link="hello.txt")
        want.append(f"symlink dir/link 0777 0 {sha(b'')} -> hello.txt")
        add("dir/hard", tarfile.LNKTYPE, link="dir/hello.txt")
        want.append(f"hardlink dir/hard 0644 0 {sha(b'')} => dir/hello.txt")
        add(long_name, tarfile.REGTYPE, b"long\n", mode=0o640)
        want.append(f"file {long_name} 0640 5 {sha(b'long' + bytes([10]))}")
        add("dir/attr", tarfile.REGTYPE, b"x", pax={"SCHILY.xattr.user.lading": "yes"})
        want.append(f"file dir/attr 0644 1 {sha(b'x')} xattr:user.lading={b'yes'.hex()}")
    return buf.getvalue(), want


def check_tar(t, probe, d):
    raw, want = make_tar(d)
    gz = os.path.join(d, "layer.tar.gz")
    with gzip.open(gz, "wb") as f:
        f.write(raw)
    r = run([probe, "tar", gz])
    t.eq(r.stdout.splitlines(), want + ["filter gzip"], "libarchive reads a tar.gz layer")

    if shutil.which("zstd"):
        plain = os.path.join(d, "layer.tar")
        with open(plain, "wb") as f:
            f.write(raw)
        z = run(["zstd", "-q", "-f", plain, "-o", plain + ".zst"])
        r = run([probe, "tar", plain + ".zst"])
        t.ok(z.returncode == 0 and r.stdout.splitlines() == want + ["filter zstd"],
             "libarchive reads a tar.zst layer", r.stdout + r.stderr + z.stderr)
    else:
        t.skip("libarchive reads a tar.zst layer", "no zstd command")

    # ADD unpacks these too; the release image has no bzip2 or xz program to fall back on
    for name, mod, filt in (("bz2", bz2, "bzip2"), ("xz", lzma, "xz")):
        path = os.path.join(d, "layer.tar." + name)
        with open(path, "wb") as f:
            f.write(mod.compress(raw))
        r = run([probe, "tar", path])
        t.eq(r.stdout.splitlines(), want + ["filter " + filt],
             f"libarchive reads a tar.{name} archive")

    bad = os.path.join(d, "bad.tar.gz")
    with open(gz, "rb") as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0xFF
    with open(bad, "wb") as f:
        f.write(data)
    r = run([probe, "tar", bad])
    t.ok(r.returncode == 1 and r.stderr.startswith("archive: "),
         "a corrupted tar.gz is an error, not a crash", f"exit {r.returncode}: {r.stderr}")


# ---------------------------------------------------------------------------------------------
# In a user + network + mount namespace: name resolution without NSS, and an empty root


def dns_answer(query, names):
    """A DNS response to query: A records for names, NODATA for other types, else NXDOMAIN."""
    qid, _flags, qdcount = struct.unpack(">HHH", query[:6])
    if qdcount != 1:
        return None
    i, labels = 12, []
    while query[i]:
        labels.append(query[i + 1:i + 1 + query[i]].decode("ascii", "replace"))
        i += 1 + query[i]
    qtype, _qclass = struct.unpack(">HH", query[i + 1:i + 5])
    question = query[12:i + 5]
    name = ".".join(labels).lower()
    if name not in names:
        return struct.pack(">HHHHHH", qid, 0x8183, 1, 0, 0, 0) + question
    if qtype != 1:
        return struct.pack(">HHHHHH", qid, 0x8180, 1, 0, 0, 0) + question
    answer = struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(names[name])
    return struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + answer


def serve_dns(sock, names, queries):
    while True:
        try:
            data, peer = sock.recvfrom(512)
        except OSError:
            return
        queries.append(data)
        resp = dns_answer(data, names)
        if resp:
            sock.sendto(resp, peer)


def inner(d, probe, exe):
    """Runs as root of fresh user, network and mount namespaces; prints results as JSON."""
    res = {}
    hosts = os.path.join(d, "hosts")
    resolv = os.path.join(d, "resolv.conf")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 localhost\n127.0.0.1 hosts.lading.test\n")
    with open(resolv, "w") as f:
        f.write("nameserver 127.0.0.1\noptions timeout:2 attempts:2\n")
    for src, dst in ((hosts, "/etc/hosts"), (resolv, "/etc/resolv.conf")):
        r = run(["mount", "--bind", src, dst])
        if r.returncode != 0:
            res["setup"] = f"mount --bind {src} {dst}: {r.stderr}"
            print(json.dumps(res))
            return
    r = run(["ip", "link", "set", "lo", "up"])
    if r.returncode != 0:
        res["setup"] = f"ip link set lo up: {r.stderr}"
        print(json.dumps(res))
        return

    queries = []
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("127.0.0.1", 53))
    threading.Thread(target=serve_dns, args=(dns, {"dns.lading.test": "127.0.0.1"}, queries),
                     daemon=True).start()
    proc, _ = start_tls_server(d, port=443)
    try:
        for name in ("hosts.lading.test", "dns.lading.test", "missing.lading.test"):
            r = run([probe, "resolve", name])
            res[f"resolve {name}"] = [r.returncode, r.stdout, r.stderr]
        res["dns queries"] = len(queries)
        for name in ("hosts.lading.test", "dns.lading.test"):
            r = run([probe, "get", f"https://{name}/page.txt", os.path.join(d, "ca.pem")])
            res[f"get {name}"] = [r.returncode, r.stdout.partition("\n")[2].startswith(
                PAGE.decode()), r.stderr]
    finally:
        stop(proc)
        dns.close()

    root = os.path.join(d, "root")
    os.makedirs(root)
    shutil.copy(exe, os.path.join(root, "executor"))
    r = run([shutil.which("chroot"), root, "/executor", "--version"], env={})
    res["chroot"] = [r.returncode, r.stdout, r.stderr]
    print(json.dumps(res))


def check_namespaces(t, probe, exe, version_re, d):
    names = ["name from /etc/hosts", "name from a DNS server on 127.0.0.1:53",
             "unknown name is an error", "TLS GET by /etc/hosts name",
             "TLS GET by DNS name", "executor runs as the only file of an empty root"]
    unshare = shutil.which("unshare")
    reason = None
    if not unshare or not shutil.which("ip") or not shutil.which("chroot"):
        reason = "needs unshare, ip and chroot"
    elif run([unshare, "--user", "--map-root-user", "--net", "--mount", "true"]).returncode:
        reason = "user namespaces are not available here"
    if reason:
        for n in names:
            t.skip(n, reason)
        return
    r = run([unshare, "--user", "--map-root-user", "--net", "--mount", sys.executable,
             os.path.abspath(__file__), "--inner", d, probe, exe], timeout=120)
    try:
        res = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        res = {"error": f"exit {r.returncode}: {r.stdout} {r.stderr}"}
    if "error" in res:
        for n in names:
            t.ok(False, n, res["error"])
        return
    if "setup" in res:
        for n in names:
            t.skip(n, res["setup"].splitlines()[0][:200])
        return
    t.eq(res["resolve hosts.lading.test"], [0, "127.0.0.1\n", ""], names[0])
    t.ok(res["resolve dns.lading.test"] == [0, "127.0.0.1\n", ""] and res["dns queries"] > 0,
         names[1], repr(res["resolve dns.lading.test"]) + f" queries={res['dns queries']}")
    rc, out, err = res["resolve missing.lading.test"]
    t.ok(rc == 1 and out == "" and err.startswith("resolve 'missing.lading.test': "), names[2],
         repr(res["resolve missing.lading.test"]))
    t.eq(res["get hosts.lading.test"][:2], [0, True], names[3])
    t.eq(res["get dns.lading.test"][:2], [0, True], names[4])
    rc, out, err = res["chroot"]
    t.ok(rc == 0 and version_re.fullmatch(out), names[5], repr(res["chroot"]))


# ---------------------------------------------------------------------------------------------


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--inner":
        inner(*sys.argv[2:])
        return 0
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    source_root, version, build_root = sys.argv[1:]
    exe = find_executor(source_root, build_root)
    if exe is None:
        print("1..0 # SKIP set LADING_STATIC_EXECUTOR to a static executor, "
              "or LADING_STATIC_BUILD=1 to build one with scripts/build-static.sh")
        return 0
    if not os.access(exe, os.X_OK):
        print(f"Bail out! {exe} is not an executable file")
        return 1

    t = Tap()
    version_re = check_executor(t, exe, version)

    probe = os.environ.get("LADING_STATIC_DEPS_CHECK") or os.path.join(
        os.path.dirname(os.path.dirname(exe)), "static-deps-check")
    if not os.access(probe, os.X_OK):
        t.skip("dependency probe", f"no {probe} (built by scripts/build-static.sh)")
        return t.done()
    r = run(["file", "-b", probe])
    t.ok("statically linked" in r.stdout, "the probe is statically linked too", r.stdout)
    check_features(t, probe)
    with tempfile.TemporaryDirectory(prefix="lading-static-") as d:
        make_certs(d)
        check_tls(t, probe, d)
        check_tar(t, probe, d)
        check_namespaces(t, probe, exe, version_re, d)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
