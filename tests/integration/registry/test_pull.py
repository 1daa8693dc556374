# SPDX-License-Identifier: Apache-2.0
"""Pulling through lading's client from the real registry in every mode (http, https, mtls,
basic, token, token+https): manifests, indexes and blobs of umoci+skopeo fixtures, compared
byte for byte and digest for digest with what skopeo reads."""

import os

from harness import skopeo as sk
from regtest import config_for, main, sha256_file, skopeo_raw

PLATFORMS = {"linux/amd64": "linux/amd64", "linux/arm64": "linux/arm64",
             "linux/arm64/v8": "linux/arm64", "linux/aarch64": "linux/arm64",
             "linux/arm/v7": "linux/arm/v7", "linux/arm": "linux/arm/v7"}


def client_for(env, reg, name):
    opts = []
    if reg.tls:
        opts += ["--registry-certificate", f"{reg.host}={reg.ca_cert}"]
    if reg.client_cert:
        opts += ["--registry-client-cert", f"{reg.host}={reg.client_cert},{reg.client_key}"]
    config = config_for(reg) if reg.auth != "none" else None
    return env.client(name, config=config), opts


def check_image(tap, c, opts, reg, ref, mode):
    raw, digest = skopeo_raw(ref, reg)
    cfg_raw, cfg_digest = sk.inspect_raw("docker://" + ref, reg.skopeo_args(""), config=True)
    out_m = os.path.join(c.dir, "manifest.out")
    out_c = os.path.join(c.dir, "config.out")
    _, r, _ = c.run(*opts, "resolve", ref, "--manifest-out", out_m, "--config-out", out_c)
    tap.eq(r["digest"], digest, f"{mode}: {ref} digest as skopeo reads it")
    tap.eq(r["config"]["digest"], cfg_digest, f"{mode}: {ref} config digest")
    with open(out_m, "rb") as f:
        tap.ok(f.read() == raw, f"{mode}: {ref} manifest bytes as skopeo reads them")
    with open(out_c, "rb") as f:
        tap.ok(f.read() == cfg_raw, f"{mode}: {ref} config bytes as skopeo reads them")
    return r


def pull_mode(tap, env, mode):
    reg = env.registry(mode, name=mode.replace("+", "-"))
    small = env.push_fixture("small", reg, "fixtures/small:oci")
    multi = env.push_fixture("multiarch", reg, "fixtures/multiarch:oci")
    multi2 = env.push_fixture("multiarch", reg, "fixtures/multiarch:v2s2", fmt="v2s2")
    layered = env.push_fixture("multilayer", reg, "fixtures/multilayer:v2s2", fmt="v2s2")
    c, opts = client_for(env, reg, "client-" + mode.replace("+", "-"))

    r = check_image(tap, c, opts, reg, small["reference"], mode)
    tap.eq(r["media_type"], "application/vnd.oci.image.manifest.v1+json",
           f"{mode}: OCI manifest media type")
    tap.eq([x["digest"] for x in r["layers"]], small["layers"], f"{mode}: small's layers")
    r = check_image(tap, c, opts, reg, layered["reference"], mode)
    tap.eq(r["media_type"], "application/vnd.docker.distribution.manifest.v2+json",
           f"{mode}: Docker manifest media type")
    tap.eq([x["digest"] for x in r["layers"]], layered["layers"], f"{mode}: multilayer's layers")
    tap.ok(all(x["mediaType"] == "application/vnd.docker.image.rootfs.diff.tar.gzip"
               for x in r["layers"]), f"{mode}: Docker layer media types")

    # every layer fetched in parallel into files named by their hex digest
    d = os.path.join(c.dir, "layers")
    os.makedirs(d, exist_ok=True)
    c.run(*opts, "--parallel", 3, "fetch-all", layered["reference"], "--dir", d)
    files = sorted(os.listdir(d))
    tap.eq(files, sorted(x[7:] for x in layered["layers"]), f"{mode}: every layer fetched")
    tap.ok(all(sha256_file(os.path.join(d, f)) == "sha256:" + f for f in files),
           f"{mode}: fetched layers have their digests")

    for idx, kind in ((multi, "OCI index"), (multi2, "Docker manifest list")):
        by_plat = {m["platform"]: m["digest"] for m in idx["manifests"]}
        for want, plat in PLATFORMS.items():
            _, r, _ = c.run(*opts, "resolve", idx["reference"], "--platform", want)
            tap.eq(r["digest"], by_plat[plat], f"{mode}: {kind} entry for {want}")
            tap.eq(r.get("index_digest"), idx["digest"], f"{mode}: {kind} digest for {want}")
        err = c.error(*opts, "resolve", idx["reference"], "--platform", "linux/s390x")
        tap.has(err, "no manifest for platform 'linux/s390x' in the index (it has: "
                     "linux/amd64, linux/arm64, linux/arm/v7)",
                f"{mode}: {kind} without the platform")
    _, r, _ = c.run(*opts, "manifest", multi["reference"])
    tap.eq(r["digest"], multi["digest"], f"{mode}: index fetched as such")
    tap.eq(r["media_type"], "application/vnd.oci.image.index.v1+json", f"{mode}: index type")
    _, r, _ = c.run(*opts, "manifest", multi2["reference"])
    tap.eq(r["media_type"], "application/vnd.docker.distribution.manifest.list.v2+json",
           f"{mode}: manifest list type")
    by_digest = f"{reg.host}/fixtures/multiarch@{multi['manifests'][1]['digest']}"
    _, r, _ = c.run(*opts, "resolve", by_digest)
    tap.eq(r["digest"], multi["manifests"][1]["digest"], f"{mode}: pull by digest")

    _, r, _ = c.run(*opts, "tags", f"{reg.host}/fixtures/multiarch")
    tap.eq(sorted(r["tags"]), ["oci", "v2s2"], f"{mode}: tags")

    err = c.error(*opts, "resolve", f"{reg.host}/fixtures/small:nope")
    tap.has(err, "HTTP 404 Not Found: MANIFEST_UNKNOWN: manifest unknown",
            f"{mode}: unknown tag names the registry's error")
    err = c.error(*opts, "tags", f"{reg.host}/no/such/repo")
    tap.has(err, f"list tags of '{reg.host}/no/such/repo': HTTP 404 Not Found: NAME_UNKNOWN: "
                 "repository name not known to registry",
            f"{mode}: unknown repository names the registry's error")
    missing = "sha256:" + "0" * 64
    err = c.error(*opts, "fetch", f"{reg.host}/fixtures/small", missing, 10)
    tap.has(err, f"fetch blob {missing} from '{reg.host}/fixtures/small': HTTP 404 Not Found: "
                 "BLOB_UNKNOWN: blob unknown to registry", f"{mode}: unknown blob")
    if mode == "http":
        # a foreign layer: the registry does not have it, its descriptor's URL does
        layer = small["layers"][0]
        size = os.path.getsize(os.path.join(env.store.layout, "blobs", "sha256", layer[7:]))
        url = f"http://{reg.host}/v2/fixtures/small/blobs/{layer}"
        _, r, _ = c.run(*opts, "fetch", f"{reg.host}/other/repo", layer, size, "--url",
                        "ftp://ignored.example/x", "--url", url)
        tap.eq(r["sink_digest"], layer, "http: a foreign layer comes from its URL")
        err = c.error(*opts, "fetch", f"{reg.host}/other/repo", layer, size)
        tap.has(err, "BLOB_UNKNOWN", "http: without URLs the missing layer is an error")
    return reg, c, opts, small


def https_options(tap, env, reg, small):
    ref = small["reference"]
    c = env.client("https-none")
    err = c.error("resolve", ref)
    tap.has(err, "SSL certificate problem", "https without the CA: certificate error")
    tap.has(err, "--registry-certificate", "https without the CA: says what to do")
    c = env.client("https-kaniko-certs", certs=[reg.ca_cert])
    _, r, err = c.run("--verbosity", "debug", "resolve", ref)
    tap.has(err, "/manifests/oci: HTTP/2 200", "https: HTTP/2 is used when offered")
    tap.eq(r["digest"], small["digest"], "https with the CA in $KANIKO_DIR/ssl/certs")
    c = env.client("https-skip")
    _, r, _ = c.run("--skip-tls-verify-pull", "resolve", ref)
    tap.eq(r["digest"], small["digest"], "https with --skip-tls-verify-pull")
    _, r, _ = c.run("--skip-tls-verify-registry", reg.host, "resolve", ref)
    tap.eq(r["digest"], small["digest"], "https with --skip-tls-verify-registry")
    err = c.error("--skip-tls-verify", "resolve", ref)
    tap.has(err, "SSL certificate problem", "--skip-tls-verify is for pushes only")


def mtls_options(tap, env, reg, small):
    c = env.client("mtls-nocert")
    err = c.error("--registry-certificate", f"{reg.host}={reg.ca_cert}", "resolve",
                  small["reference"])
    tap.ok(err != "", "mtls without a client certificate fails", err)


def token_anonymous(tap, env, reg, small):
    c = env.client("token-anon")
    err = c.error("--registry-certificate", f"{reg.host}={reg.ca_cert}", "resolve",
                  small["reference"])
    tap.has(err, "HTTP 401 Unauthorized: UNAUTHORIZED: authentication required",
            "token: anonymous pull of a private repository is refused")
    tap.has(err, f"no credentials for '{reg.host}': no Docker config found",
            "token: the message says no credentials were found")


def body(tap, env):
    results = {}
    for mode in ("http", "https", "mtls", "basic", "token", "token+https"):
        results[mode] = pull_mode(tap, env, mode)
    reg, _, _, small = results["https"]
    https_options(tap, env, reg, small)
    reg, _, _, small = results["mtls"]
    mtls_options(tap, env, reg, small)
    reg, _, _, small = results["token+https"]
    token_anonymous(tap, env, reg, small)


if __name__ == "__main__":
    main("pull", body)
