#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Kaniko's built-in credentials for Google's registries (gcr.io, *.gcr.io, *-docker.pkg.dev):
the lookup driver (creds_lookup() with the cloud providers registered, as the executor does)
gets an access token from Application Default Credentials — a service-account key whose JWT
the fake token endpoint verifies with the openssl command (scope cloud-platform), or the
metadata server (GCE_METADATA_HOST) — and returns it as the password of "oauth2accesstoken".
A real Google registry cannot be reached from a test, so the push itself is not exercised."""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cache"))
sys.path.insert(0, HERE)

from cachelib import Tap, clean_env  # noqa: E402
from fake_gcs import FakeGCS  # noqa: E402

SA = "builder@project.iam.gserviceaccount.com"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


def make_key(path):
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", path], check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", path, "-pubout", "-out", path + ".pub"],
                   check=True, capture_output=True)
    with open(path) as f:
        return f.read(), path + ".pub"


def lookup(binary, env, *hosts):
    full = {k: v for k, v in clean_env().items()
            if not k.startswith(("AWS_", "CI_", "GOOGLE_", "GCE_", "CLOUDSDK_"))}
    full.update({"HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"})
    full.update(env)
    p = subprocess.run([binary, *hosts], env=full, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def parse(out):
    """[(user, password, source)] from the driver's output."""
    lines = out.splitlines()
    return [tuple(line.split("=", 1)[1] for line in lines[i:i + 3])
            for i in range(0, len(lines) - 2, 3)]


def main():
    t = Tap()
    binary = sys.argv[1]
    work = subprocess.run(["mktemp", "-d"], capture_output=True, text=True).stdout.strip()
    pem, pub = make_key(os.path.join(work, "sa.pem"))
    gcs = FakeGCS({}, {SA: pub})
    gcs.scope = CLOUD_PLATFORM
    try:
        key_file = os.path.join(work, "sa.json")
        with open(key_file, "w") as f:
            json.dump({"type": "service_account", "client_email": SA, "private_key": pem,
                       "token_uri": gcs.token_uri}, f)

        hosts = ("gcr.io", "eu.gcr.io", "europe-west1-docker.pkg.dev")
        rc, out, err = lookup(binary, {"GOOGLE_APPLICATION_CREDENTIALS": key_file}, *hosts)
        got = parse(out)
        t.eq(rc, 0, "service account: the lookups succeed", err)
        t.eq([g[0] for g in got], ["oauth2accesstoken"] * 3,
             "service account: user oauth2accesstoken for each Google registry", out)
        issued = [tok for tok, who in gcs.tokens.items() if who == SA]
        t.ok(len(got) == 3 and all(g[1] in issued for g in got),
             "service account: the password is a token the endpoint issued for the account",
             f"{got} {gcs.jwt_problems}")
        t.eq(gcs.jwt_problems, [], "service account: the JWT (scope cloud-platform, RS256) "
             "passes the endpoint's checks")
        t.eq(got[0][2] if got else None, "credentials for 'gcr.io' from Google Application "
             "Default Credentials (an access token as oauth2accesstoken)", "the source text")
        t.ok(pem.splitlines()[1] not in err, "the private key is not in the log")

        rc, out, err = lookup(binary, {"GCE_METADATA_HOST": gcs.host},
                              "us-docker.pkg.dev")
        got = parse(out)
        t.ok(rc == 0 and got and gcs.tokens.get(got[0][1]) == "metadata",
             "metadata server: its token for us-docker.pkg.dev", out + err)

        rc, out, err = lookup(binary, {"GOOGLE_APPLICATION_CREDENTIALS": key_file},
                              "registry.example", "gcr.io.example.com", "docker.pkg.dev")
        got = parse(out)
        t.eq([(g[0], g[1]) for g in got], [("", "")] * 3,
             "other hosts (also look-alikes) stay anonymous", out)

        rc, out, err = lookup(binary, {"GCE_METADATA_HOST": "127.0.0.1:1"}, "gcr.io")
        t.ok(rc == 1 and out.startswith("error: get credentials for 'gcr.io': Google Application "
                                        "Default Credentials: get an access token from the "
                                        "metadata server '127.0.0.1:1' (GCE_METADATA_HOST)"),
             "a metadata server that is named but down: one error line", out + err)
    finally:
        gcs.stop()
        subprocess.run(["rm", "-rf", work])
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
