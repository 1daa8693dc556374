#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Self-tests of the CLI as shell scripts and C drivers use it: `registry start` prints the
documented JSON (or env lines), the daemon's services work and are programmable, `stop`
ends exactly our processes and removes the directory, `run` exports LADING_TEST_* and
passes the exit status through, `fixture push` reads a harness dir."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest
import urllib.request

import selftest
from harness import skopeo as sk

ENV = dict(os.environ, PYTHONPATH=selftest.INTEGRATION, PYTHONDONTWRITEBYTECODE="1")


def harness(*args, check=True, timeout=120):
    p = subprocess.run([sys.executable, "-m", "harness"] + list(args), capture_output=True,
                       text=True, env=ENV, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"harness {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p


class CLI(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="lading-cli-test-")
        self.dir = os.path.join(self.tmp, "h")

    def tearDown(self):
        if os.path.exists(os.path.join(self.dir, "state.json")):
            harness("registry", "stop", "--dir", self.dir, check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_registry_start_token_with_proxy_and_fixture(self):
        out = harness("registry", "start", "--mode", "token", "--dir", self.dir, "--proxy",
                      "--fixture", "small", "--user", "carol:c-pass",
                      "--rule", "carol:*:pull,push", "--rule", ":public/*:pull")
        state = json.loads(out.stdout)
        reg = state["registries"]["registry"]
        prx = state["proxies"]["proxy"]
        for key in ("url", "host", "port", "pid", "dir", "ca", "cert_dir", "creds", "user",
                    "password", "mode", "auth", "transport", "token", "log", "storage"):
            self.assertIn(key, reg)
        self.assertEqual((reg["mode"], reg["auth"], reg["creds"]),
                         ("token", "token", "carol:c-pass"))
        self.assertEqual(reg["token"]["rules"][1],
                         {"account": "", "repository": "public/*", "actions": ["pull"],
                          "type": "repository"})
        self.assertEqual(state["fixtures"][0]["reference"], f"{reg['host']}/fixtures/small:oci")
        self.assertEqual(state["fixtures"][0]["digest"],
                         selftest.store().build("small")["digest"])
        daemon, registry_pid = state["daemon_pid"], reg["pid"]
        self.assertTrue(selftest.pid_alive(daemon) and selftest.pid_alive(registry_pid))

        # The proxy is programmable from the command line.
        out = harness("proxy", "fault", "status", "--dir", self.dir, "--status", "503",
                      "--path", "/v2/$", "--times", "1")
        self.assertEqual(json.loads(out.stdout), {"ids": [1]})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with self.assertRaises(urllib.error.HTTPError) as cm:
            opener.open(prx["url"] + "/v2/", timeout=10)
        self.assertEqual(cm.exception.code, 503)
        cm.exception.close()
        _, digest = sk.inspect_raw(f"docker://{prx['host']}/fixtures/small:oci",
                                   ["--tls-verify=false", "--creds", "carol:c-pass"])
        self.assertEqual(digest, state["fixtures"][0]["digest"])
        log = json.loads(harness("proxy", "log", "--dir", self.dir).stdout)
        self.assertEqual(log[0]["status"], 503)
        self.assertTrue(any(r["path"] == "/v2/fixtures/small/manifests/oci" for r in log))
        faults = json.loads(harness("proxy", "faults", "--dir", self.dir, "--clear").stdout)
        self.assertEqual(faults, [])
        tokens = json.loads(harness("registry", "log", "--dir", self.dir).stdout)
        self.assertTrue(all(t["account"] == "carol" for t in tokens if t["auth"] == "basic"))
        self.assertNotIn("c-pass", json.dumps(tokens))
        self.assertEqual(harness("registry", "info", "--dir", self.dir, "--get",
                                 "registries.registry.url").stdout.strip(), reg["url"])

        out = harness("registry", "stop", "--dir", self.dir)
        self.assertEqual(json.loads(out.stdout)["daemon_pid"], daemon)
        self.assertFalse(selftest.pid_alive(daemon))
        self.assertFalse(selftest.pid_alive(registry_pid))
        self.assertFalse(os.path.exists(self.dir))

    def test_env_format_and_tls(self):
        out = harness("registry", "start", "--mode", "basic+https", "--dir", self.dir,
                      "--format", "env")
        env = dict(line.split("=", 1) for line in out.stdout.splitlines())
        self.assertEqual(env["LADING_TEST_REGISTRY_MODE"], "basic+https")
        self.assertEqual(env["LADING_TEST_REGISTRY_USER"], "alice")
        self.assertEqual(env["LADING_TEST_REGISTRY_CA"], os.path.join(self.dir, "pki/ca.crt"))
        self.assertTrue(env["LADING_TEST_REGISTRY_URL"].startswith("https://127.0.0.1:"))
        self.assertEqual(env["LADING_TEST_STATE"], os.path.join(self.dir, "state.json"))
        # fixture push takes address, CA and credentials from the harness dir.
        out = harness("fixture", "push", "multiarch", "fx/multi:1", "--registry-dir", self.dir,
                      "--format", "v2s2")
        res = json.loads(out.stdout)
        self.assertEqual(res["media_type"],
                         "application/vnd.docker.distribution.manifest.list.v2+json")
        self.assertEqual([m["platform"] for m in res["manifests"]],
                         ["linux/amd64", "linux/arm64", "linux/arm/v7"])
        self.assertEqual(res["reference"], env["LADING_TEST_REGISTRY_HOST"] + "/fx/multi:1")
        p = harness("fixture", "push", "small", "docker.io/library/small:1", "--registry-dir",
                    self.dir, check=False)
        self.assertEqual((p.returncode, p.stderr.strip()),
                         (2, "harness: refusing to push to 'docker.io/library/small:1': tests "
                             "talk to 127.0.0.1 only"))

    def test_start_refuses_non_empty_dir_and_bad_mode(self):
        os.makedirs(self.dir)
        with open(os.path.join(self.dir, "x"), "w"):
            pass
        p = harness("registry", "start", "--dir", self.dir, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr.strip(), f"harness: '{self.dir}' is not empty")
        p = harness("registry", "start", "--mode", "gopher", "--dir", self.tmp + "/g",
                    check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown registry mode 'gopher'", p.stderr)

    def test_stop_never_kills_a_foreign_pid(self):
        bystander = subprocess.Popen(["sleep", "60"])
        try:
            os.makedirs(self.dir)
            with open(os.path.join(self.dir, "state.json"), "w") as f:
                json.dump({"daemon_pid": bystander.pid}, f)
            harness("registry", "stop", "--dir", self.dir)
            self.assertIsNone(bystander.poll())
            self.assertFalse(os.path.exists(self.dir))
        finally:
            bystander.send_signal(signal.SIGTERM)
            bystander.wait()

    def test_run_exports_env_and_exit_status(self):
        script = ("import os, sys, json\n"
                  "e = os.environ\n"
                  "st = json.load(open(e['LADING_TEST_STATE']))\n"
                  "assert e['LADING_TEST_REGISTRY_HOST'] == st['registries']['registry']['host']\n"
                  "assert e['LADING_TEST_MIRROR_AUTH'] == 'none'\n"
                  "assert e['LADING_TEST_PROXY_CONTROL'].startswith('http://127.0.0.1:')\n"
                  "assert e['LADING_TEST_FIXTURE_SMALL_V2S2_REF'].endswith("
                  "'/fixtures/small:v2s2')\n"
                  "assert e['LADING_TEST_FIXTURE_SMALL_V2S2_DIGEST'].startswith('sha256:')\n"
                  "assert e['LADING_TEST_FIXTURE_MULTIARCH_OCI_REF'].startswith("
                  "e['LADING_TEST_MIRROR_HOST'] + '/')\n"
                  "print(e['LADING_TEST_DIR'])\n"
                  "sys.exit(int(sys.argv[1]))\n")
        for code in (0, 3):
            p = harness("run", "--registry", "token", "--registry", "mirror=http", "--proxy",
                        "registry", "--fixture", "small:v2s2", "--fixture", "multiarch@mirror",
                        "--", sys.executable, "-c", script, str(code), check=False)
            self.assertEqual(p.returncode, code, p.stderr)
            base = p.stdout.strip()
            self.assertTrue(base.startswith("/"))
            self.assertFalse(os.path.exists(base))

    def test_fixture_list_and_build(self):
        out = harness("fixture", "list").stdout
        self.assertEqual([line.split()[0] for line in out.splitlines()],
                         ["small", "multilayer", "multiarch", "large", "busybox",
                          "unterminated"])
        info = json.loads(harness("fixture", "build", "small", "--layout",
                                  os.path.join(self.tmp, "layout")).stdout)
        self.assertEqual(info["digest"], selftest.store().build("small")["digest"])
        self.assertNotIn("tree", info)
        with open(os.path.join(self.tmp, "layout", "index.json")) as f:
            self.assertIn(info["digest"], f.read())


if __name__ == "__main__":
    selftest.main()
