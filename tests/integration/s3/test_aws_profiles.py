#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Profiles of the AWS shared files, resolved as the SDKs do, end to end through creds-lookup
(creds_lookup() with the ECR provider): AssumeRole against a fake STS on 127.0.0.1 that checks
the SigV4 signature made with the source profile's keys (hmac and hashlib here, nothing shared
with lading's C code) and the form fields, then the fake ECR checks that the assumed
credentials sign GetAuthorizationToken; a two-role chain; credential_source EcsContainer;
credential_process scripts (JSON, exit 1, bad JSON); a source_profile cycle; mfa_serial
refused. Errors are one line and never hold a secret."""

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cache"))
sys.path.insert(0, HERE)

from cachelib import Tap  # noqa: E402
from fake_aws import FakeAWS  # noqa: E402
from test_ecr import HOST, PASSWORD, FakeECR, creds_text, lookup  # noqa: E402

BASE = ("AKIDPROFILEBASE", "base/Secret+Key", None)
ROLE1 = "arn:aws:iam::123456789012:role/deploy"
ROLE2 = "arn:aws:iam::210987654321:role/pusher"
ROLE1_CREDS = ("ASIAROLEONE", "role1/Secret+Temp", "FwoRoleOne&token/+=")
ROLE2_CREDS = ("ASIAROLETWO", "role2/Secret+Temp", "FwoRoleTwo+token")
PROC_CREDS = ("ASIAPROCESS", "proc/Secret+Temp", "FwoProcess+token")
ECS_CREDS = ("ASIAECSTEMP", "ecs/Secret+Temp", "IQoJb3JpZ2luX2VjECS+token")
ECS_AUTH = "Bearer eks-pod-identity-token-123"
PREFIX = f"error: get credentials for '{HOST}': get AWS credentials for ECR: "
SECRETS = (BASE[1], ROLE1_CREDS[1], ROLE1_CREDS[2], ROLE2_CREDS[1], ROLE2_CREDS[2],
           PROC_CREDS[1], PROC_CREDS[2], ECS_CREDS[1], ECS_AUTH, "Signature=")


def script(tmp, name, body):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, 0o755)
    return path


def write_files(tmp):
    ok = script(tmp, "creds-ok.sh", "printf '%s' '{\"Version\": 1, \"AccessKeyId\": "
                f"\"{PROC_CREDS[0]}\", \"SecretAccessKey\": \"{PROC_CREDS[1]}\", "
                f"\"SessionToken\": \"{PROC_CREDS[2]}\", \"Expiration\": "
                "\"2030-01-01T00:00:00Z\"}'\n")
    fail = script(tmp, "creds-fail.sh", "echo 'starting' >&2\n"
                  "echo 'error: the SSO session has expired' >&2\nexit 1\n")
    bad = script(tmp, "creds-bad.sh", "echo 'Version: 1'\n")
    config = os.path.join(tmp, "config")
    with open(config, "w") as f:
        f.write(f"""[default]
region = eu-west-1

[profile deploy]
role_arn = {ROLE1}
source_profile = base
role_session_name = ci-build
external_id = ext-1
duration_seconds = 1800
region = eu-central-1

[profile chain]
role_arn = {ROLE2}
source_profile = deploy

[profile fromecs]
role_arn = {ROLE2}
credential_source = EcsContainer

[profile denied]
role_arn = arn:aws:iam::123456789012:role/nobody
source_profile = base

[profile badsig]
role_arn = {ROLE1}
source_profile = wrongbase

[profile proc]
credential_process = "{ok}" --profile x

[profile procfail]
credential_process = {fail}

[profile procbad]
credential_process = {bad}

[profile loop1]
role_arn = {ROLE1}
source_profile = loop2

[profile loop2]
role_arn = {ROLE2}
source_profile = loop1

[profile mfa]
role_arn = {ROLE1}
source_profile = base
mfa_serial = arn:aws:iam::123456789012:mfa/me
""")
    creds = os.path.join(tmp, "credentials")
    with open(creds, "w") as f:
        f.write(f"[base]\naws_access_key_id = {BASE[0]}\naws_secret_access_key = {BASE[1]}\n"
                f"[wrongbase]\naws_access_key_id = {BASE[0]}\naws_secret_access_key = wrong\n")
    return config, creds


def main():
    t = Tap()
    binary = sys.argv[1]
    users = {c[0]: (c[1], c[2]) for c in (ROLE1_CREDS, ROLE2_CREDS, PROC_CREDS, ECS_CREDS)}
    ecr = FakeECR(users)
    aws = FakeAWS("unused", ECS_AUTH, ("A", "S", "T"), ECS_CREDS, ("A", "S", "T"))
    aws.sts_users = {BASE[0]: BASE[1:], ROLE1_CREDS[0]: ROLE1_CREDS[1:],
                     ECS_CREDS[0]: ECS_CREDS[1:]}
    aws.roles = {ROLE1: ROLE1_CREDS, ROLE2: ROLE2_CREDS}
    tmp = tempfile.mkdtemp(prefix="lading-awsprof-")
    try:
        config, creds = write_files(tmp)
        sts_url = aws.endpoint + "/sts/"
        base_env = {"AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": creds,
                    "AWS_ENDPOINT_URL_STS": sts_url, "AWS_ENDPOINT_URL_ECR": ecr.endpoint}

        def run(profile, **extra):
            aws.assume_log.clear()
            aws.sts_forms.clear()
            ecr.requests.clear()
            return lookup(binary, dict(base_env, AWS_PROFILE=profile, **extra), HOST)

        def clean(err, what):
            t.ok(not any(s in err for s in SECRETS), f"{what}: no secret in the log", err)

        # 1. AssumeRole signed with the source profile's static keys, then ECR with the role's
        rc, out, err = run("deploy")
        t.eq((rc, out), (0, creds_text(HOST, "AssumeRole")), "assume role: ECR credentials", err)
        t.eq(aws.assume_log, [(ROLE1, BASE[0], "eu-central-1", "ok")],
             "assume role: one AssumeRole, signed with the base keys for the profile's region")
        form = aws.sts_forms[-1] if aws.sts_forms else {}
        t.eq(form, {"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": ROLE1,
                    "RoleSessionName": "ci-build", "ExternalId": "ext-1",
                    "DurationSeconds": "1800"}, "assume role: the form fields")
        t.eq(ecr.requests, [("eu-west-1", ROLE1_CREDS[0], "ok")],
             "assume role: ECR sees the role's key and session token")
        rc, out, err = run("deploy")
        clean(err, "assume role")
        t.ok(f"profile 'deploy' assumes role '{ROLE1}'" in err, "assume role: traced", err)

        # 2. a chain: deploy's role credentials (with a session token) assume the second role
        rc, out, err = run("chain")
        t.eq((rc, out), (0, creds_text(HOST, "AssumeRole")), "role chain: ECR credentials", err)
        t.eq(aws.assume_log, [(ROLE1, BASE[0], "us-east-1", "ok"),
                              (ROLE2, ROLE1_CREDS[0], "us-east-1", "ok")],
             "role chain: two AssumeRole calls, the second signed with the first's credentials")
        t.ok(all(f.get("RoleSessionName", "").startswith("lading-") for f in aws.sts_forms[1:]),
             "role chain: default session name lading-<time>", aws.sts_forms)
        t.eq(ecr.requests, [("eu-west-1", ROLE2_CREDS[0], "ok")], "role chain: ECR sees role 2")

        # 3. credential_source EcsContainer signs the AssumeRole
        token_file = os.path.join(tmp, "ecs-token")
        with open(token_file, "w") as f:
            f.write(ECS_AUTH + "\n")
        rc, out, err = run("fromecs", AWS_CONTAINER_CREDENTIALS_FULL_URI=aws.endpoint +
                           "/ecs/creds", AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=token_file)
        t.eq((rc, out), (0, creds_text(HOST, "AssumeRole")), "credential_source: credentials",
             err)
        t.eq(aws.assume_log, [(ROLE2, ECS_CREDS[0], "us-east-1", "ok")],
             "credential_source EcsContainer: the ECS credentials sign AssumeRole")

        # 4. STS refuses: one line with the profile, the role, the status and STS's code
        rc, out, err = run("denied")
        t.eq((rc, out), (1, f"{PREFIX}AWS profile 'denied': "
                            "assume role 'arn:aws:iam::123456789012:role/nobody' at "
                            f"'{sts_url}': HTTP 403 AccessDenied: User is not authorized to "
                            "perform: sts:AssumeRole on resource: "
                            "arn:aws:iam::123456789012:role/nobody\n"), "STS denies", err)
        t.eq(ecr.requests, [], "STS denies: no ECR request")
        rc, out, err = run("badsig")
        t.eq(aws.assume_log, [(ROLE1, BASE[0], "us-east-1", "bad signature")],
             "a wrong source secret: STS sees a bad signature", err)
        t.eq((rc, out), (1, f"{PREFIX}AWS profile 'badsig': assume role '{ROLE1}' at "
                            f"'{sts_url}': HTTP 403 SignatureDoesNotMatch: bad signature\n"),
             "a wrong source secret: the error line", err)

        # 5. credential_process: a script printing JSON
        rc, out, err = run("proc")
        t.eq((rc, out), (0, creds_text(HOST, "credential_process")),
             "credential_process: ECR credentials", err)
        t.eq(ecr.requests, [("eu-west-1", PROC_CREDS[0], "ok")],
             "credential_process: ECR sees its key and session token")
        t.eq(aws.assume_log, [], "credential_process: no STS call")
        clean(err, "credential_process")

        rc, out, err = run("procfail")
        t.eq((rc, out), (1, f"{PREFIX}AWS profile 'procfail': "
                            "credential_process: exit status 1: error: the SSO session has "
                            "expired\n"), "credential_process exits 1: its last stderr line", err)
        rc, out, err = run("procbad")
        t.eq((rc, out), (1, f"{PREFIX}AWS profile 'procbad': "
                            "credential_process: parse output: invalid JSON near byte 0\n"),
             "credential_process prints bad JSON", err)

        # 6. a source_profile cycle, mfa_serial
        rc, out, err = run("loop1")
        t.eq((rc, out), (1, f"{PREFIX}AWS profile 'loop1': "
                            "source_profile cycle loop1 -> loop2 -> loop1\n"), "a cycle", err)
        t.eq(aws.assume_log, [], "a cycle: no STS call")
        rc, out, err = run("mfa")
        t.eq((rc, out), (1, f"{PREFIX}AWS profile 'mfa': "
                            "mfa_serial is not supported (a build has no terminal to type an MFA "
                            "code)\n"), "mfa_serial refused", err)

        # 7. environment keys still come first
        rc, out, err = run("proc", AWS_ACCESS_KEY_ID=PROC_CREDS[0],
                           AWS_SECRET_ACCESS_KEY=PROC_CREDS[1], AWS_SESSION_TOKEN=PROC_CREDS[2])
        t.eq((rc, out), (0, creds_text(HOST, "environment")), "environment before the profile",
             err)
        t.ok(PASSWORD not in err, "the registry password is not logged")
    finally:
        ecr.stop()
        aws.stop()
        shutil.rmtree(tmp)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
