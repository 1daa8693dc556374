#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The layer cache, end to end: lading's executor builds in sandbox mode against a registry
on 127.0.0.1, twice or more, and the tests check which steps ran (each RUN calls a counter
server, so a step served from the cache is proven not to have run), what the log says, and
the images the registry holds (read with skopeo and umoci). Prints TAP.

usage: test_cache.py GROUP --executor EXE [--warmer EXE]
groups: rebuild, changes, unavailable, warmer, ttl, multistage, oci, mounts, other_registry"""

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cachelib import CacheTest, Tap, run_step  # noqa: E402
from harness import Registry, Rule, proxy_for  # noqa: E402

BASIC = f"""ARG BASE
FROM ${{BASE}}
ARG COUNTER
WORKDIR /app
COPY a.txt /app/
RUN {run_step("a")} && cat /app/a.txt > /app/a.copy
ARG FLAVOUR=plain
COPY b.txt ./
RUN {run_step("b")} && echo "$FLAVOUR" > /app/flavour
ENV X=1
LABEL l=1
RUN {run_step("c")} && ls /app > /app/list && echo "$X" > /app/x
"""
BASIC_FILES = {"Dockerfile": BASIC, "a.txt": "alpha\n", "b.txt": "beta\n",
               ".dockerignore": "*.log\n", "debug.log": "log 1\n"}

STEPS = ["WORKDIR /app", "COPY a.txt /app/", f"RUN {run_step('a')} && cat /app/a.txt > /app/a.copy",
         "COPY b.txt ./", f"RUN {run_step('b')} && echo \"$FLAVOUR\" > /app/flavour",
         f"RUN {run_step('c')} && ls /app > /app/list && echo \"$X\" > /app/x"]
RUN_A, RUN_B, RUN_C = STEPS[2], STEPS[4], STEPS[5]


def check_build(t, res, desc):
    return t.ok(res.status == 0, f"{desc}: the build succeeds", res.summary())


def test_rebuild(t, ct, args):
    ctx = ct.context("ctx", BASIC_FILES)
    res = ct.build(ctx, "1", "--cache-copy-layers", "-v", "debug")
    check_build(t, res, "cold build")
    t.eq(res.stderr.count("extracted layer "), 1, "cold build: only the base layer is extracted")
    t.eq(res.served(), [], "cold build: nothing from the cache")
    t.eq(res.missed(), STEPS, "cold build: every step looked up and missed")
    t.eq(ct.counter.snapshot(), {"a": 1, "b": 1, "c": 1}, "cold build: every RUN ran once")
    layers1 = ct.layers("1")

    res = ct.build(ctx, "2", "--cache-copy-layers")
    check_build(t, res, "rebuild")
    t.eq(res.served(), STEPS, "rebuild: every step from the cache")
    t.eq(res.missed(), [], "rebuild: no miss")
    keys = res.keys()
    t.eq(ct.counter.snapshot(), {"a": 1, "b": 1, "c": 1}, "rebuild: no RUN ran")
    t.ok(any("every step from the cache" in line and "nothing extracted or run" in line
             for line in res.stage_lines()), "rebuild: the stage is assembled from the cache",
         res.summary())
    t.ok("extract       0.00s" in res.stderr, "rebuild: nothing extracted", res.summary())
    t.eq(ct.layers("2"), layers1, "rebuild: the same layer digests")
    files = ct.files("2")
    t.eq((files.get("/app/a.copy"), files.get("/app/flavour"), files.get("/app/x")),
         ("alpha\n", "plain\n", "1\n"), "rebuild: the image has the files")
    cfg = ct.config(f"{ct.reg.host}/app/img:2")
    t.eq((cfg["config"].get("WorkingDir"), cfg["config"].get("Labels"), len(cfg["rootfs"]["diff_ids"])),
         ("/app", {"l": "1"}, 7), "rebuild: config (WORKDIR, LABEL) and diff_ids")

    # Kaniko's defaults: COPY is not cached, so it runs (and extracts); the RUN steps do not
    res = ct.build(ctx, "3", "-v", "debug")
    check_build(t, res, "rebuild without --cache-copy-layers")
    t.eq(res.stderr.count("extracted layer "), 3,
         "each COPY extracts what it needs: the base and WORKDIR, then the first RUN's layer")
    t.eq(res.served(), [STEPS[0], RUN_A, RUN_B, RUN_C],
         "without --cache-copy-layers: WORKDIR and every RUN from the cache")
    t.eq(ct.counter.snapshot(), {"a": 1, "b": 1, "c": 1}, "without --cache-copy-layers: no RUN ran")
    t.ok(any("steps run: 3, 6" in line for line in res.stage_lines()),
         "the summary names the steps that ran (the two COPY)", res.stage_lines())

    # --reproducible: the rebuild is the same image, digest for digest
    r1 = ct.build(ctx, "r1", "--cache-copy-layers", "--reproducible")
    r2 = ct.build(ctx, "r2", "--cache-copy-layers", "--reproducible")
    check_build(t, r2, "--reproducible rebuild")
    t.eq(len(r1.served()), 0, "--reproducible has chains of its own (a layer with mtimes would "
         "not do)")
    t.eq(r2.served(), STEPS, "--reproducible rebuild: every step from the cache")
    t.eq(ct.digest("r2"), ct.digest("r1"), "--reproducible rebuild: the same image digest")

    # a step whose entry is gone runs; if it is a RUN, the hits above it are not used (they
    # were made on the files of another run of it) and are made again
    t.eq(ct.delete_entry(keys[RUN_B]), 202, "delete the entry of the second RUN")
    res = ct.build(ctx, "4", "--cache-copy-layers")
    check_build(t, res, "rebuild without one entry")
    t.eq(res.served(), STEPS[:4], "the steps before it are served")
    t.eq(res.missed(), [RUN_B], "its entry is missed")
    t.eq(res.not_used(), [RUN_C], "the RUN after it hits, but the hit is not used")
    t.eq(ct.counter.snapshot(), {"a": 2, "b": 3, "c": 3}, "the two RUN steps ran")
    res = ct.build(ctx, "5", "--cache-copy-layers")
    t.eq(res.served(), STEPS, "the next rebuild is served whole again")


def test_changes(t, ct, args):
    ctx = ct.context("ctx", BASIC_FILES)
    check_build(t, ct.build(ctx, "0", "--cache-copy-layers"), "first build")

    def rebuild(desc, served, ran_runs, *flags, **kw):
        before = ct.counter.snapshot()
        tag = f"c{ct.builds}"
        res = ct.build(ctx, tag, "--cache-copy-layers", *flags, **kw)
        if not check_build(t, res, desc):
            return tag
        t.eq(res.served(), served, f"{desc}: the steps served from the cache")
        after = ct.counter.snapshot()
        ran = sorted(k for k in after if after[k] != before.get(k, 0))
        t.eq(ran, ran_runs, f"{desc}: the RUN steps that ran")
        return tag

    ct.write(ctx, "debug.log", "log 2\n")
    rebuild("a changed .dockerignored file", STEPS, [])
    ct.write(ctx, "b.txt", "beta 2\n")
    rebuild("a changed copied file", STEPS[:3], ["b", "c"])
    rebuild("the build arg FLAVOUR", STEPS[:4], ["b", "c"], build_args={"FLAVOUR": "spicy"})
    rebuild("FLAVOUR back to its default", STEPS, [])
    ct.write(ctx, "Dockerfile", BASIC.replace("LABEL l=1", "LABEL l=2"))
    rebuild("a changed LABEL (metadata does not break the chain)", STEPS, [])
    ct.write(ctx, "Dockerfile", BASIC.replace("ENV X=1", "ENV X=2"))
    rebuild("a changed ENV", STEPS[:5], ["c"])
    ct.write(ctx, "Dockerfile", BASIC)
    ct.write(ctx, "a.txt", "alpha 2\n")
    rebuild("a changed file of the first COPY", STEPS[:1], ["a", "b", "c"])
    # the same layers under another manifest digest: the chain starts elsewhere
    ct.push_base("v2s2")
    rebuild("another base image", [], ["a", "b", "c"])
    tag = rebuild("again on that base (Docker schema 2)", STEPS, [])
    m = ct.manifest(f"{ct.reg.host}/app/img:{tag}")
    t.eq({layer["mediaType"] for layer in m["layers"]},
         {"application/vnd.docker.image.rootfs.diff.tar.gzip"},
         "layers from the cache (stored with OCI types) take the image's Docker types")


def test_unavailable(t, ct, args):
    ctx = ct.context("ctx", BASIC_FILES)
    # a port nothing listens on
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    res = ct.build(ctx, "dead", "--cache-repo", f"127.0.0.1:{dead}/cache")
    check_build(t, res, "cache repository unreachable")
    warns = res.warnings()
    t.eq(len(warns), 1, "unreachable: one warning", res.summary())
    t.ok(warns and warns[0].startswith(f"warn: Cache repository 127.0.0.1:{dead}/cache is not "
                                       "usable, building without the layer cache: "),
         "unreachable: the warning says so", warns)
    t.eq(ct.counter.snapshot(), {"a": 1, "b": 1, "c": 1}, "unreachable: every RUN ran")
    t.eq(res.served() + res.missed(), [], "unreachable: no lookup")

    auth = Registry("basic", directory=os.path.join(ct.work, "auth"), name="auth")
    auth.start()
    ct.extra_registries.append(auth)
    res = ct.build(ctx, "auth", "--cache-repo", f"{auth.host}/cache")
    check_build(t, res, "cache repository unauthorized")
    warns = res.warnings()
    t.eq(len(warns), 1, "unauthorized: one warning", res.summary())
    t.ok(warns and f"Cache repository {auth.host}/cache is not usable" in warns[0] and
         "401" in warns[0], "unauthorized: the warning says so, with the status", warns)
    t.eq(ct.counter.snapshot(), {"a": 2, "b": 2, "c": 2}, "unauthorized: every RUN ran")

    # the same build with a cache that answers
    res = ct.build(ctx, "ok", "--cache-repo", f"{ct.reg.host}/cache")
    check_build(t, res, "a working cache repository")
    t.eq(res.warnings(), [], "a working cache repository: no warning")

    # pull allowed, push refused: lookups go on, one warning, nothing pushed
    tok = Registry("token", directory=os.path.join(ct.work, "tok"), name="tok",
                   rules=[Rule("alice", "cache", ["pull"])])
    tok.start()
    ct.extra_registries.append(tok)
    ct.login(tok)
    res = ct.build(ctx, "ro", "--cache-repo", f"{tok.host}/cache")
    check_build(t, res, "a cache repository that refuses pushes")
    warns = res.warnings()
    t.eq(len(warns), 1, "refused pushes: one warning", res.summary())
    t.ok(warns and warns[0].startswith(f"warn: Cannot push to cache repository {tok.host}/cache, "
                                       "new layers will not be cached: "),
         "refused pushes: the warning says so", warns)
    t.eq(len(res.missed()), 4, "refused pushes: the steps are still looked up", res.summary())
    t.ok(f"0 entries pushed to {tok.host}/cache" in res.stderr, "refused pushes: none tried",
         res.summary())

    # pushes that fail midway (the registry answers 500 to every manifest of the cache): one
    # warning at the end, the build succeeds
    proxy = proxy_for(ct.reg, os.path.join(ct.work, "proxy"))
    ct.extra_registries.append(proxy)
    proxy.add_fault("status", method="PUT", path="/v2/cache2/manifests/", status=500, times=0)
    res = ct.build(ctx, "fail", "--cache-repo", f"{proxy.host}/cache2", "--push-retry=0")
    check_build(t, res, "cache pushes that fail")
    warns = res.warnings()
    t.eq(len(warns), 1, "failed pushes: one warning", res.summary())
    t.ok(warns and warns[0].startswith(f"warn: Could not push 4 of 4 cache entries to "
                                       f"{proxy.host}/cache2: ") and "500" in warns[0],
         "failed pushes: the warning counts them and says why",
         warns)


def test_ttl(t, ct, args):
    ctx = ct.context("ctx", BASIC_FILES)
    check_build(t, ct.build(ctx, "1"), "first build")
    time.sleep(1.2)  # entry times are in seconds
    res = ct.build(ctx, "2", "--cache-ttl=1ms")
    check_build(t, res, "rebuild with --cache-ttl=1ms")
    t.eq(res.served(), [], "--cache-ttl=1ms: nothing from the cache")
    t.eq(res.expired(), [STEPS[0], RUN_A, RUN_B, RUN_C], "--cache-ttl=1ms: every entry expired")
    t.eq(ct.counter.snapshot(), {"a": 2, "b": 2, "c": 2}, "--cache-ttl=1ms: every RUN ran")
    res = ct.build(ctx, "3", "--cache-ttl=1h")
    check_build(t, res, "rebuild with --cache-ttl=1h")
    t.eq(res.served(), [STEPS[0], RUN_A, RUN_B, RUN_C], "--cache-ttl=1h: the new entries serve")
    t.eq(ct.counter.snapshot(), {"a": 2, "b": 2, "c": 2}, "--cache-ttl=1h: no RUN ran")


def warmer_cli(t, args):
    def run(*argv):
        return subprocess.run([args.warmer, *argv], capture_output=True, text=True, timeout=60)
    r = run("--version")
    t.ok(r.returncode == 0 and r.stdout.startswith("lading warmer "), "warmer --version",
         r.stdout + r.stderr)
    r = run("-h")
    t.ok(r.returncode == 0 and "-i, --image IMAGE" in r.stdout and
         max(len(line) for line in r.stdout.splitlines()) <= 100, "warmer -h: the flags, "
         "within 100 columns", r.stdout)
    for argv, want in ((["--frobnicate"], "unknown flag '--frobnicate'"),
                       (["-i"], "flag --image needs a value"),
                       (["-i", "x", "--cache-ttl=2w"],
                        "invalid value '2w' for --cache-ttl: expected a duration like 336h, "
                        "90m or 1h30m"),
                       (["-i", "x", "extra"], "unexpected argument 'extra'"),
                       (["-f=maybe", "-i", "x"],
                        "invalid value 'maybe' for --force: expected true or false")):
        r = run(*argv)
        t.eq((r.returncode, r.stderr), (1, f"error: {want}\n"), f"warmer {' '.join(argv)}")
    r = subprocess.run([args.executor, "warm", "--version"], capture_output=True, text=True,
                       timeout=60)
    t.ok(r.returncode == 0 and r.stdout.startswith("lading warmer "), "executor warm --version",
         r.stdout + r.stderr)


def test_warmer(t, ct, args):
    warmer_cli(t, args)
    base = Registry("http", directory=os.path.join(ct.work, "basereg"), name="base")
    base.start()
    ct.extra_registries.append(base)
    ct.base = f"{base.host}/lib/busybox:1"
    ct.store.push("busybox", ct.base, base.skopeo_args("dest"), "oci")
    cache_dir = os.path.join(ct.work, "warm")
    w = subprocess.run([args.warmer, "--image", ct.base, "--cache-dir", cache_dir,
                        "--insecure-pull"], capture_output=True, text=True, timeout=120)
    t.ok(w.returncode == 0, "warmer --image: exit status 0", w.stderr)
    t.ok(f"Warmed {ct.base} (sha256:" in w.stderr, "the warmer says what it warmed", w.stderr)
    w2 = subprocess.run([args.executor, "warm", "-i", ct.base, "-c", cache_dir,
                         "--insecure-pull"], capture_output=True, text=True, timeout=120)
    t.ok(w2.returncode == 0 and f"Image {ct.base} (sha256:" in w2.stderr and
         "is in the cache already" in w2.stderr,
         "executor warm: the image is there already, nothing downloaded", w2.stderr)
    ctx = ct.context("ctx", BASIC_FILES)
    df = os.path.join(ctx, "Dockerfile")
    w3 = subprocess.run([args.warmer, "-d", df, "--build-arg", f"BASE={ct.base}", "-c",
                         cache_dir, "--insecure-pull"], capture_output=True, text=True,
                        timeout=120)
    t.ok(w3.returncode == 0 and "is in the cache already" in w3.stderr,
         "warmer -d: the Dockerfile's FROM is found", w3.stderr)
    w4 = subprocess.run([args.warmer, "-c", cache_dir], capture_output=True, text=True,
                        timeout=60)
    t.eq((w4.returncode, w4.stderr), (1, "error: give at least one --image to warm, or a "
                                         "--dockerfile\n"), "warmer without images: an error")

    base.stop()  # the registry of the base image is gone
    res = ct.build(ctx, "warm", "--cache-dir", cache_dir)
    check_build(t, res, "a build with the base registry stopped, from --cache-dir")
    t.ok(f"Found {ct.base} in the base-image cache" in res.stderr,
         "the base image comes from --cache-dir", res.summary())
    files = ct.files("warm")
    t.eq(files.get("/app/a.copy"), "alpha\n", "the image is complete")
    res = ct.build(ctx, "nowarm", cache=False)
    t.ok(res.status != 0, "without --cache the build needs the registry (and fails)",
         res.summary())
    res = ct.build(ctx, "expired", "--cache-dir", cache_dir, "--cache-ttl=1ms")
    t.ok(res.status != 0 and f"Cached base image {ct.base} has expired" in res.stderr,
         "an expired base image is pulled again (here: fails, the registry is gone)",
         res.summary())


def test_multistage(t, ct, args):
    files = {"Dockerfile": f"""ARG BASE
FROM ${{BASE}} AS deps
ARG COUNTER
RUN {run_step("deps")} && mkdir -p /out && echo deps > /out/deps
FROM ${{BASE}} AS build
ARG COUNTER
COPY src.txt /src/
RUN {run_step("build")} && mkdir -p /out && cat /src/src.txt > /out/built
FROM build AS check
ARG COUNTER
RUN {run_step("check")} && cat /out/built > /out/checked
FROM deps
ARG COUNTER
COPY --from=check /out/checked /app/checked
COPY --from=build /out/built /app/built
COPY app.txt /app/
RUN {run_step("final")} && cat /out/deps /app/built /app/app.txt > /app/all
""", "src.txt": "source\n", "app.txt": "app\n"}
    ctx = ct.context("ctx", files)
    res = ct.build(ctx, "1", "--cache-copy-layers")
    check_build(t, res, "cold multi-stage build")
    t.eq(ct.counter.snapshot(), {"deps": 1, "build": 1, "check": 1, "final": 1}, "cold: every RUN ran")

    ct.write(ctx, "app.txt", "app 2\n")
    res = ct.build(ctx, "2", "--cache-copy-layers")
    check_build(t, res, "app.txt changed")
    t.eq(ct.counter.snapshot(), {"deps": 1, "build": 1, "check": 1, "final": 2},
         "app.txt changed: only the last stage's RUN ran")
    lines = res.stage_lines()
    t.ok(len(lines) == 4 and all("every step from the cache" in line for line in lines[:3]) and
         "steps run:" in lines[3], "app.txt changed: stages 0 to 2 from the cache, 3 partly",
         lines)
    t.eq(ct.files("2").get("/app/all"), "deps\nsource\napp 2\n",
         "the last stage has the files of the stage it is based on (extracted from the cache)")

    ct.write(ctx, "src.txt", "source 2\n")
    res = ct.build(ctx, "3")
    check_build(t, res, "src.txt changed, COPY not cached")
    t.eq(ct.counter.snapshot(), {"deps": 1, "build": 2, "check": 2, "final": 3},
         "src.txt changed: the build stage and the last RUN ran, not the deps stage")
    t.eq(ct.files("3").get("/app/all"), "deps\nsource 2\napp 2\n",
         "COPY --from a stage copies its new files")

    res = ct.build(ctx, "4")
    check_build(t, res, "rebuild, COPY not cached")
    t.eq(ct.counter.snapshot(), {"deps": 1, "build": 2, "check": 2, "final": 3},
         "rebuild: no RUN ran (COPY --from a stage served from the cache extracts it lazily)")
    t.eq(ct.files("4").get("/app/all"), "deps\nsource 2\napp 2\n", "and the image is right")

    # the entry of the build stage's RUN is gone: it runs, and so does the RUN of the stage
    # based on it (its entry was made on the files of another run); a stage that only copies
    # from them keeps its hits (a copy is what its key says)
    run_build = [k for k in res.keys() if "/build" in k]
    t.eq(len(run_build), 1, "the build stage's RUN was looked up", res.keys())
    if run_build:
        ct.delete_entry(res.keys()[run_build[0]])
    res = ct.build(ctx, "5")
    check_build(t, res, "rebuild without the build stage's entry")
    t.eq(ct.counter.snapshot(), {"deps": 1, "build": 3, "check": 3, "final": 3},
         "the build stage's RUN ran, and the RUN of the stage based on it")
    t.ok(any("not used: a RUN of the stage this one is based on ran" in line
             for line in res.stderr.splitlines()), "the log says why", res.summary())


def test_other_registry(t, ct, args):
    """The cache repository on another registry: cached layers cannot be mounted into the
    destination, so a full-hit push downloads and uploads them."""
    other = Registry("http", directory=os.path.join(ct.work, "other"), name="other")
    other.start()
    ct.extra_registries.append(other)
    ctx = ct.context("ctx", BASIC_FILES)
    flags = ["--cache-repo", f"{other.host}/cache", "--cache-copy-layers"]
    check_build(t, ct.build(ctx, "1", *flags), "first build")
    res = ct.build(ctx, "2", *flags)
    check_build(t, res, "full-hit rebuild, cache on another registry")
    t.eq(res.served(), STEPS, "every step from the other registry")
    t.eq(ct.layers("2"), ct.layers("1"), "the same layers")
    t.eq(ct.files("2").get("/app/a.copy"), "alpha\n", "pushed whole to the destination")


def test_oci(t, ct, args):
    ctx = ct.context("ctx", BASIC_FILES)
    layout = os.path.join(ct.work, "oci-cache")
    res = ct.build(ctx, "1", "--cache-repo", f"oci:{layout}", "--cache-copy-layers")
    check_build(t, res, "build with an OCI layout cache")
    t.ok(os.path.isfile(os.path.join(layout, "index.json")), "the layout is made")
    res = ct.build(ctx, "2", "--cache-repo", f"oci:{layout}", "--no-push", "--cache-copy-layers",
                   destination=False)
    check_build(t, res, "--no-push rebuild from the layout")
    t.eq(res.served(), STEPS, "every step from the layout")
    t.eq(ct.counter.snapshot(), {"a": 1, "b": 1, "c": 1}, "no RUN ran")
    res = ct.build(ctx, "3", "--cache-repo", f"oci:{layout}", "--cache-copy-layers")
    check_build(t, res, "pushed rebuild from the layout")
    t.eq(ct.layers("3"), ct.layers("1"), "the same layers as the first build")
    t.eq(ct.files("3").get("/app/list"), "a.copy\na.txt\nb.txt\nflavour\nlist\n",
         "the image has the files (layers uploaded from the layout)")
    skopeo = subprocess.run(["skopeo", "inspect", f"oci:{layout}:" +
                             res.keys().get(RUN_A, "none").split(":")[1]],
                            capture_output=True, text=True, timeout=60)
    t.ok(skopeo.returncode == 0 and "dev.lading.cache.key" in skopeo.stdout,
         "skopeo reads a cache entry from the layout", skopeo.stderr)


def test_mounts(t, ct, args):
    files = {"Dockerfile": f"""ARG BASE
FROM ${{BASE}}
ARG COUNTER
RUN --mount=type=bind,source=conf,target=/conf {run_step("bind")} && cat /conf/c > /bound
ADD --chmod=0644 ${{COUNTER}}/added /app/added
RUN {run_step("after")} && cat /app/added > /app/copy
""", "conf/c": "conf 1\n", "other.txt": "other\n"}
    ctx = ct.context("ctx", files)
    check_build(t, ct.build(ctx, "1", "--cache-copy-layers"), "first build")
    res = ct.build(ctx, "2", "--cache-copy-layers")
    check_build(t, res, "rebuild")
    t.eq(ct.counter.get("bind"), 1, "rebuild: the RUN with a bind mount did not run")
    t.eq(ct.counter.get("after"), 1, "rebuild: the RUN after ADD <url> did not run")
    t.eq(ct.counter.get("added"), 2, "rebuild: the ADD URL was downloaded (for its key)")
    ct.write(ctx, "other.txt", "other 2\n")
    res = ct.build(ctx, "3", "--cache-copy-layers")
    check_build(t, res, "a context file changed")
    t.eq(ct.counter.get("bind"), 1, "a context file outside the bind source changes nothing")
    ct.write(ctx, "conf/c", "conf 2\n")
    res = ct.build(ctx, "4", "--cache-copy-layers")
    check_build(t, res, "bound file changed")
    t.eq(ct.counter.get("bind"), 2, "a changed bound file reruns the RUN")
    t.eq(ct.counter.get("added"), 4, "ADD downloads once per build (the key's download is reused)")


GROUPS = {name[5:]: fn for name, fn in globals().items() if name.startswith("test_")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("group", choices=sorted(GROUPS))
    ap.add_argument("--executor", required=True)
    ap.add_argument("--warmer")
    args = ap.parse_args()
    t = Tap()
    if os.geteuid() != 0:
        t.skip("the sandbox and umoci need root")
    ct = CacheTest(args.executor, args.group)
    try:
        GROUPS[args.group](t, ct, args)
    except Exception as e:  # a tool failed: report it as a failed check
        t.ok(False, f"{args.group}: {type(e).__name__}", e)
    finally:
        ct.close()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
