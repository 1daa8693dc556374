# SPDX-License-Identifier: Apache-2.0
"""Pushing through lading's client to the real registry (Bearer tokens over HTTPS, behind the
fault proxy, which records every request): images built from blobs, checked with skopeo;
cross-repository mounts (no blob uploaded again); existing blobs skipped; streamed sources;
indexes; the push permission check; registry errors."""

import gzip
import io
import json
import os
import random
import tarfile

from harness import skopeo as sk
from harness.tokenserver import Rule
from regtest import config_for, main, sha256_file

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def make_layer(path, files):
    """A gzip-compressed tar of {name: bytes}, reproducible."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    with open(path, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
            g.write(buf.getvalue())
    return path


def make_config(path, layers):
    diff_ids = []
    for layer in layers:
        with gzip.open(layer, "rb") as g:
            import hashlib
            h = hashlib.sha256()
            for chunk in iter(lambda: g.read(1 << 20), b""):
                h.update(chunk)
            diff_ids.append("sha256:" + h.hexdigest())
    cfg = {"architecture": "amd64", "os": "linux",
           "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
           "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    with open(path, "w") as f:
        json.dump(cfg, f, sort_keys=True)
    return path


def posts_and_puts(log, digest):
    """Upload requests (POST without mount, PATCH, PUT ?digest=) that carried this blob."""
    out = []
    for r in log:
        p = r.get("path", "")
        if "/blobs/uploads/" not in p:
            continue
        if r["method"] == "PUT" and ("digest=" + digest in p or
                                     "digest=" + digest.replace(":", "%3A") in p):
            out.append(r)
    return out


def body(tap, env):
    users = {"alice": "wonderland", "bob": "builder"}
    rules = [Rule("alice", "*", ["pull", "push", "delete"]), Rule("bob", "*", ["pull"])]
    reg = env.registry("token+https", users=users, rules=rules)
    proxy = env.proxy(reg)
    host = proxy.host
    ca_opt = ["--registry-certificate", f"{host}={proxy.ca_cert}"]
    SK = ["--cert-dir", proxy.cert_dir, "--creds", "alice:wonderland"]
    SKC = ["--src-cert-dir", proxy.cert_dir, "--src-creds", "alice:wonderland"]
    c = env.client("alice", config={"auths": {host: config_for(reg)["auths"][reg.host]}})
    work = c.dir
    rng = random.Random(7)
    big = make_layer(os.path.join(work, "big.tar.gz"),
                     {"big.bin": rng.randbytes(3 * 1024 * 1024)})
    small = make_layer(os.path.join(work, "small.tar.gz"), {"etc/hello": b"hello\n"})
    config = make_config(os.path.join(work, "config.json"), [big, small])

    # an image of two layers, OCI and Docker media types
    for kind, extra, mt in (("oci", [], OCI_MANIFEST), ("docker", ["--docker"], DOCKER_MANIFEST)):
        ref = f"{host}/test/app:{kind}"
        _, r, _ = c.run(*ca_opt, "push-image", ref, "--config", config, "--layer", big,
                        "--layer", small, *extra)
        raw, digest = sk.inspect_raw("docker://" + ref, SK)
        tap.eq(r["digest"], digest, f"{kind}: pushed digest is what skopeo reads")
        m = json.loads(raw)
        tap.eq(m.get("mediaType"), mt, f"{kind}: manifest media type")
        tap.eq([x["digest"] for x in m["layers"]], [sha256_file(big), sha256_file(small)],
               f"{kind}: layers")
        out = os.path.join(work, f"copy-{kind}")
        sk.copy("docker://" + ref, f"oci:{out}:x", SKC)
        tap.ok(os.path.exists(os.path.join(out, "blobs", "sha256", sha256_file(big)[7:])),
               f"{kind}: skopeo copy read the image back (it verifies every blob)")
    tap.eq(r["blobs"], ["existed", "existed", "existed"],
           "second image: every blob was there already")

    # pushing again uploads nothing
    proxy.clear_log()
    _, r, _ = c.run(*ca_opt, "push-image", f"{host}/test/app:oci", "--config", config,
                    "--layer", big, "--layer", small)
    log = proxy.requests()
    tap.eq(r["blobs"], ["existed", "existed", "existed"], "push again: all blobs exist")
    tap.eq([x["method"] for x in log if "/blobs/" in x["path"]], ["HEAD"] * 3,
           "push again: only HEAD requests for blobs")

    # cross-repository mount from a base image pushed by skopeo
    base = env.push_fixture("multilayer", reg, "base/multilayer:v1", fmt="v2s2")
    layers = []
    for i, d in enumerate(base["layers"]):
        path = os.path.join(work, f"base-{i}.tar.gz")
        c.run(*ca_opt, "fetch", f"{host}/base/multilayer", d,
              os.path.getsize(os.path.join(env.store.layout, "blobs", "sha256", d[7:])),
              "--out", path)
        layers.append(path)
    derived = layers + [small]
    dconfig = make_config(os.path.join(work, "dconfig.json"), derived)
    proxy.clear_log()
    args = [*ca_opt, "--parallel", 2, "push-image", f"{host}/test/derived:v1",
            "--config", dconfig, "--mount-from", f"{host}/base/multilayer"]
    for layer in derived:
        args += ["--layer", layer]
    _, r, _ = c.run(*args)
    log = proxy.requests()
    tap.eq(r["blobs"], ["uploaded"] + ["mounted"] * len(layers) + ["uploaded"],
           "derived image: base layers mounted, the rest uploaded")
    mounts = [x for x in log if x["method"] == "POST" and "mount=" in x["path"]]
    tap.eq(sorted(x["status"] for x in mounts if x["status"] == 201), [201] * len(layers),
           "derived image: one 201 mount per base layer")
    for d in base["layers"]:
        tap.eq(posts_and_puts(log, d), [], f"derived image: base layer {d[:19]} not uploaded")
    tap.eq([x for x in log if x["method"] == "PATCH" and x.get("status") != 202], [],
           "derived image: uploads succeeded")
    raw, digest = sk.inspect_raw(f"docker://{host}/test/derived:v1",
                                 SK)
    tap.eq(r["digest"], digest, "derived image: digest as skopeo reads it")
    sk.copy(f"docker://{host}/test/derived:v1", f"oci:{os.path.join(work, 'derived')}:x",
            SKC)
    tap.ok(True, "derived image: skopeo copy verified every blob")

    # a streamed source (no fd, no rewind): one PATCH, then the PUT
    proxy.clear_log()
    _, r, _ = c.run(*ca_opt, "push-blob", f"{host}/test/streamed", big, "--stream")
    log = proxy.requests()
    tap.eq(r["result"], "uploaded", "streamed source uploaded")
    tap.eq([x["method"] for x in log if "/blobs/uploads/" in x["path"]],
           ["POST", "PATCH", "PUT"], "streamed source: POST, PATCH, PUT")
    patch = [x for x in log if x["method"] == "PATCH"][0]
    tap.eq(patch.get("request_bytes"), os.path.getsize(big), "the PATCH carried the whole blob")
    _, r, _ = c.run(*ca_opt, "push-blob", f"{host}/test/mono", small)
    log = proxy.requests()
    tap.eq(r["result"], "uploaded", "small blob uploaded")
    tap.eq([x["method"] for x in log if "/test/mono/blobs/uploads/" in x["path"]],
           ["POST", "PUT"], "small blob: one monolithic PUT")
    _, r, _ = c.run(*ca_opt, "push-image", f"{host}/test/streamed:v1", "--config", config,
                    "--layer", big, "--layer", small)
    sk.copy(f"docker://{host}/test/streamed:v1", f"oci:{os.path.join(work, 'streamed')}:x",
            SKC)
    tap.eq(r["blobs"][1], "existed", "streamed blob is in the registry and verifies")

    # an index over the two images, pushed under a tag and by digest
    entries = []
    for kind in ("oci", "docker"):
        raw, digest = sk.inspect_raw(f"docker://{host}/test/app:{kind}",
                                     SK)
        entries.append({"mediaType": json.loads(raw)["mediaType"], "digest": digest,
                        "size": len(raw), "platform": {"os": "linux", "architecture":
                                                       "amd64" if kind == "oci" else "arm64"}})
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
    ipath = os.path.join(work, "index.json")
    with open(ipath, "w") as f:
        f.write(index)
    _, r, _ = c.run(*ca_opt, "put-manifest", f"{host}/test/app:multi", ipath, "--media-type",
                    OCI_INDEX)
    raw, digest = sk.inspect_raw(f"docker://{host}/test/app:multi", SK)
    tap.eq(r["digest"], digest, "index pushed: digest as skopeo reads it")
    tap.ok(raw == index.encode(), "index pushed byte for byte")
    _, r, _ = c.run(*ca_opt, "put-manifest", f"{host}/test/app@{digest}", ipath,
                    "--media-type", OCI_INDEX)
    tap.eq(r["digest"], digest, "index pushed by digest")
    bad = f"{host}/test/app@sha256:{'1' * 64}"
    err = c.error(*ca_opt, "put-manifest", bad, ipath, "--media-type", OCI_INDEX)
    tap.has(err, "manifest digest is " + digest, "push by a digest the content does not have")
    _, r, _ = c.run(*ca_opt, "tags", f"{host}/test/app")
    tap.eq(sorted(r["tags"]), ["docker", "multi", "oci"], "tags after pushing")

    # registry errors come back with their code and message
    broken = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
              "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                         "digest": "sha256:" + "2" * 64, "size": 10}, "layers": []}
    bpath = os.path.join(work, "broken.json")
    with open(bpath, "w") as f:
        json.dump(broken, f)
    err = c.error(*ca_opt, "put-manifest", f"{host}/test/app:broken", bpath, "--media-type",
                  OCI_MANIFEST)
    tap.has(err, f"push manifest to '{host}/test/app:broken': HTTP 400 Bad Request: "
                 "MANIFEST_BLOB_UNKNOWN: blob unknown to registry",
            "a manifest naming a missing blob: the registry's code and message")

    # push permission: alice may push, bob may only pull
    _, r, _ = c.run(*ca_opt, "check-push", f"{host}/test/app:new")
    tap.eq(r["push_allowed"], True, "check-push for alice")
    bob = env.client("bob", config={"auths": {host: {"username": "bob", "password": "builder"}}})
    err = bob.error(*ca_opt, "check-push", f"{host}/test/app:new")
    tap.has(err, f"check push permission for '{host}/test/app': HTTP 401 Unauthorized: "
                 "UNAUTHORIZED: authentication required",
            "check-push for bob is refused with the registry's words")
    tap.has(err, f"(credentials for '{host}' from {bob.config_path} (auths '{host}'))",
            "check-push for bob names the credential tried")
    _, r, _ = bob.run(*ca_opt, "resolve", f"{host}/test/app:oci")
    tap.ok(r["digest"].startswith("sha256:"), "bob may still pull")
    err = bob.error(*ca_opt, "push-blob", f"{host}/test/bob", small)
    tap.has(err, "HTTP 401 Unauthorized", "bob's blob push is refused")

    # a registry that answers with relative Location headers
    rel = env.registry("http", name="relative", relative_urls=True)
    cr = env.client("relative")
    for path in (big, small):
        _, r, _ = cr.run("push-blob", f"{rel.host}/test/rel", path)
        tap.eq(r["result"], "uploaded", f"relative Location: {os.path.basename(path)} uploaded")
    _, r, _ = cr.run("push-image", f"{rel.host}/test/rel:v1", "--config", config, "--layer",
                     big, "--layer", small)
    raw, digest = sk.inspect_raw(f"docker://{rel.host}/test/rel:v1", rel.skopeo_args(""))
    tap.eq(r["digest"], digest, "relative Location: the image is complete")

    # token reuse: one token per scope for a whole push
    reg.token_server.clear_log()
    c.run(*ca_opt, "--parallel", 3, "push-image", f"{host}/test/reuse:v1", "--config", config,
          "--layer", big, "--layer", small, "--mount-from", f"{host}/test/app")
    scopes = [" ".join(x["scopes"]) for x in reg.token_server.log()]
    tap.eq(sorted(set(scopes)), sorted(["repository:test/reuse:pull,push",
                                        "repository:test/reuse:pull,push "
                                        "repository:test/app:pull"]),
           "token scopes of a push with mounts")
    tap.eq(len(scopes), len(set(scopes)), "each scope's token fetched once", )


if __name__ == "__main__":
    main("push", body)
