# SPDX-License-Identifier: Apache-2.0
"""The client against the fault proxy in front of a real registry (Basic auth, so that an
Authorization header is there to be dropped): connection resets, 5xx, 429 with Retry-After,
stalls, cut and corrupted bodies, faults during uploads, redirects to another host. The
proxy's request log says what really went over the wire."""

import os
import re

from harness import skopeo as sk
from regtest import config_for, main


def requests_to(proxy, part, method=None):
    return [r for r in proxy.requests() if part in r["path"] and
            (method is None or r["method"] == method)]


def body(tap, env):
    reg = env.registry("basic")
    proxy = env.proxy(reg)
    host = proxy.host
    base = env.push_fixture("multilayer", reg, "fixtures/multilayer:v2s2", fmt="v2s2")
    c = env.client("faults", config={"auths": {host: config_for(reg)["auths"][reg.host]}})
    fast = ["--retry-base-ms", 20, "--verbosity", "debug"]
    repo = f"{host}/fixtures/multilayer"
    layer = base["layers"][0]
    size = os.path.getsize(os.path.join(env.store.layout, "blobs", "sha256", layer[7:]))
    blob = f"/blobs/{layer}"

    def fetch(*extra):
        return c.run(*fast, *extra, "fetch", repo, layer, size, check=False)

    # one connection serves a whole sequential pull (the pool keeps it)
    proxy.clear_log()
    d = os.path.join(c.dir, "seq")
    os.makedirs(d)
    c.run("--parallel", 1, "fetch-all", f"{host}/fixtures/multilayer:v2s2", "--dir", d)
    log = proxy.requests()
    tap.eq([x["path"].split("/")[-2] if x["path"] != "/v2/" else "ping" for x in log],
           ["ping", "manifests", "blobs"] + ["blobs"] * len(base["layers"]),
           "sequential pull: ping, manifest, config, layers")
    tap.eq(len({x["conn"] for x in log}), 1, "sequential pull: one connection for everything")

    # connection resets: curl retries a dead reused connection once by itself; the second
    # reset comes on a fresh connection and is ours to retry
    proxy.clear_log()
    proxy.add_fault("reset", path=blob, times=2)
    rc, r, err = fetch()
    tap.eq(rc, 0, "reset twice: fetch succeeds")
    tap.eq(r and r["sink_digest"], layer, "reset twice: the bytes are right")
    tap.eq([x["status"] for x in requests_to(proxy, blob)], ["reset", "reset", 200],
           "reset twice: the proxy saw the retries")
    tap.has(err, "retrying in", "reset twice: our retry is in the debug log")

    for status in (500, 503):
        proxy.clear_log()
        proxy.add_fault("status", path=blob, status=status, times=1)
        rc, r, err = fetch()
        tap.eq(rc, 0, f"{status} once: fetch succeeds")
        tap.eq([x["status"] for x in requests_to(proxy, blob)], [status, 200],
               f"{status} once: retried")
        tap.has(err, f"HTTP {status}, retrying in", f"{status} once: logged")

    proxy.clear_log()
    proxy.add_fault("status", path=blob, status=429, retry_after=2, times=1)
    rc, r, err = fetch()
    tap.eq(rc, 0, "429 with Retry-After: fetch succeeds")
    tap.eq([x["status"] for x in requests_to(proxy, blob)], [429, 200], "429: retried")
    m = re.search(r"HTTP 429, retrying in (\d+) ms", err)
    tap.ok(m and 2000 <= int(m.group(1)) <= 2200, "429: waits what Retry-After asks",
           m and m.group(0))

    # retries run out: the error has the registry's status, code and message
    proxy.clear_log()
    proxy.add_fault("status", path=blob, status=503, times=0, message="slow down, please")
    rc, r, err = fetch("--image-download-retry", 1)
    tap.eq(len(requests_to(proxy, blob)), 4, "503 always: 1 try + 2 default retries + 1 more")
    tap.has(err, f"error: fetch blob {layer} from '{repo}': HTTP 503 Service Unavailable: "
                 "UNAVAILABLE: slow down, please", "503 always: the error says it all")
    proxy.clear_faults()

    # a body cut short is resumed with a Range request
    proxy.clear_log()
    proxy.add_fault("truncate", path=blob, bytes=100, times=1)
    rc, r, err = fetch()
    reqs = requests_to(proxy, blob)
    tap.eq(rc, 0, "cut once: fetch succeeds")
    tap.eq(r and r["sink_digest"], layer, "cut once: the bytes are right")
    tap.eq([x["status"] for x in reqs], [200, 206], "cut once: resumed")
    tap.eq(reqs[-1]["headers"].get("range"), "bytes=100-", "cut once: from byte 100")
    proxy.clear_log()
    proxy.add_fault("truncate", path=blob, bytes=100, times=0)
    rc, r, err = fetch()
    reqs = requests_to(proxy, blob)
    tap.eq(rc, 0, "cut every time after 100 bytes: still completes, 100 bytes at a time")
    tap.eq(len(reqs), (size + 99) // 100, "cut every time: one request per 100 bytes")
    proxy.clear_faults()
    proxy.add_fault("truncate", path=blob, bytes=0, times=0)
    rc, r, err = fetch()
    tap.ok(rc != 0, "cut every time before any byte: fails")
    tap.has(err, f"error: fetch blob {layer} from '{repo}': GET http://{host}/v2/fixtures/"
                 f"multilayer{blob}: transfer closed with {size} bytes remaining to read",
            "cut before any byte: the error says the transfer was cut")
    proxy.clear_faults()

    # a corrupted body is a digest mismatch, and not retried
    proxy.clear_log()
    proxy.add_fault("corrupt", path=blob, offset=10, times=1)
    rc, r, err = fetch()
    tap.ok(rc != 0, "corrupt body: fails")
    tap.has(err, f"error: fetch blob {layer} from '{repo}': digest mismatch: received "
                 "content is sha256:", "corrupt body: digest mismatch named")
    tap.eq(len(requests_to(proxy, blob)), 1, "corrupt body: not retried")
    rc, _, err = c.run("resolve", f"{host}/fixtures/multilayer:v2s2", "--platform",
                       "linux/amd64", check=False)
    tap.eq(rc, 0, "the next pull is fine")

    # manifests: a corrupted manifest is caught by its digest or Docker-Content-Digest
    proxy.add_fault("corrupt", path="/manifests/v2s2", offset=5, times=1)
    err = c.error("resolve", f"{host}/fixtures/multilayer:v2s2")
    tap.has(err, "digest mismatch: content is sha256:", "corrupt manifest by tag: caught")
    tap.has(err, f"but Docker-Content-Digest says {base['digest']}",
            "corrupt manifest by tag: against the header")
    proxy.add_fault("corrupt", path="/manifests/sha256:", offset=5, times=1)
    err = c.error("resolve", f"{host}/fixtures/multilayer@{base['digest']}")
    tap.has(err, "digest mismatch: received content is sha256:", "corrupt manifest by digest")

    # a stall is cut by the stall timeout and retried
    proxy.clear_log()
    proxy.add_fault("delay", path=blob, seconds=4, times=1)
    rc, r, err = fetch("--stall-timeout", 1)
    tap.eq(rc, 0, "stalled once: fetch succeeds")
    tap.has(err, "Operation too slow", "stalled once: curl gave up on the stall")
    tap.eq(len(requests_to(proxy, blob)), 2, "stalled once: retried")

    # redirects to a storage host: Authorization stays behind
    proxy.clear_log()
    proxy.add_fault("redirect", path=blob, times=1)
    rc, r, err = fetch()
    reqs = requests_to(proxy, "")
    storage = [x for x in reqs if x.get("storage")]
    first = [x for x in reqs if blob in x["path"]][0]
    tap.eq(rc, 0, "redirect: fetch succeeds")
    tap.eq(r and r["sink_digest"], layer, "redirect: the bytes are right")
    tap.eq(first["headers"].get("authorization"), "Basic <redacted>",
           "redirect: the registry got the Authorization header")
    tap.eq(len(storage), 1, "redirect: the storage URL was fetched")
    tap.eq(storage and storage[0]["headers"].get("authorization"), None,
           "redirect: no Authorization to the other host")

    # uploads: a reset PATCH, a failing commit and a failing manifest PUT start over or retry
    big = os.path.join(c.dir, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(2 * 1024 * 1024 + 17))
    proxy.clear_log()
    proxy.add_fault("reset", method="PATCH", times=1, forward=True)
    rc, r, err = c.run(*fast, "push-blob", f"{host}/test/up1", big, check=False)
    ups = [x["method"] for x in requests_to(proxy, "/test/up1/blobs/uploads/")]
    tap.eq(rc, 0, "PATCH reset: push succeeds")
    tap.eq(ups, ["POST", "PATCH", "DELETE", "POST", "PATCH", "PUT"],
           "PATCH reset: the session is dropped and the upload starts over")
    tap.has(err, "starting the upload again", "PATCH reset: logged")
    proxy.clear_log()
    proxy.add_fault("status", method="PUT", path="/test/up2/blobs/uploads/", status=500,
                    times=1)
    rc, r, err = c.run(*fast, "push-blob", f"{host}/test/up2", big, check=False)
    ups = [(x["method"], x["status"]) for x in requests_to(proxy, "/test/up2/blobs/uploads/")]
    tap.eq(rc, 0, "commit 500: push succeeds")
    tap.eq([m for m, _ in ups], ["POST", "PATCH", "PUT", "POST", "PATCH", "PUT"],
           "commit 500: the upload starts over")
    config = os.path.join(c.dir, "config.json")
    with open(config, "w") as f:
        f.write('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers",'
                '"diff_ids":[]}}')
    proxy.clear_log()
    proxy.add_fault("status", method="PUT", path="/manifests/", status=503, times=1)
    rc, r, err = c.run(*fast, "push-image", f"{host}/test/up2:v1", "--config", config,
                       "--layer", big, check=False)
    puts = [x["status"] for x in requests_to(proxy, "/manifests/", "PUT")]
    tap.eq(rc, 0, "manifest PUT 503: push succeeds")
    tap.eq(puts, [503, 201], "manifest PUT 503: retried")
    raw, digest = sk.inspect_raw(f"docker://{reg.host}/test/up2:v1", reg.skopeo_args(""))
    tap.eq(r and r["digest"], digest, "manifest PUT 503: skopeo reads the pushed digest")
    sk.copy(f"docker://{reg.host}/test/up2:v1", f"oci:{os.path.join(c.dir, 'up2')}:x",
            reg.skopeo_args("src"))
    tap.ok(True, "skopeo copy verified the blobs pushed through faults")
    proxy.clear_faults()

    # an upload source that does not match its digest is never committed
    wrong = "sha256:" + "3" * 64
    proxy.clear_log()
    err = c.error("push-blob", f"{host}/test/lie", big, "--digest", wrong)
    tap.has(err, f"push blob {wrong} to '{host}/test/lie': upload: the blob source's content "
                 f"is sha256:", "a lying streamed source is refused")
    tap.has(err, "not committing the upload", "a lying streamed source is not committed")
    tap.eq([x["method"] for x in requests_to(proxy, "/test/lie/blobs/uploads/")],
           ["POST", "PATCH", "DELETE"], "a lying streamed source: the session is cancelled")
    small = os.path.join(c.dir, "small.bin")
    with open(small, "wb") as f:
        f.write(b"small")
    err = c.error("push-blob", f"{host}/test/lie", small, "--digest", wrong)
    tap.has(err, f"push blob {wrong} to '{host}/test/lie': the blob source's content is "
                 "sha256:", "a lying small source is refused before it is sent")


if __name__ == "__main__":
    main("faults", body)
