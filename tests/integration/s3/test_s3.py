#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""--context s3://BUCKET/KEY end to end: the executor in sandbox mode fetches a context tar.gz
from a fake S3 (fake_s3.py, which checks SigV4 on its own) with credentials from the
environment or from a shared credentials file and AWS_PROFILE, builds and pushes to a real
registry; the image's files are read with skopeo and umoci. Errors from S3 must give one line
with the bucket, the key, the status and S3's error code, and push nothing. Temporary
credentials come from a fake STS (web identity), ECS endpoint and IMDSv2 (fake_aws.py); the
fake S3 checks them in the signature and the x-amz-security-token."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cache"))
sys.path.insert(0, HERE)

from cachelib import build_remote, context_tgz, error_line, pushed, run_main  # noqa: E402
from fake_aws import FakeAWS, IMDS_ROLE, ROLE_ARN  # noqa: E402
from fake_s3 import FakeS3  # noqa: E402


AK, SECRET, TOKEN = "AKIDLADINGTEST", "s3cr3t/LadingTestKey+xyz", "FwoGZXIvYXdzEXAMPLETOKEN"
AK2, SECRET2 = "AKIDPROFILE", "profile/Secret+abc"
STS_CREDS = ("ASIASTSTEMP", "sts/Secret+Temp", "IQoJb3JpZ2luX2VjESTS&token/+=")
ECS_CREDS = ("ASIAECSTEMP", "ecs/Secret+Temp", "IQoJb3JpZ2luX2VjECS+token")
IMDS_CREDS = ("ASIAIMDSTEMP", "imds/Secret+Temp", "IQoJb3JpZ2luX2VjIMDS/token")
WEB_TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2ln"
ECS_AUTH = "Bearer eks-pod-identity-token-123"
KEY = "ctx/my context.tar.gz"
DOCKERFILE = """ARG BASE
FROM $BASE
COPY hello.txt /app/hello.txt
COPY sub/ /app/sub/
RUN mkdir -p /out && cat /app/hello.txt /app/sub/deep.txt > /out/joined.txt
"""
CONTEXT_FILES = {"Dockerfile": DOCKERFILE, "hello.txt": "hello from s3\n",
                 "sub/deep.txt": "deep file\n"}
WANT_FILES = {"/app/hello.txt": "hello from s3\n", "/app/sub/deep.txt": "deep file\n",
              "/out/joined.txt": "hello from s3\ndeep file\n"}


def build(ct, s3, context, tag, env):
    return build_remote(ct, context, tag, {"S3_ENDPOINT": s3.endpoint,
                                           "S3_FORCE_PATH_STYLE": "true",
                                           "AWS_EC2_METADATA_DISABLED": "true", **env},
                        drop=("AWS_", "S3_"))


def secret_file(ct, name, text):
    """A file in a host directory the sandbox does not otherwise see."""
    d = os.path.join(ct.work, "secrets-" + name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "token")
    with open(path, "w") as f:
        f.write(text)
    return path


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def no_secrets(res, creds):
    return not any(x in res.stderr for x in (*creds[1:], WEB_TOKEN, ECS_AUTH, "Signature="))


def signed_with(creds):
    return [("/bkt/ctx/my%20context.tar.gz", creds[0], "eu-west-3",
             "host;x-amz-content-sha256;x-amz-date;x-amz-security-token", 200)]


def run_sources(t, ct, s3, aws):
    url = f"s3://bkt/{KEY}"
    token_file = secret_file(ct, "irsa", WEB_TOKEN + "\n")
    wi_env = {"AWS_WEB_IDENTITY_TOKEN_FILE": token_file, "AWS_ROLE_ARN": ROLE_ARN,
              "AWS_ENDPOINT_URL_STS": aws.endpoint + "/sts/", "AWS_REGION": "eu-west-3"}
    # 6. web identity (EKS IRSA): STS checks the token file's content and the role
    s3.requests.clear()
    res = build(ct, s3, url, "irsa", wi_env)
    t.eq(res.status, 0, "web identity: build succeeds", res.summary())
    t.eq([(m, p, n) for m, p, n in aws.requests], [("POST", "/sts/", "ok")],
         "web identity: one AssumeRoleWithWebIdentity call, accepted")
    t.ok(aws.sts_forms and aws.sts_forms[-1].get("RoleSessionName", "").startswith("lading-"),
         "web identity: default session name lading-<time>", aws.sts_forms)
    t.eq(s3.requests[-1:], signed_with(STS_CREDS),
         "web identity: S3 sees the STS key and session token in the signature")
    if res.status == 0:
        t.eq(ct.files("irsa"), WANT_FILES, "web identity: the image has the context's files")
    t.ok(no_secrets(res, STS_CREDS), "web identity: no secret in the log")

    # 7. an STS error: AccessDenied in one line, nothing pushed
    aws.requests.clear()
    res = build(ct, s3, url, "stsdenied",
                dict(wi_env, AWS_ROLE_ARN="arn:aws:iam::123456789012:role/other",
                     AWS_ROLE_SESSION_NAME="my-session"))
    t.eq(res.status, 1, "STS error: the build fails", res.summary())
    t.eq(error_line(res), f"error: get AWS credentials for '{url}': assume role "
         f"'arn:aws:iam::123456789012:role/other' with web identity at '{aws.endpoint}/sts/': "
         "HTTP 403 AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity",
         "STS error: the error line", res.summary())
    t.eq(aws.sts_forms[-1].get("RoleSessionName"), "my-session",
         "STS error: AWS_ROLE_SESSION_NAME is sent")
    t.ok(not pushed(ct, "stsdenied"), "STS error: nothing pushed")
    t.ok(WEB_TOKEN not in res.stderr, "STS error: the token is not logged")

    # 8. ECS container credentials: full URI, authorization token from a file
    auth_file = secret_file(ct, "ecs", ECS_AUTH + "\n")
    aws.requests.clear()
    s3.requests.clear()
    res = build(ct, s3, url, "ecs", {"AWS_CONTAINER_CREDENTIALS_FULL_URI": aws.endpoint +
                                     "/ecs/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE":
                                     auth_file, "AWS_REGION": "eu-west-3"})
    t.eq(res.status, 0, "ECS: build succeeds", res.summary())
    t.eq(aws.requests, [("GET", "/ecs/creds", "ok")], "ECS: one authorized GET")
    t.eq(s3.requests[-1:], signed_with(ECS_CREDS), "ECS: S3 sees the ECS credentials")
    if res.status == 0:
        t.eq(ct.files("ecs"), WANT_FILES, "ECS: the image has the context's files")
    t.ok(no_secrets(res, ECS_CREDS), "ECS: no secret in the log")

    # 9. EC2 instance metadata, IMDSv2 (the fake wants the session token on each GET)
    aws.requests.clear()
    s3.requests.clear()
    res = build(ct, s3, url, "imds", {"AWS_EC2_METADATA_DISABLED": "",
                                      "AWS_EC2_METADATA_SERVICE_ENDPOINT": aws.endpoint,
                                      "AWS_REGION": "eu-west-3"})
    t.eq(res.status, 0, "IMDS: build succeeds", res.summary())
    base = "/latest/meta-data/iam/security-credentials/"
    t.eq(aws.requests, [("PUT", "/latest/api/token", "ok"), ("GET", base, "ok"),
                        ("GET", base + IMDS_ROLE, "ok")], "IMDS: token, role, credentials")
    t.eq(s3.requests[-1:], signed_with(IMDS_CREDS), "IMDS: S3 sees the instance credentials")
    if res.status == 0:
        t.eq(ct.files("imds"), WANT_FILES, "IMDS: the image has the context's files")
    t.ok(no_secrets(res, IMDS_CREDS), "IMDS: no secret in the log")

    # 10. no instance metadata there: anonymous
    s3.requests.clear()
    res = build(ct, s3, "s3://pub/ctx.tar.gz", "noimds", {
        "AWS_EC2_METADATA_DISABLED": "",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": f"http://127.0.0.1:{free_port()}"})
    t.eq(res.status, 0, "IMDS unreachable: anonymous build succeeds", res.summary())
    t.eq(s3.requests[-1:], [("/pub/ctx.tar.gz", None, None, None, 200)],
         "IMDS unreachable: an unsigned GET")


def run(t, ct):
    tgz = context_tgz(CONTEXT_FILES)
    users = {AK: (SECRET, TOKEN), AK2: (SECRET2, None)}
    for c in (STS_CREDS, ECS_CREDS, IMDS_CREDS):
        users[c[0]] = (c[1], c[2])
    s3 = FakeS3({("bkt", KEY): tgz, ("pub", "ctx.tar.gz"): tgz}, users,
                public=[("pub", "ctx.tar.gz")])
    aws = FakeAWS(WEB_TOKEN, ECS_AUTH, STS_CREDS, ECS_CREDS, IMDS_CREDS)
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
        run_sources(t, ct, s3, aws)
    finally:
        aws.stop()
        s3.stop()


def main():
    return run_main("s3", run)


if __name__ == "__main__":
    sys.exit(main())
