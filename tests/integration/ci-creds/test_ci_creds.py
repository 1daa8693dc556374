#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""GitLab CI's registry variables as credentials, end to end: with no config.json entry, a build
in sandbox mode pulls its base from and pushes to a registry with htpasswd Basic auth using
CI_REGISTRY, CI_REGISTRY_USER and CI_REGISTRY_PASSWORD (as Kaniko's built-in GitLab helper
does); a wrong password fails with the registry's error naming the CI variables as the source
and pushes nothing; the password is never in the log; variables naming another registry are not
used."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cache"))

from cachelib import CacheTest, Tap  # noqa: E402
from harness import skopeo as sk  # noqa: E402

DOCKERFILE = """ARG BASE
FROM $BASE
COPY hello.txt /app/hello.txt
RUN cat /app/hello.txt > /out.txt
"""

CI_VARS = ("CI_REGISTRY", "CI_REGISTRY_USER", "CI_REGISTRY_PASSWORD")


def set_ci(registry, user, password):
    for k, v in zip(CI_VARS, (registry, user, password)):
        os.environ[k] = v


def pushed(ct, tag):
    try:
        sk.inspect_raw(f"docker://{ct.reg.host}/app/img:{tag}",
                       ct.reg.skopeo_args("", creds=True, tls_verify=False))
        return True
    except Exception:
        return False


def error_line(res):
    lines = [line for line in res.stderr.splitlines() if line.startswith("error: ")]
    return lines[-1] if lines else ""


def run(t, ct):
    ctx = ct.context("ctx", {"Dockerfile": DOCKERFILE, "hello.txt": "hello from CI\n"})
    user, password = ct.reg.user, ct.reg.password

    # 1. the job's variables name this registry: pull and push with them
    set_ci(ct.reg.host, user, password)
    res = ct.build(ctx, "ci", cache=False)
    t.eq(res.status, 0, "CI variables: the build pulls and pushes", res.summary())
    t.ok(pushed(ct, "ci"), "CI variables: the image is in the registry")
    t.ok(password not in res.stderr and password not in res.stdout,
         "CI variables: the password is not in the log")

    # 2. a wrong password: the registry refuses, the error names the source, nothing pushed
    set_ci(ct.reg.host, user, "not-the-password")
    res = ct.build(ctx, "wrong", cache=False)
    t.ok(res.status != 0, "wrong password: the build fails", res.summary())
    print(f"# {error_line(res)}")
    t.ok("CI_REGISTRY_USER and CI_REGISTRY_PASSWORD" in error_line(res),
         "wrong password: the error line names the CI variables", error_line(res))
    t.ok("not-the-password" not in res.stderr, "wrong password: not in the log")
    t.ok(not pushed(ct, "wrong"), "wrong password: nothing pushed")

    # 3. variables for another registry are not sent here: anonymous, refused
    set_ci("registry.gitlab.example", user, password)
    res = ct.build(ctx, "other", cache=False)
    t.ok(res.status != 0, "another registry's variables: the build fails", res.summary())
    print(f"# {error_line(res)}")
    t.ok("anonymous" in error_line(res), "another registry's variables: the error says "
         "anonymous", error_line(res))
    t.ok(not pushed(ct, "other"), "another registry's variables: nothing pushed")


def main():
    t = Tap()
    if os.geteuid() != 0:
        t.skip("the sandbox needs root")
    ct = CacheTest(sys.argv[1], "ci-creds", registry_mode="basic")
    try:
        run(t, ct)
    except Exception as e:  # a tool failed: report it as a failed check
        t.ok(False, f"ci-creds: {type(e).__name__}", e)
    finally:
        for k in CI_VARS:
            os.environ.pop(k, None)
        ct.close()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
