# SPDX-License-Identifier: Apache-2.0
"""A fake Azure AD token endpoint, IMDS and ACR token exchange on 127.0.0.1, one server for the
three (AZURE_AUTHORITY_HOST, LADING_TEST_AZURE_IMDS_ENDPOINT, LADING_TEST_ACR_ENDPOINT). It checks
requests as Azure would: the v2.0 client-credentials grant with a client secret or a jwt-bearer
client_assertion and the Resource Manager scope; IMDS's GET with "Metadata: true", api-version
and resource; the exchange form (grant_type=access_token, service, tenant, an access token this
fake issued). Each request is recorded as (kind, form or query)."""

import json
import urllib.parse

from cachelib import LoopbackFake

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class FakeAzure(LoopbackFake):
    METHODS = ("GET", "POST")

    def __init__(self, tenant, client, secret, assertion, mi_client):
        self.tenant, self.client, self.secret = tenant, client, secret
        self.assertion, self.mi_client = assertion, mi_client
        self.scope = "https://management.azure.com/.default"
        self.resource = "https://management.azure.com/"
        self.reject_exchange = False
        self.requests = []   # (kind, {field: value})
        self.problems = []   # what a request got wrong
        self.aad_tokens = {}  # access token: who
        self.refresh = {}     # refresh token: (registry, access token)
        self.start()

    def clear(self):
        self.requests, self.problems = [], []

    def reply(self, h, status, obj):
        body = json.dumps(obj).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def issue(self, who):
        token = f"aad-access-{len(self.aad_tokens) + 1}"
        self.aad_tokens[token] = who
        return {"token_type": "Bearer", "expires_in": 3599, "access_token": token}

    def form(self, h):
        n = int(h.headers.get("Content-Length", "0"))
        raw = h.rfile.read(n).decode()
        if h.headers.get("Content-Type") != "application/x-www-form-urlencoded":
            self.problems.append(f"content type {h.headers.get('Content-Type')}")
        pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
        return dict(pairs)

    def serve(self, h):
        return self.post(h) if h.command == "POST" else self.get(h)

    def post(self, h):
        f = self.form(h)
        path = urllib.parse.urlsplit(h.path).path
        if path == "/oauth2/exchange":
            return self.exchange(h, f)
        if path != f"/{self.tenant}/oauth2/v2.0/token":
            self.requests.append(("aad", f))
            return self.reply(h, 400, {"error": "invalid_request",
                                       "error_description": "AADSTS90002: Tenant not found."})
        self.requests.append(("aad", f))
        if f.get("grant_type") != "client_credentials" or f.get("scope") != self.scope:
            self.problems.append(f"grant {f.get('grant_type')} scope {f.get('scope')}")
            return self.reply(h, 400, {"error": "invalid_scope", "error_description": "bad"})
        if f.get("client_id") != self.client:
            return self.reply(h, 400, {"error": "unauthorized_client",
                                       "error_description": "AADSTS700016: app not found"})
        if "client_secret" in f and "client_assertion" not in f:
            if f["client_secret"] != self.secret:
                return self.reply(h, 401, {"error": "invalid_client",
                                           "error_description": "AADSTS7000215: Invalid client "
                                           "secret provided.", "error_codes": [7000215]})
            return self.reply(h, 200, self.issue("secret"))
        if f.get("client_assertion_type") == JWT_BEARER and "client_secret" not in f:
            if f.get("client_assertion") != self.assertion:
                return self.reply(h, 401, {"error": "invalid_client",
                                           "error_description": "AADSTS700024: Client "
                                           "assertion is not within its valid time range."})
            return self.reply(h, 200, self.issue("workload"))
        self.problems.append(f"no client authentication in {sorted(f)}")
        return self.reply(h, 400, {"error": "invalid_request", "error_description": "no auth"})

    def get(self, h):
        u = urllib.parse.urlsplit(h.path)
        q = dict(urllib.parse.parse_qsl(u.query, strict_parsing=True))
        self.requests.append(("imds", q))
        if u.path != "/metadata/identity/oauth2/token" or h.headers.get("Metadata") != "true":
            self.problems.append(f"IMDS {u.path} Metadata: {h.headers.get('Metadata')}")
            return self.reply(h, 400, {"error": "invalid_request",
                                       "error_description": "Required metadata header not "
                                       "specified"})
        if q.get("api-version") != "2018-02-01" or q.get("resource") != self.resource:
            self.problems.append(f"IMDS query {q}")
            return self.reply(h, 400, {"error": "invalid_resource", "error_description": "bad"})
        if q.get("client_id") != self.mi_client:
            return self.reply(h, 400, {"error": "invalid_request",
                                       "error_description": "Identity not found"})
        return self.reply(h, 200, self.issue("managed identity"))

    def exchange(self, h, f):
        self.requests.append(("exchange", f))
        token = f.get("access_token")
        if (f.get("grant_type") != "access_token" or not f.get("service", "").count(".azurecr.")
                or token not in self.aad_tokens):
            self.problems.append(f"exchange form {sorted(f)}")
        if self.reject_exchange or token not in self.aad_tokens:
            return self.reply(h, 401, {"errors": [{"code": "UNAUTHORIZED",
                                                   "message": "the access token is not valid "
                                                   "for this registry"}]})
        refresh = f"acr-refresh-{len(self.refresh) + 1}"
        self.refresh[refresh] = (f.get("service"), token)
        return self.reply(h, 200, {"refresh_token": refresh})
