#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""--context s3://BUCKET/KEY end to end: the executor in sandbox mode fetches a context tar.gz
from a fake S3 (fake_s3.py, which checks SigV4 on its own) with credentials from the
environment or from a shared credentials file and AWS_PROFILE, builds and pushes to a real
registry; the image's files are read with skopeo and umoci. Errors from S3 must give one line
with the bucket, the key, the status and S3's error code, and push nothing."""

import io
import os
import sys
import tarfile
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cache"))
sys.path.insert(0, HERE)

from cachelib import CacheTest, Result, Tap, clean_env  # noqa: E402
from fake_s3 import FakeS3  # noqa: E402

import subprocess  # noqa: E402

AK, SECRET, TOKEN = "AKIDLADINGTEST", "s3cr3t/LadingTestKey+xyz", "FwoGZXIvYXdzEXAMPLETOKEN"
AK2, SECRET2 = "AKIDPROFILE", "profile/Secret+abc"
KEY = "ctx/my context.tar.gz"
DOCKERFILE = """ARG BASE
FROM $BASE
COPY hello.txt /app/hello.txt
COPY sub/ /app/sub/
RUN mkdir -p /out && cat /app/hello.txt /app/sub/deep.txt > /out/joined.txt
"""


def context_tgz():
    files = {"Dockerfile": DOCKERFILE, "hello.txt": "hello from s3\n",
             "sub/deep.txt": "deep file\n"}
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tf:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1700000000
            tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


WANT_FILES = {"/app/hello.txt": "hello from s3\n", "/app/sub/deep.txt": "deep file\n",
              "/out/joined.txt": "hello from s3\ndeep file\n"}


def build(ct, s3, context, tag, env):
    ct.builds += 1
    sandbox = os.path.join(ct.work, f"sandbox{ct.builds}")
    argv = [ct.executor, "--sandbox", sandbox, "--context", context, "--insecure",
            "--insecure-pull", "--build-arg", f"BASE={ct.base}",
            "--destination", f"{ct.reg.host}/app/img:{tag}"]
    base_env = {k: v for k, v in clean_env().items()
                if not k.startswith("AWS_") and not k.startswith("S3_")}
    base_env.update({"HOME": ct.home, "DOCKER_CONFIG": os.path.join(ct.home, ".docker"),
                     "S3_ENDPOINT": s3.endpoint, "S3_FORCE_PATH_STYLE": "true"})
    base_env.update(env)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=240, env=base_env,
                       stdin=subprocess.DEVNULL)
    return Result(argv, p)


def pushed(ct, tag):
    try:
        with urllib.request.urlopen(f"{ct.reg.url}/v2/app/img/manifests/{tag}", timeout=30):
            return True
    except urllib.error.HTTPError:
        return False


def error_line(res):
    lines = [line for line in res.stderr.splitlines() if line.startswith("error: ")]
    return lines[-1] if lines else None


def run(t, ct):
    tgz = context_tgz()
    s3 = FakeS3({("bkt", KEY): tgz, ("pub", "ctx.tar.gz"): tgz},
                {AK: (SECRET, TOKEN), AK2: (SECRET2, None)}, public=[("pub", "ctx.tar.gz")])
    try:
        url = f"s3://bkt/{KEY}"
        # 1. environment credentials with a session token, a region
        res = build(ct, s3, url, "env", {"AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SECRET,
                                         "AWS_SESSION_TOKEN": TOKEN, "AWS_REGION": "eu-west-3"})
        t.eq(res.status, 0, "env credentials: build succeeds", res.summary())
        t.eq(s3.requests[-1:], [("/bkt/ctx/my%20context.tar.gz", AK, "eu-west-3",
                                 "host;x-amz-content-sha256;x-amz-date;x-amz-security-token",
                                 200)], "env credentials: one signed GET, path style, region")
        if res.status == 0:
            t.eq(ct.files("env"), WANT_FILES, "env credentials: the image has the context's files")
        t.ok(SECRET not in res.stderr and TOKEN not in res.stderr and "Signature=" not in
             res.stderr, "env credentials: no secret in the log")

        # 2. a shared credentials file in ~/.aws with a named profile, default region
        os.makedirs(os.path.join(ct.home, ".aws"), exist_ok=True)
        with open(os.path.join(ct.home, ".aws", "credentials"), "w") as f:
            f.write(f"[default]\naws_access_key_id = WRONG\naws_secret_access_key = wrong\n\n"
                    f"[ci]\naws_access_key_id = {AK2}\naws_secret_access_key = {SECRET2}\n")
        s3.requests.clear()
        res = build(ct, s3, url, "profile", {"AWS_PROFILE": "ci"})
        t.eq(res.status, 0, "profile: build succeeds", res.summary())
        t.eq(s3.requests[-1:], [("/bkt/ctx/my%20context.tar.gz", AK2, "us-east-1",
                                 "host;x-amz-content-sha256;x-amz-date", 200)],
             "profile: signed with the profile's key, region us-east-1")
        if res.status == 0:
            t.eq(ct.files("profile"), WANT_FILES, "profile: the image has the context's files")
        os.unlink(os.path.join(ct.home, ".aws", "credentials"))

        # 3. a wrong secret: S3's error code in one line, nothing pushed
        res = build(ct, s3, url, "badsecret", {"AWS_ACCESS_KEY_ID": AK,
                                               "AWS_SECRET_ACCESS_KEY": "not-the-secret",
                                               "AWS_SESSION_TOKEN": TOKEN})
        t.eq(res.status, 1, "wrong secret: the build fails", res.summary())
        t.eq(error_line(res), "error: get the build context from S3 bucket 'bkt', key "
             "'ctx/my context.tar.gz': HTTP 403 SignatureDoesNotMatch: The request signature we "
             "calculated does not match the signature you provided. Check your key and signing "
             "method.", "wrong secret: the error line", res.summary())
        t.ok(not pushed(ct, "badsecret"), "wrong secret: nothing pushed")
        t.ok("not-the-secret" not in res.stderr, "wrong secret: the secret is not logged")

        # 4. a missing key
        res = build(ct, s3, "s3://bkt/ctx/nope.tar.gz", "nokey",
                    {"AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SECRET,
                     "AWS_SESSION_TOKEN": TOKEN})
        t.eq(res.status, 1, "missing key: the build fails", res.summary())
        t.eq(error_line(res), "error: get the build context from S3 bucket 'bkt', key "
             "'ctx/nope.tar.gz': HTTP 404 NoSuchKey: The specified key does not exist.",
             "missing key: the error line", res.summary())
        t.ok(not pushed(ct, "nokey"), "missing key: nothing pushed")

        # 5. no credentials at all: anonymous, which a public object allows
        s3.requests.clear()
        res = build(ct, s3, "s3://pub/ctx.tar.gz", "anon", {})
        t.eq(res.status, 0, "anonymous: build succeeds", res.summary())
        t.ok("No AWS credentials found: requesting s3://pub/ctx.tar.gz anonymously"
             in res.stderr, "anonymous: the log says so", res.summary())
        t.eq(s3.requests[-1:], [("/pub/ctx.tar.gz", None, None, None, 200)],
             "anonymous: an unsigned GET")
    finally:
        s3.stop()


def main():
    t = Tap()
    if os.geteuid() != 0:
        t.skip("the sandbox and umoci need root")
    ct = CacheTest(sys.argv[1], "s3")
    try:
        run(t, ct)
    except Exception as e:  # a tool failed: report it as a failed check
        t.ok(False, f"s3: {type(e).__name__}", e)
    finally:
        ct.close()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
