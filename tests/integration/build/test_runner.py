#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Self-test of the runner's lading side (TAP): runs cases with fake_lading.py (a
buildah-backed stand-in taking the executor's command line) as the executor and buildah as
the reference, so the command line the runner builds, the --destination/--no-push/output
file checks and the lading-vs-buildah comparison are exercised before lading can build.
Only cases whose lading expectations the stand-in meets are listed (buildah leaves mount
stubs and writes Docker media types, where lading must not)."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

CASES = ["087-outputs", "088-no-push", "089-registry-mirror", "090-https-registry",
         "061-label-flag", "006-custom-platform", "077-target", "085-single-snapshot",
         "036-copy-chown"]


def main():
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root")
        return 0
    n = failed = 0
    env = dict(os.environ, LADING_BUILD_BUILDERS="lading,buildah")
    for c in CASES:
        n += 1
        p = subprocess.run([sys.executable, os.path.join(HERE, "runner.py"), "case", c,
                            "--executor", os.path.join(HERE, "fake_lading.py")],
                           capture_output=True, text=True, timeout=280, env=env)
        lines = p.stdout.splitlines()
        bad = [ln for ln in lines if ln.startswith("not ok")]
        oks = [ln for ln in lines if ln.startswith("ok") and "lading" in ln]
        good = p.returncode == 0 and not bad and len(oks) >= 3
        if not good:
            failed += 1
        print(f"{'ok' if good else 'not ok'} {n} - {c} with the stand-in executor")
        if not good:
            for ln in (p.stdout + p.stderr).splitlines()[-40:]:
                print(f"#   {ln}")
        sys.stdout.flush()
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
