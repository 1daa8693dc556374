#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""--context gs://BUCKET/OBJECT end to end: the executor in sandbox mode gets an access token
from a fake OAuth endpoint (fake_gcs.py, which verifies the service account's RS256 JWT with
the openssl command) or from a fake metadata server, downloads the context tar.gz from a fake
GCS with it, builds and pushes to a real registry; the image's files are read with skopeo and
umoci. Errors give one line with the bucket, the object, the status and the server's message,
and push nothing."""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cache"))
sys.path.insert(0, HERE)

from cachelib import build_remote, context_tgz, error_line, pushed, run_main  # noqa: E402
from fake_gcs import FakeGCS  # noqa: E402

SA = "builder@lading-test.iam.gserviceaccount.com"
OBJECT = "ctx/my context.tar.gz"
DOCKERFILE = """ARG BASE
FROM $BASE
COPY hello.txt /app/hello.txt
COPY sub/ /app/sub/
RUN mkdir -p /out && cat /app/hello.txt /app/sub/deep.txt > /out/joined.txt
"""
CONTEXT_FILES = {"Dockerfile": DOCKERFILE, "hello.txt": "hello from gcs\n",
                 "sub/deep.txt": "deep file\n"}
WANT_FILES = {"/app/hello.txt": "hello from gcs\n", "/app/sub/deep.txt": "deep file\n",
              "/out/joined.txt": "hello from gcs\ndeep file\n"}
GOOGLE_VARS = ("GOOGLE_", "GCE_", "CLOUDSDK_", "STORAGE_EMULATOR_HOST", "LADING_GCS_")


def make_key(path):
    """An RSA key pair made with the openssl command; returns (private PEM, public key path)."""
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", path], check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", path, "-pubout", "-out", path + ".pub"],
                   check=True, capture_output=True)
    with open(path) as f:
        return f.read(), path + ".pub"


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f)
    os.chmod(path, 0o600)


def build(ct, context, tag, env, *flags):
    return build_remote(ct, context, tag, env, *flags, drop=GOOGLE_VARS)


def no_secrets(t, res, label, secrets):
    leaked = [s[:12] for s in secrets if s and s in res.stderr]
    t.ok(not leaked and "ya29." not in res.stderr and "eyJhbGciOiJSUzI1NiIs" not in res.stderr,
         f"{label}: no key, JWT or token in the log", leaked)


def service_account(t, ct, gcs, pem):
    key_file = os.path.join(ct.work, "keys", "sa.json")
    write_json(key_file, {"type": "service_account", "project_id": "lading-test",
                          "private_key_id": "k1", "private_key": pem, "client_email": SA,
                          "client_id": "1", "token_uri": gcs.token_uri})
    obj_path = "/storage/v1/b/bkt/o/ctx%2Fmy%20context.tar.gz"
    res = build(ct, f"gs://bkt/{OBJECT}", "sa", {"GOOGLE_APPLICATION_CREDENTIALS": key_file,
                                                 "LADING_GCS_ENDPOINT": gcs.endpoint})
    t.eq(res.status, 0, "service account: build succeeds", res.summary())
    t.eq(gcs.requests, [("POST", "/token", SA, 200), ("GET", obj_path, SA, 200)],
         "service account: a verified JWT grant, then the object with its token",
         gcs.jwt_problems)
    if res.status == 0:
        t.eq(ct.files("sa"), WANT_FILES, "service account: the image has the context's files")
    t.ok(f"Using the GCS credentials of service account {SA}" in res.stderr,
         "service account: the log names it", res.summary())
    no_secrets(t, res, "service account", [pem.splitlines()[1]])


def authorized_user(t, ct, gcs):
    adc = os.path.join(ct.home, ".config", "gcloud", "application_default_credentials.json")
    write_json(adc, {"type": "authorized_user", "client_id": "cid.apps", "client_secret":
                     "user-secret-xyz", "refresh_token": "1//refresh-abc",
                     "token_uri": gcs.token_uri})
    gcs.requests.clear()
    res = build(ct, f"gs://bkt/{OBJECT}", "user", {"LADING_GCS_ENDPOINT": gcs.endpoint})
    t.eq(res.status, 0, "gcloud ADC file: build succeeds", res.summary())
    t.eq([r[2] for r in gcs.requests], ["user:cid.apps", "user:cid.apps"],
         "gcloud ADC file: refresh-token grant, then the object with its token")
    no_secrets(t, res, "gcloud ADC file", ["user-secret-xyz", "1//refresh-abc"])
    os.unlink(adc)


def metadata(t, ct, gcs):
    gcs.requests.clear()
    res = build(ct, f"gs://bkt/{OBJECT}", "md", {"GCE_METADATA_HOST": gcs.host,
                                                 "LADING_GCS_ENDPOINT": gcs.endpoint})
    t.eq(res.status, 0, "metadata server: build succeeds", res.summary())
    t.eq([r[:3] for r in gcs.requests],
         [("GET", "/computeMetadata/v1/instance/service-accounts/default/token", "metadata"),
          ("GET", "/storage/v1/b/bkt/o/ctx%2Fmy%20context.tar.gz", "metadata")],
         "metadata server: its token is used")
    if res.status == 0:
        t.eq(ct.files("md"), WANT_FILES, "metadata server: the image has the context's files")


def errors(t, ct, gcs, wrong_pem):
    key_file = os.path.join(ct.work, "keys", "wrong.json")
    write_json(key_file, {"type": "service_account", "private_key": wrong_pem,
                          "client_email": SA, "token_uri": gcs.token_uri})
    env = {"GOOGLE_APPLICATION_CREDENTIALS": key_file, "LADING_GCS_ENDPOINT": gcs.endpoint}
    gcs.jwt_problems.clear()
    res = build(ct, f"gs://bkt/{OBJECT}", "wrongkey", env)
    t.eq(res.status, 1, "wrong key: the build fails", res.summary())
    t.eq(error_line(res), f"error: get GCS credentials for 'gs://bkt/{OBJECT}': get an access "
         f"token from '{gcs.token_uri}': HTTP 400: invalid_grant: Invalid JWT Signature.",
         "wrong key: the error line", res.summary())
    t.eq(gcs.jwt_problems, ["signature"], "wrong key: the fake refused the signature")
    t.ok(not pushed(ct, "wrongkey"), "wrong key: nothing pushed")
    no_secrets(t, res, "wrong key", [wrong_pem.splitlines()[1]])

    env["GOOGLE_APPLICATION_CREDENTIALS"] = os.path.join(ct.work, "keys", "sa.json")
    res = build(ct, "gs://bkt/ctx/nope.tar.gz", "noobj", env)
    t.eq(res.status, 1, "missing object: the build fails", res.summary())
    t.eq(error_line(res), "error: get the build context from GCS bucket 'bkt', object "
         "'ctx/nope.tar.gz': HTTP 404: No such object: bkt/ctx/nope.tar.gz",
         "missing object: the error line", res.summary())
    t.ok(not pushed(ct, "noobj"), "missing object: nothing pushed")

    res = build(ct, f"gs://bkt/{OBJECT}", "nocreds", {"GCE_METADATA_HOST": "127.0.0.1:1",
                                                     "LADING_GCS_ENDPOINT": gcs.endpoint})
    t.eq(res.status, 1, "metadata server named but down: the build fails", res.summary())
    line = error_line(res) or ""
    t.ok(line.startswith(f"error: get GCS credentials for 'gs://bkt/{OBJECT}': get an access "
                         "token from the metadata server '127.0.0.1:1' (GCE_METADATA_HOST): "),
         "metadata server down: the error line", line)


def emulator(t, ct, gcs):
    """STORAGE_EMULATOR_HOST: anonymous, as Google's libraries; --bucket names the bucket and
    Kaniko's default object context.tar.gz."""
    gcs.requests.clear()
    res = build(ct, None, "emu", {"STORAGE_EMULATOR_HOST": gcs.host}, "--bucket", "pub")
    t.eq(res.status, 0, "emulator with --bucket: build succeeds", res.summary())
    t.eq(gcs.requests, [("GET", "/storage/v1/b/pub/o/context.tar.gz", None, 200)],
         "emulator with --bucket: one anonymous GET of context.tar.gz")
    t.ok("STORAGE_EMULATOR_HOST is set: requesting gs://pub without credentials" in res.stderr,
         "emulator: the log says so", res.summary())
    if res.status == 0:
        t.eq(ct.files("emu"), WANT_FILES, "emulator: the image has the context's files")


def run(t, ct):
    tgz = context_tgz(CONTEXT_FILES)
    os.makedirs(os.path.join(ct.work, "keys"))
    pem, pub = make_key(os.path.join(ct.work, "keys", "sa.pem"))
    wrong_pem, _ = make_key(os.path.join(ct.work, "keys", "wrong.pem"))
    gcs = FakeGCS({("bkt", OBJECT): tgz, ("pub", "context.tar.gz"): tgz}, {SA: pub},
                  users=[("cid.apps", "user-secret-xyz", "1//refresh-abc")],
                  public=[("pub", "context.tar.gz")])
    try:
        service_account(t, ct, gcs, pem)
        authorized_user(t, ct, gcs)
        metadata(t, ct, gcs)
        errors(t, ct, gcs, wrong_pem)
        emulator(t, ct, gcs)
    finally:
        gcs.stop()


def main():
    return run_main("gcs", run)


if __name__ == "__main__":
    sys.exit(main())
