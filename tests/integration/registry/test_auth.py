# SPDX-License-Identifier: Apache-2.0
"""Credentials and tokens end to end: Basic and Bearer, identity tokens (OAuth2 POST), registry
tokens, credential helpers on PATH, tokens reused per scope and refreshed on 401, auth failures
that name the credential tried, and no secret in the output at the highest verbosity."""

import base64
import json
import os
import ssl
import stat
import urllib.request

from regtest import auth_b64, main

PASSWORD = "S3cret-Pa55-Zebra-91"


def get_refresh_token(reg, scope):
    """What `docker login` stores as identitytoken: a refresh token from the token server."""
    ts = reg.token_server
    q = f"service={ts.service}&scope={scope}&offline_token=true&client_id=test"
    req = urllib.request.Request(f"{ts.realm}?{q}", headers={
        "Authorization": "Basic " + auth_b64("alice", PASSWORD)})
    ctx = ssl.create_default_context(cafile=reg.ca_cert) if ts.realm.startswith("https") \
        else None
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                         urllib.request.HTTPSHandler(context=ctx))
    with opener.open(req, timeout=10) as resp:
        body = json.loads(resp.read())
    return body["refresh_token"], body["token"]


def write_helper(bindir, name, script):
    os.makedirs(bindir, exist_ok=True)
    path = os.path.join(bindir, f"docker-credential-{name}")
    with open(path, "w") as f:
        f.write(script)
    os.chmod(path, stat.S_IRWXU)
    return path


def secrets_absent(tap, text, secrets, what):
    leaked = [s for s in secrets if s and s in text]
    tap.ok(not leaked, f"no secret in the trace output: {what}",
           f"leaked: {[s[:6] + '...' for s in leaked]}")
    tap.lacks(text, "eyJ", f"no JWT in the trace output: {what}")


def body(tap, env):
    users = {"alice": PASSWORD}
    basic = env.registry("basic", name="basic", users=users)
    token = env.registry("token", name="token", users=users, token_options={"ttl": 2})
    small_b = env.push_fixture("small", basic, "fixtures/small:oci")
    small_t = env.push_fixture("multilayer", token, "fixtures/multilayer:oci")
    trace = ["--verbosity", "trace"]
    basic_secrets = [PASSWORD, auth_b64("alice", PASSWORD)]

    # Basic: success and failure, with every secret kept out of the trace
    c = env.client("basic-ok", config={"auths": {basic.host: {
        "auth": auth_b64("alice", PASSWORD)}}})
    rc, r, err = c.run(*trace, "resolve", small_b["reference"])
    tap.eq(r["digest"], small_b["digest"], "basic: pull with auths credentials")
    tap.has(err, f"credentials for '{basic.host}' from {c.config_path} (auths '{basic.host}')",
            "basic: the debug log names the credential source")
    secrets_absent(tap, err, basic_secrets, "basic pull")
    big = os.path.join(c.dir, "blob.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(1500000))
    rc, r, err = c.run(*trace, "push-blob", f"{basic.host}/test/secret", big)
    secrets_absent(tap, err, basic_secrets, "basic push")
    bad = env.client("basic-bad", config={"auths": {basic.host: {
        "username": "alice", "password": "wrong-" + PASSWORD}}})
    rc, _, err = bad.run(*trace, "resolve", small_b["reference"], check=False)
    tap.has(err, f"error: resolve '{small_b['reference']}': get manifest 'oci' of "
                 f"'{basic.host}/fixtures/small': HTTP 401 Unauthorized: UNAUTHORIZED: "
                 f"authentication required (credentials for '{basic.host}' from "
                 f"{bad.config_path} (auths '{basic.host}'))",
            "basic: a wrong password names the credential tried")
    secrets_absent(tap, err, basic_secrets + ["wrong-" + PASSWORD], "basic failure")
    anon = env.client("basic-anon")
    err = anon.error("resolve", small_b["reference"])
    tap.has(err, f"(no credentials for '{basic.host}': no Docker config found (looked for "
                 f"{anon.kaniko}/.docker/config.json, {anon.dir}/home/.docker/config.json, "
                 f"{anon.dir}/run/containers/auth.json; anonymous))", "basic: without any config the message says so")
    empty = env.client("basic-other", config={"auths": {"other.example": {"auth": "eDp5"}}})
    err = empty.error("resolve", small_b["reference"])
    tap.has(err, f"(no credentials for '{basic.host}' in {empty.config_path} (anonymous))",
            "basic: a config without the registry is named")

    # DOCKER_CONFIG wins over the kaniko dir
    dc = os.path.join(env.base, "dockercfg")
    os.makedirs(dc)
    with open(os.path.join(dc, "config.json"), "w") as f:
        json.dump({"auths": {f"https://{basic.host}": {"username": "alice",
                                                       "password": PASSWORD}}}, f)
    dcc = env.client("docker-config", config={"auths": {}}, env={"DOCKER_CONFIG": dc})
    rc, r, err = dcc.run("--verbosity", "debug", "resolve", small_b["reference"])
    tap.has(err, f"from {dc}/config.json (auths 'https://{basic.host}')",
            "DOCKER_CONFIG is read first; a key with a scheme matches")

    # Bearer with a password: one token per scope for a whole pull, none in the output
    ct = env.client("token-ok", config={"auths": {token.host: {
        "username": "alice", "password": PASSWORD}}})
    token.token_server.clear_log()
    d = os.path.join(ct.dir, "layers")
    os.makedirs(d)
    rc, r, err = ct.run(*trace, "--parallel", 3, "fetch-all", small_t["reference"], "--dir", d)
    log = token.token_server.log()
    tap.eq([(x["method"], x["scopes"], x["account"]) for x in log],
           [("GET", ["repository:fixtures/multilayer:pull"], "alice")],
           "token: one token request for a pull of 4 layers on 3 threads")
    tap.eq(log[0]["account_param"], "alice", "token: the account parameter is sent")
    secrets_absent(tap, err, basic_secrets, "token pull")

    # a token that expires while in use is refreshed on the 401
    proxy = env.proxy(token)
    cp = env.client("token-proxy", config={"auths": {proxy.host: {
        "username": "alice", "password": PASSWORD}}})
    layer = small_t["layers"][1]
    proxy.add_fault("delay", path=f"/blobs/{layer}", seconds=3, times=1)
    token.token_server.clear_log()
    os.makedirs(os.path.join(cp.dir, "l"))
    rc, r, err = cp.run("--verbosity", "debug", "--parallel", 1, "fetch-all",
                        f"{proxy.host}/fixtures/multilayer:oci", "--dir",
                        os.path.join(cp.dir, "l"), check=False)
    tap.eq(rc, 0, "token expired: the pull still succeeds", err)
    tap.eq(sorted(os.listdir(os.path.join(cp.dir, "l"))), sorted(x[7:] for x in small_t["layers"]),
           "token expired: every layer fetched")
    statuses = [x["status"] for x in proxy.requests() if f"/blobs/{layer}" in x["path"]]
    tap.eq(statuses[:1], [401], "token expired: the registry said 401")
    tap.eq(len(token.token_server.log()), 2, "token expired: a new token was fetched")
    tap.has(err, "HTTP 401, authenticating again", "token expired: logged")

    # identity token (what docker login stores): OAuth2 refresh-token POST
    refresh, access = get_refresh_token(token, "repository:fixtures/multilayer:pull")
    ci = env.client("identity", config={"auths": {token.host: {"identitytoken": refresh}}})
    token.token_server.clear_log()
    rc, r, err = ci.run(*trace, "resolve", small_t["reference"])
    log = token.token_server.log()
    tap.eq([(x["method"], x.get("grant_type"), x["account"]) for x in log],
           [("POST", "refresh_token", "alice")], "identity token: one OAuth2 POST")
    tap.eq(log[0]["client_id"], "lading", "identity token: client_id sent")
    secrets_absent(tap, err, [refresh, access], "identity token")
    ci.write_config({"auths": {token.host: {"identitytoken": "rt-revoked"}}})
    err = ci.error("resolve", small_t["reference"])
    tap.has(err, "HTTP 401 Unauthorized: UNAUTHORIZED: invalid refresh token "
                 f"(credentials for '{token.host}' from {ci.config_path} (auths "
                 f"'{token.host}'))", "identity token refused: the OAuth2 error and the source")
    tap.has(err, f"get a token from 'http://{token.token_server.realm.split('//')[1]}' for "
                 "'repository:fixtures/multilayer:pull'", "identity token refused: names the "
                                                          "token endpoint and scope")

    # registry token: sent as it is, no token request
    cr = env.client("regtoken", config={"auths": {token.host: {"registrytoken": access}}})
    token.token_server.clear_log()
    rc, r, err = cr.run(*trace, "resolve", small_t["reference"], check=False)
    tap.eq(rc, 0, "registry token: pull works", err)
    tap.eq(token.token_server.log(), [], "registry token: no token request")
    secrets_absent(tap, err, [access], "registry token")

    # credential helpers on PATH
    bindir = os.path.join(env.base, "bin")
    write_helper(bindir, "labtest", f"""#!/bin/sh
read -r server
echo "$server" >> "{bindir}/calls"
case "$server" in
{token.host}) printf '{{"ServerURL":"%s","Username":"alice","Secret":"{PASSWORD}"}}' "$server";;
{basic.host}) printf '{{"ServerURL":"%s","Username":"alice","Secret":"{PASSWORD}"}}' "$server";;
*) echo "credentials not found in native keychain"; exit 1;;
esac
""")
    write_helper(bindir, "tokentest", f"""#!/bin/sh
read -r server
printf '{{"ServerURL":"%s","Username":"<token>","Secret":"{refresh}"}}' "$server"
""")
    write_helper(bindir, "broken", f"""#!/bin/sh
echo "keychain locked" >&2
exit 3
""")
    path_env = {"PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    ch = env.client("helper", env=path_env, config={"credHelpers": {token.host: "labtest"}})
    token.token_server.clear_log()
    rc, r, err = ch.run(*trace, "resolve", small_t["reference"])
    tap.eq(r["digest"], small_t["digest"], "credHelpers: pull works")
    tap.eq([x["account"] for x in token.token_server.log()], ["alice"],
           "credHelpers: the token server saw alice")
    tap.has(err, f"credentials for '{token.host}' from docker-credential-labtest (credHelpers "
                 f"in {ch.config_path})", "credHelpers: the source is named")
    with open(os.path.join(bindir, "calls")) as f:
        tap.eq(f.read(), token.host + "\n", "credHelpers: the helper got the host on stdin")
    secrets_absent(tap, err, basic_secrets, "credHelpers")
    cs = env.client("store", env=path_env, config={"credsStore": "labtest"})
    rc, r, err = cs.run("resolve", small_b["reference"], check=False)
    tap.eq(rc, 0, "credsStore: pull works", err)
    ck = env.client("helper-token", env=path_env,
                    config={"credHelpers": {token.host: "tokentest"}})
    token.token_server.clear_log()
    rc, r, err = ck.run(*trace, "resolve", small_t["reference"], check=False)
    tap.eq([x.get("grant_type") for x in token.token_server.log()], ["refresh_token"],
           "helper with Username <token>: used as an identity token")
    secrets_absent(tap, err, [refresh], "helper identity token")
    cb = env.client("helper-broken", env=path_env, config={"credHelpers": {token.host: "broken"}})
    rc, _, err = cb.run(*trace, "resolve", small_t["reference"], check=False)
    tap.has(err, f"get credentials for '{token.host}' (credHelpers in {cb.config_path}): "
                 "docker-credential-broken get: exit status 3: keychain locked",
            "a failing helper: its status and first line")
    cm = env.client("helper-missing", env=path_env,
                    config={"credHelpers": {token.host: "nosuchhelper"}})
    err = cm.error("resolve", small_t["reference"])
    tap.has(err, "credential helper docker-credential-nosuchhelper not found on PATH",
            "a missing helper is named")


if __name__ == "__main__":
    main("auth", body)
