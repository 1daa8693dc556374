#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Kaniko's built-in Azure Container Registry credentials: creds-lookup (creds_lookup() with the
cloud providers registered, as the executor does; --config plays
--azure-container-registry-config) gets an Azure AD token from the config file's client secret,
AZURE_CLIENT_SECRET, workload identity or managed identity (fake IMDS), and exchanges it at the
fake ACR for a refresh token, the password of user 00000000-0000-0000-0000-000000000000. The
fake (fake_azure.py) checks the requests as Azure would. Secrets must appear in no log line and
no error, with the driver logging at trace level. A real ACR host cannot be reached from a
test, so the push itself is not exercised."""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cache"))
sys.path.insert(0, HERE)

from cachelib import Tap, clean_env  # noqa: E402
from fake_azure import JWT_BEARER, FakeAzure  # noqa: E402

TENANT = "tenant-1234"
CLIENT = "client-abcd"
SECRET = "cl1ent/S3cret+value&x=y"
ASSERTION = "eyJhbGciOiJSUzI1NiJ9.fed-token-payload.sig_nature-x"
MI_CLIENT = "mi-client-5678"
REG, REG2, REG_CN = "myreg.azurecr.io", "other.azurecr.io", "chinareg.azurecr.cn"
USER = "00000000-0000-0000-0000-000000000000"


def parse(out):
    """[(user, password, source)] from the driver's output (error lines skipped)."""
    lines = [line for line in out.splitlines() if not line.startswith("error: ")]
    return [tuple(line.split("=", 1)[1] for line in lines[i:i + 3])
            for i in range(0, len(lines) - 2, 3)]


class Run:
    def __init__(self, binary, fake):
        self.binary, self.fake = binary, fake
        self.outputs = []  # every stdout and stderr, for the redaction checks

    def __call__(self, env, *hosts, config=None):
        full = {k: v for k, v in clean_env().items() if not k.startswith("AZURE_")}
        full.update({"HOME": "/nonexistent", "AZURE_AUTHORITY_HOST": self.fake.endpoint,
                     "LADING_TEST_ACR_ENDPOINT": self.fake.endpoint,
                     "LADING_TEST_AZURE_IMDS_ENDPOINT": self.fake.endpoint})
        full.update(env)
        self.fake.clear()
        argv = [self.binary] + (["--azure-config", config] if config else []) + list(hosts)
        p = subprocess.run(argv, env=full, capture_output=True, text=True, timeout=60)
        self.outputs.append((" ".join(hosts), p.stdout, p.stderr))
        return p.returncode, p.stdout, p.stderr


def kinds(fake):
    return [k for k, _ in fake.requests]


def form(fake, kind, i=0):
    got = [f for k, f in fake.requests if k == kind]
    return got[i] if len(got) > i else {}


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def test_config_secret(t, run, fake, work):
    cfg = write(os.path.join(work, "azure.json"), json.dumps(
        {"cloud": "AzurePublicCloud", "tenantId": TENANT, "aadClientId": CLIENT,
         "aadClientSecret": SECRET, "subscriptionId": "sub", "resourceGroup": "rg"}))
    # the environment's wrong secret must not be used: the file comes first
    rc, out, err = run({"AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT,
                        "AZURE_CLIENT_SECRET": "wrong"}, REG, REG, REG2, config=cfg)
    got = parse(out)
    t.eq(rc, 0, "config file: the lookups succeed", out + err)
    t.eq([g[0] for g in got], [USER] * 3, "config file: the ACR user name", out)
    t.ok(len(got) == 3 and fake.refresh.get(got[0][1], ("",))[0] == REG
         and fake.refresh.get(got[2][1], ("",))[0] == REG2,
         "config file: each password is the refresh token issued for its registry", out)
    t.eq(kinds(fake), ["aad", "exchange", "aad", "exchange"],
         "config file: one token and one exchange per registry (the second lookup is cached)")
    t.eq(form(fake, "aad"), {"grant_type": "client_credentials", "client_id": CLIENT,
                             "client_secret": SECRET,
                             "scope": "https://management.azure.com/.default"},
         "config file: the client-credentials form, with the Resource Manager scope")
    f = form(fake, "exchange")
    t.eq((f.get("grant_type"), f.get("service"), f.get("tenant"), fake.aad_tokens.get(
        f.get("access_token"))), ("access_token", REG, TENANT, "secret"),
         "config file: the exchange form (grant, service, tenant, the issued token)", f)
    t.eq(got[0][2] if got else None, f"credentials for '{REG}' from the ACR token exchange "
         f"(Azure AD token: client secret of '{CLIENT}' from --azure-container-registry-config "
         f"'{cfg}')", "config file: the source text")
    t.eq(fake.problems, [], "config file: the fake found nothing wrong")


def test_env_secret(t, run, fake):
    fake.scope = "https://management.chinacloudapi.cn/.default"
    rc, out, err = run({"AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT,
                        "AZURE_CLIENT_SECRET": SECRET}, REG_CN)
    fake.scope = "https://management.azure.com/.default"
    got = parse(out)
    t.ok(rc == 0 and got and fake.refresh.get(got[0][1], ("",))[0] == REG_CN,
         "environment secret: a refresh token for the .azurecr.cn registry", out + err)
    t.eq(form(fake, "aad").get("scope"), "https://management.chinacloudapi.cn/.default",
         "environment secret: the China cloud's scope, from the host")
    t.eq(got[0][2] if got else None, f"credentials for '{REG_CN}' from the ACR token exchange "
         f"(Azure AD token: client secret of '{CLIENT}' from AZURE_CLIENT_SECRET)",
         "environment secret: the source text")
    t.eq(fake.problems, [], "environment secret: the fake found nothing wrong")


def test_workload_identity(t, run, fake, work):
    token_file = write(os.path.join(work, "azure-identity-token"), ASSERTION + "\n")
    rc, out, err = run({"AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT,
                        "AZURE_FEDERATED_TOKEN_FILE": token_file}, REG)
    got = parse(out)
    t.ok(rc == 0 and got and got[0][1] in fake.refresh, "workload identity: a refresh token",
         out + err)
    t.eq(form(fake, "aad"), {"grant_type": "client_credentials", "client_id": CLIENT,
                             "client_assertion_type": JWT_BEARER,
                             "client_assertion": ASSERTION,
                             "scope": "https://management.azure.com/.default"},
         "workload identity: the jwt-bearer client_assertion form (the file's token, trimmed)")
    t.eq(fake.aad_tokens.get(form(fake, "exchange").get("access_token")), "workload",
         "workload identity: its token is exchanged")
    t.eq(fake.problems, [], "workload identity: the fake found nothing wrong")


def test_managed_identity(t, run, fake, work):
    cfg = write(os.path.join(work, "msi.json"), json.dumps(
        {"useManagedIdentityExtension": True, "userAssignedIdentityID": MI_CLIENT}))
    rc, out, err = run({}, REG, config=cfg)
    got = parse(out)
    t.ok(rc == 0 and got and got[0][1] in fake.refresh, "managed identity: a refresh token",
         out + err)
    t.eq(form(fake, "imds"), {"api-version": "2018-02-01",
                              "resource": "https://management.azure.com/",
                              "client_id": MI_CLIENT},
         "managed identity: IMDS's query (api-version, resource, the user-assigned identity)")
    f = form(fake, "exchange")
    t.ok(fake.aad_tokens.get(f.get("access_token")) == "managed identity" and "tenant" not in f,
         "managed identity: its token is exchanged, without a tenant (none configured)", f)
    t.eq(got[0][2] if got else None, f"credentials for '{REG}' from the ACR token exchange "
         f"(Azure AD token: managed identity '{MI_CLIENT}' (IMDS, "
         f"--azure-container-registry-config '{cfg}'))", "managed identity: the source text")
    t.eq(fake.problems, [], "managed identity: the fake found nothing wrong")


def test_anonymous(t, run, fake, work):
    rc, out, err = run({}, REG)
    t.ok(rc == 0 and parse(out) == [("", "", parse(out)[0][2])] and fake.requests == [],
         "no Azure credentials: anonymous, and IMDS is not asked", out + err)
    cloud_only = write(os.path.join(work, "cloud.json"), json.dumps({"cloud": "AzureChinaCloud"}))
    rc, out, err = run({}, REG, config=cloud_only)
    t.ok(rc == 0 and [g[:2] for g in parse(out)] == [("", "")] and fake.requests == [],
         "a config file without credentials: anonymous", out + err)
    rc, out, err = run({"AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT,
                        "AZURE_CLIENT_SECRET": SECRET},
                       "registry.example", "myreg.azurecr.io.example.com", "a.b.azurecr.io")
    t.eq([g[:2] for g in parse(out)], [("", "")] * 3,
         "other hosts (also look-alikes) stay anonymous", out)
    t.eq(fake.requests, [], "other hosts: no request to Azure")


def test_errors(t, run, fake, work):
    rc, out, err = run({"AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT,
                        "AZURE_CLIENT_SECRET": "not-the-secret"}, REG)
    t.eq((rc, out.strip()), (1, f"error: get credentials for '{REG}': Azure AD token: client "
                                f"secret of '{CLIENT}' from AZURE_CLIENT_SECRET at "
                                f"'{fake.endpoint}/{TENANT}/oauth2/v2.0/token': HTTP 401: "
                                "invalid_client: AADSTS7000215: Invalid client secret provided."),
         "Azure AD refuses the secret: one line with the step, status and description")
    t.ok("not-the-secret" not in out + err, "the refused secret is not shown either")
    fake.reject_exchange = True
    rc, out, err = run({"AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT,
                        "AZURE_CLIENT_SECRET": SECRET}, REG)
    fake.reject_exchange = False
    t.eq((rc, out.strip()), (1, f"error: get credentials for '{REG}': ACR token exchange at "
                                f"'{fake.endpoint}/oauth2/exchange': HTTP 401: UNAUTHORIZED: the "
                                "access token is not valid for this registry"),
         "the exchange refuses: one line with the step, status and message")
    bad = write(os.path.join(work, "bad.json"), json.dumps(
        {"tenantId": TENANT, "aadClientSecret": SECRET}))
    rc, out, err = run({}, REG, config=bad)
    t.eq((rc, out.strip()), (1, f"error: get credentials for '{REG}': Azure AD token: read "
                                f"'{bad}': required field 'aadClientId' is missing"),
         "an invalid config file: its name and the field")
    missing = os.path.join(work, "missing.json")
    rc, out, err = run({}, REG, config=missing)
    t.eq((rc, out.strip()), (1, f"error: get credentials for '{REG}': Azure AD token: read "
                                f"'{missing}': No such file or directory"),
         "a missing config file: its name")
    cfg = write(os.path.join(work, "msi-wrong.json"), json.dumps(
        {"useManagedIdentityExtension": True, "userAssignedIdentityID": "nobody"}))
    rc, out, err = run({}, REG, config=cfg)
    t.ok(rc == 1 and out.startswith(f"error: get credentials for '{REG}': Azure AD token: "
                                    "managed identity 'nobody' (IMDS") and
         out.strip().endswith("HTTP 400: invalid_request: Identity not found"),
         "IMDS refuses: one line with the status and description", out)


def test_redaction(t, run, fake):
    refresh = set(fake.refresh)
    secrets = [SECRET, ASSERTION, "S3cret", *fake.aad_tokens]
    leaks = [(hosts, s) for hosts, out, err in run.outputs for s in secrets
             if s in out or s in err]
    leaks += [(hosts, r) for hosts, out, err in run.outputs for r in refresh if r in err]
    t.eq(leaks, [], "no client secret, assertion or token in any output at trace level "
         "(a refresh token only as the printed password)")
    t.ok(any("ACR: exchanging an Azure AD token" in err for _, _, err in run.outputs),
         "the driver did log at debug level (the check above saw the logs)")


def main():
    t = Tap()
    fake = FakeAzure(TENANT, CLIENT, SECRET, ASSERTION, MI_CLIENT)
    run = Run(sys.argv[1], fake)
    with tempfile.TemporaryDirectory() as work:
        try:
            test_config_secret(t, run, fake, work)
            test_env_secret(t, run, fake)
            test_workload_identity(t, run, fake, work)
            test_managed_identity(t, run, fake, work)
            test_anonymous(t, run, fake, work)
            test_errors(t, run, fake, work)
            test_redaction(t, run, fake)
        finally:
            fake.stop()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
