# SPDX-License-Identifier: Apache-2.0
"""The credential services of AWS on 127.0.0.1 for the s3:// context tests: STS
AssumeRoleWithWebIdentity (POST /sts/, form body, XML answer), an ECS container credentials
endpoint (GET /ecs/creds, Authorization required) and EC2 instance metadata IMDSv2 (PUT
/latest/api/token, then GET /latest/meta-data/iam/security-credentials/[ROLE] with the session
token). Each checks what a real service would and records what it saw."""

import hashlib
import hmac
import json
import re
import urllib.parse

from cachelib import LoopbackFake

ROLE_ARN = "arn:aws:iam::123456789012:role/lading-ci"
IMDS_ROLE = "lading-instance-role"
IMDS_TOKEN = "AQAEAImdsSessionToken=="
STS_AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/sts/aws4_request, "
                         r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$")


def sts_signature(secret, amz_date, region, creq):
    """SigV4 for service sts, computed here with hmac and hashlib (nothing from lading)."""
    scope = f"{amz_date[:8]}/{region}/sts/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = hmac.new(("AWS4" + secret).encode(), amz_date[:8].encode(), hashlib.sha256).digest()
    for part in (region, "sts", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()


class FakeAWS(LoopbackFake):
    """web_token: the token STS accepts; sts, ecs, imds: (access key, secret, session token)
    each service hands out; ecs_auth: the Authorization value the ECS endpoint wants."""

    METHODS = ("GET", "PUT", "POST")

    def __init__(self, web_token, ecs_auth, sts, ecs, imds):
        self.web_token, self.ecs_auth = web_token, ecs_auth
        self.creds = {"sts": sts, "ecs": ecs, "imds": imds}
        self.requests = []  # (method, path, what was wrong or "ok")
        self.sts_forms = []
        # AssumeRole: {access key: (secret, session token or None)} allowed to sign, and
        # {role ARN: (access key, secret, session token)} handed out; assume_log has
        # (role, signing access key, signing region, what was wrong or "ok")
        self.sts_users, self.roles, self.assume_log = {}, {}, []
        self.start()

    def reply(self, h, status, body, ctype, note):
        self.requests.append((h.command, h.path, note))
        data = body.encode()
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def serve(self, h):
        method = h.command
        n = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(n).decode() if n else ""
        if method == "POST" and h.path == "/sts/":
            return self.sts(h, body)
        if method == "GET" and h.path == "/ecs/creds":
            return self.ecs(h)
        if h.path.startswith("/latest/"):
            return self.imds(h, method)
        self.reply(h, 404, "not found", "text/plain", "unknown path")

    def sts(self, h, body):
        form = urllib.parse.parse_qs(body, keep_blank_values=True)
        form = {k: v[0] for k, v in form.items()}
        self.sts_forms.append(form)
        if form.get("Action") == "AssumeRole":
            return self.assume_role(h, body, form)
        problem = None
        if h.headers.get("Authorization") is not None:
            problem = "signed"  # AssumeRoleWithWebIdentity is an unsigned call
        elif (form.get("Action") != "AssumeRoleWithWebIdentity"
              or form.get("Version") != "2011-06-15" or not form.get("RoleSessionName")):
            problem = "bad form"
        elif form.get("WebIdentityToken") != self.web_token:
            problem = "bad token"
        elif form.get("RoleArn") != ROLE_ARN:
            problem = "bad role"
        if problem:
            xml = ("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
                   "<Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to "
                   "perform sts:AssumeRoleWithWebIdentity</Message></Error><RequestId>1"
                   "</RequestId></ErrorResponse>")
            return self.reply(h, 403, xml, "text/xml", problem)
        ak, sk, tok = self.creds["sts"]
        xml = ("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/"
               "2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials>"
               f"<AccessKeyId>{ak}</AccessKeyId><SecretAccessKey>{sk}</SecretAccessKey>"
               f"<SessionToken>{tok.replace('&', '&amp;')}</SessionToken>"
               "<Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>"
               f"<AssumedRoleUser><Arn>{ROLE_ARN}/x</Arn></AssumedRoleUser>"
               "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>")
        self.reply(h, 200, xml, "text/xml", "ok")

    def assume_problem(self, h, body, form):
        """(signing key, region, problem or None) for an AssumeRole request."""
        m = STS_AUTH_RE.match(h.headers.get("Authorization") or "")
        if not m:
            return None, None, "no SigV4 Authorization for sts"
        ak, date, region, signed, sig = m.groups()
        if ak not in self.sts_users:
            return ak, region, "unknown access key"
        secret, token = self.sts_users[ak]
        names = signed.split(";")
        amz_date = h.headers.get("X-Amz-Date", "")
        if (names != sorted(names) or not {"content-type", "host", "x-amz-date"} <= set(names)
                or not amz_date.startswith(date)):
            return ak, region, "host, content-type and x-amz-date must be signed"
        if token is not None and ("x-amz-security-token" not in names
                                  or h.headers.get("X-Amz-Security-Token") != token):
            return ak, region, "bad session token"
        lines = [f"{n}:{' '.join((h.headers.get(n) or '').split())}" for n in names]
        creq = "\n".join(["POST", h.path.split("?")[0], "", *lines, "", signed,
                          hashlib.sha256(body.encode()).hexdigest()])
        if not hmac.compare_digest(sts_signature(secret, amz_date, region, creq), sig):
            return ak, region, "bad signature"
        if form.get("Version") != "2011-06-15" or not form.get("RoleSessionName"):
            return ak, region, "bad form"
        if form.get("RoleArn") not in self.roles:
            return ak, region, "unknown role"
        return ak, region, None

    def assume_role(self, h, body, form):
        ak, region, problem = self.assume_problem(h, body, form)
        self.assume_log.append((form.get("RoleArn"), ak, region, problem or "ok"))
        if problem:
            code, msg = (("SignatureDoesNotMatch", problem) if problem != "unknown role" else
                         ("AccessDenied", f"User is not authorized to perform: sts:AssumeRole "
                          f"on resource: {form.get('RoleArn')}"))
            xml = ("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
                   f"<Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message></Error>"
                   "<RequestId>2</RequestId></ErrorResponse>")
            return self.reply(h, 403, xml, "text/xml", problem)
        rak, rsk, rtok = self.roles[form["RoleArn"]]
        xml = ("<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
               "<AssumeRoleResult><AssumedRoleUser><Arn>x</Arn></AssumedRoleUser><Credentials>"
               f"<AccessKeyId>{rak}</AccessKeyId><SecretAccessKey>{rsk}</SecretAccessKey>"
               f"<SessionToken>{rtok.replace('&', '&amp;')}</SessionToken>"
               "<Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>"
               "</AssumeRoleResult></AssumeRoleResponse>")
        self.reply(h, 200, xml, "text/xml", "ok")

    def creds_json(self, which, imds=False):
        ak, sk, tok = self.creds[which]
        d = {"AccessKeyId": ak, "SecretAccessKey": sk, "Token": tok,
             "Expiration": "2030-01-01T00:00:00Z"}
        if imds:
            d.update({"Code": "Success", "Type": "AWS-HMAC",
                      "LastUpdated": "2029-12-31T18:00:00Z"})
        return json.dumps(d)

    def ecs(self, h):
        if h.headers.get("Authorization") != self.ecs_auth:
            return self.reply(h, 401, '{"message":"unauthorized"}', "application/json",
                              "bad authorization")
        self.reply(h, 200, self.creds_json("ecs"), "application/json", "ok")

    def imds(self, h, method):
        if method == "PUT" and h.path == "/latest/api/token":
            if not h.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.reply(h, 400, "", "text/plain", "no ttl")
            return self.reply(h, 200, IMDS_TOKEN, "text/plain", "ok")
        if method != "GET":
            return self.reply(h, 405, "", "text/plain", "method")
        if h.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
            return self.reply(h, 401, "", "text/plain", "no session token")
        base = "/latest/meta-data/iam/security-credentials/"
        if h.path == base:
            return self.reply(h, 200, IMDS_ROLE, "text/plain", "ok")
        if h.path == base + IMDS_ROLE:
            return self.reply(h, 200, self.creds_json("imds", True), "text/plain", "ok")
        self.reply(h, 404, "", "text/plain", "unknown path")
