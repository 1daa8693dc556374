# SPDX-License-Identifier: Apache-2.0
"""--registry-map and --registry-mirror: mapped pulls go to the mirror (with its path prefix),
fall back to the registry itself when the mirror lacks the image (unless
--skip-default-registry-fallback), are tried in order, and never apply to pushes. Docker Hub
references are only ever resolved with the fallback off: the tests never reach the internet."""

import os

from regtest import main


def traffic(proxy):
    return [r for r in proxy.requests(settle=2.0) if r["path"] != "/v2/"]


def body(tap, env):
    up = env.registry("http", name="upstream")
    mir = env.registry("http", name="mirror")
    upx = env.proxy(up, name="upstream-proxy")
    mx = env.proxy(mir, name="mirror-proxy")
    small = env.push_fixture("small", up, "fixtures/small:oci")
    env.push_fixture("multiarch", up, "fixtures/multiarch:oci")
    env.push_fixture("small", mir, "cache/fixtures/small:oci")
    env.push_fixture("small", mir, "library/small:oci")
    env.push_fixture("small", mir, "hub/library/small:oci")
    c = env.client("mirrors")
    fast = ["--retry-base-ms", 10]
    ref = f"{upx.host}/fixtures/small:oci"
    mapping = ["--registry-map", f"{upx.host}={mx.host}/cache"]

    _, r, _ = c.run(*mapping, "resolve", ref)
    tap.eq(r["source"], f"{mx.host}/cache/fixtures/small:oci", "map: read from the mirror")
    tap.eq(r["digest"], small["digest"], "map: the same image")
    tap.eq(traffic(upx), [], "map: the registry itself saw nothing")
    d = os.path.join(c.dir, "layers")
    os.makedirs(d)
    c.run(*mapping, "fetch-all", ref, "--dir", d)
    tap.eq(traffic(upx), [], "map: layers come from the mirror too")

    upx.clear_log()
    _, r, err = c.run(*mapping, "--verbosity", "debug", "resolve",
                      f"{upx.host}/fixtures/multiarch:oci")
    tap.eq(r["source"], f"{upx.host}/fixtures/multiarch:oci",
           "map: an image the mirror lacks comes from the registry")
    tap.has(err, f"not available from '{mx.host}/cache/fixtures/multiarch'",
            "map: the fallback is logged")
    mx.clear_log()
    upx.clear_log()
    err = c.error(*mapping, "--skip-default-registry-fallback", "resolve",
                  f"{upx.host}/fixtures/multiarch:oci")
    tap.has(err, f"resolve '{upx.host}/fixtures/multiarch:oci': not found on any configured "
                 "mirror (--skip-default-registry-fallback): get manifest 'oci' of "
                 f"'{mx.host}/cache/fixtures/multiarch': HTTP 404 Not Found: MANIFEST_UNKNOWN",
            "skip fallback: the mirror's answer and why there is nothing else")
    tap.eq(traffic(upx), [], "skip fallback: the registry itself is not asked")

    # in order: a dead mirror, then a good one
    dead = ["--registry-map", f"{upx.host}=127.0.0.1:1;{upx.host}={mx.host}/cache"]
    _, r, _ = c.run(*fast, *dead, "resolve", ref)
    tap.eq(r["source"], f"{mx.host}/cache/fixtures/small:oci", "maps are tried in order")
    err = c.error(*fast, "--registry-map", f"{upx.host}=127.0.0.1:1",
                  "--skip-default-registry-fallback", "resolve", ref)
    tap.has(err, "reach registry '127.0.0.1:1'", "a dead mirror is named")

    # pushes are never mapped
    mx.clear_log()
    upx.clear_log()
    blob = os.path.join(c.dir, "b.bin")
    with open(blob, "wb") as f:
        f.write(b"not mapped")
    c.run(*mapping, "push-blob", f"{upx.host}/test/pushed", blob)
    tap.eq(traffic(mx), [], "push: the mirror saw nothing")
    tap.ok(any(x["method"] == "PUT" for x in traffic(upx)), "push: went to the registry")

    # Docker Hub mirrors (the fallback stays off: no request may leave this machine)
    hub = ["--skip-default-registry-fallback"]
    _, r, _ = c.run(*hub, "--registry-mirror", mx.host, "resolve", "small:oci")
    tap.eq(r["source"], f"{mx.host}/library/small:oci", "mirror: Docker Hub's library/ path")
    _, r, _ = c.run(*hub, "--registry-mirror", f"http://{mx.host}", "resolve",
                    "docker.io/library/small:oci")
    tap.eq(r["source"], f"{mx.host}/library/small:oci", "mirror given as a URL")
    _, r, _ = c.run(*hub, "--registry-map", f"index.docker.io={mx.host}/hub", "resolve",
                    "index.docker.io/library/small:oci")
    tap.eq(r["source"], f"{mx.host}/hub/library/small:oci",
           "map for index.docker.io with a path prefix")
    _, r, _ = c.run(*fast, *hub, "--registry-mirror", "127.0.0.1:1", "--registry-mirror",
                    mx.host, "resolve", "small:oci")
    tap.eq(r["source"], f"{mx.host}/library/small:oci", "mirrors are tried in order")
    err = c.error(*hub, "--registry-mirror", mx.host, "resolve", "nosuchimage:1")
    tap.has(err, "resolve 'docker.io/library/nosuchimage:1': not found on any configured mirror "
                 "(--skip-default-registry-fallback)", "mirror without the image: error")
    _, r, _ = c.run(*hub, "--registry-mirror", mx.host, "resolve", ref)
    tap.eq(r["source"], f"{upx.host}/fixtures/small:oci",
           "mirrors apply to Docker Hub only")


if __name__ == "__main__":
    main("mirrors", body)
