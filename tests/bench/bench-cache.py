#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The layer cache's benchmark (run by hand, never a timed test): a 5-step Dockerfile whose
RUN makes MB megabytes of files and sleeps, built with --cache against a registry on
127.0.0.1 three ways: cold (empty cache), warm with no change (every step from the cache),
warm with one source file changed (the last COPY and RUN run again). Prints each build's
wall time (the median of --runs), the executor's own phase times, the warm/cold ratios and
the overhead of a full-hit rebuild beyond pulling (its wall time minus its pull phase).

usage (as root, from the source tree):
  PYTHONPATH=tests/integration python3 tests/bench/bench-cache.py \\
      --executor build/executor/executor [--runs 3] [--mb 50] [--sleep 2]"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from harness import FixtureStore, Registry  # noqa: E402

DOCKERFILE = """ARG BASE
FROM ${BASE}
COPY deps.txt /app/
WORKDIR /app
RUN mkdir -p /app/deps && i=0 && while [ $i -lt {mb} ]; do \\
      head -c 1048576 /dev/urandom > /app/deps/blob$i; i=$((i+1)); done && sleep {sleep}
COPY src/ /app/src/
RUN cat /app/src/* | md5sum > /app/build.sum
"""


def build(exe, work, ctx, reg, n, tag, extra):
    sandbox = os.path.join(work, f"sandbox{n}")
    argv = [exe, "--sandbox", sandbox, "--context", ctx, "--destination",
            f"{reg.host}/bench/app:{tag}", "--insecure", "--insecure-pull", "--cache",
            "--build-arg", f"BASE={reg.host}/base/busybox:1"] + extra
    env = dict(os.environ, HOME=os.path.join(work, "home"),
               DOCKER_CONFIG=os.path.join(work, "home", ".docker"), NO_PROXY="*")
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    wall = time.monotonic() - t0
    shutil.rmtree(sandbox, ignore_errors=True)
    if p.returncode != 0:
        sys.exit(f"build failed:\n{p.stderr[-3000:]}")
    phases = dict((k, float(v)) for k, v in
                  re.findall(r"^  (pull|extract|run|copy|snapshot|push/outputs)\s+([0-9.]+)s$",
                             p.stderr, re.M))
    served = len(re.findall(r"^Using caching version of cmd: ", p.stderr, re.M))
    return wall, phases, served


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--executor", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mb", type=int, default=50)
    ap.add_argument("--sleep", type=int, default=2)
    ap.add_argument("--kaniko-defaults", action="store_true",
                    help="without --cache-copy-layers (Kaniko's default): COPY steps run")
    args = ap.parse_args()
    extra = [] if args.kaniko_defaults else ["--cache-copy-layers"]
    exe = os.path.abspath(args.executor)
    work = tempfile.mkdtemp(prefix="lading-bench-cache-")
    os.makedirs(os.path.join(work, "home", ".docker"))
    results = {"cold": [], "warm, no change": [], "warm, one file changed": []}
    with Registry("http", directory=os.path.join(work, "reg")) as reg:
        store = FixtureStore()
        store.push("busybox", f"{reg.host}/base/busybox:1", reg.skopeo_args("dest"), "oci")
        n = 0
        for run in range(args.runs):
            ctx = os.path.join(work, f"ctx{run}")
            os.makedirs(os.path.join(ctx, "src"))
            with open(os.path.join(ctx, "Dockerfile"), "w") as f:
                f.write(DOCKERFILE.replace("{mb}", str(args.mb))
                        .replace("{sleep}", str(args.sleep)))
            with open(os.path.join(ctx, "deps.txt"), "w") as f:
                f.write(f"run {run}\n")  # a new chain per run: the cold build is cold
            for i in range(20):
                with open(os.path.join(ctx, "src", f"file{i}.c"), "w") as f:
                    f.write(f"int f{i}(void) {{ return {i}; }}\n" * 50)
            for name, change in (("cold", None), ("warm, no change", None),
                                 ("warm, one file changed", "file7.c")):
                if change:
                    with open(os.path.join(ctx, "src", change), "a") as f:
                        f.write(f"/* changed in run {run} */\n")
                n += 1
                results[name].append(build(exe, work, ctx, reg, n, f"r{run}", extra))
        store.close()
    shutil.rmtree(work, ignore_errors=True)

    def med(name, key):
        vals = [r[0] if key == "wall" else r[1].get(key, 0.0) for r in results[name]]
        return statistics.median(vals)

    print(f"lading layer cache, {args.mb} MB RUN + sleep {args.sleep}s, 5 steps, "
          f"{' '.join(extra) or 'COPY not cached'}, median of {args.runs} runs, "
          f"{os.cpu_count()} CPUs")
    print(f"{'build':<24} {'wall':>7} {'pull':>6} {'extract':>7} {'run':>6} {'snapshot':>8} "
          f"{'push':>6} {'served':>6}")
    for name in results:
        served = results[name][-1][2]
        print(f"{name:<24} {med(name, 'wall'):>6.2f}s {med(name, 'pull'):>5.2f}s "
              f"{med(name, 'extract'):>6.2f}s {med(name, 'run'):>5.2f}s "
              f"{med(name, 'snapshot'):>7.2f}s {med(name, 'push/outputs'):>5.2f}s {served:>6}")
    cold = med("cold", "wall")
    print(f"warm/cold, no change:        {med('warm, no change', 'wall') / cold:.3f}")
    print(f"warm/cold, one file changed: {med('warm, one file changed', 'wall') / cold:.3f}")
    over = [r[0] - r[1].get("pull", 0.0) for r in results["warm, no change"]]
    what = "rebuild with no change" if args.kaniko_defaults else "full-hit rebuild"
    print(f"{what} beyond pulling: {statistics.median(over):.2f}s (target < 1 s)")


if __name__ == "__main__":
    main()
