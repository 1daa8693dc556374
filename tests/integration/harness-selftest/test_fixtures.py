#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Self-tests of the fixtures: their layers hold what the catalogue says (checked with umoci
unpack and tarfile, not with our own model alone), skopeo pushes them as OCI and Docker
schema 2 with the expected digests, media types and platforms, builds are reproducible, and
the busybox base image has a working shell."""

import gzip
import json
import os
import random
import subprocess
import tarfile
import tempfile
import unittest

import selftest
from harness import CATALOGUE, FixtureStore, Registry, compare_trees, scan_tree
from harness import oci
from harness.fixtures import tar_end
from harness import skopeo as sk
from harness.util import HarnessError

PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7"]


def layer_members(layout, digest):
    """{normalized name: TarInfo} of a gzip layer blob."""
    with tarfile.open(oci.blob_path(layout, digest), "r:gz") as t:
        out = {}
        for m in t.getmembers():
            name = m.name
            while name.startswith(("./", "/")):
                name = name[2:] if name.startswith("./") else name[1:]
            if name:
                out[name] = m
        return out


class Fixtures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.store = selftest.store()
        cls.reg = Registry("http").start()

    @classmethod
    def tearDownClass(cls):
        cls.reg.stop()

    def unpack(self, name, d):
        subprocess.run(["umoci", "--log", "error", "unpack", "--image",
                        f"{self.store.layout}:{name}", d], check=True, timeout=120)
        return os.path.join(d, "rootfs")

    def test_catalogue(self):
        self.assertEqual(sorted(CATALOGUE), ["busybox", "large", "multiarch", "multilayer",
                                             "small", "unterminated"])
        with self.assertRaisesRegex(HarnessError, "unknown fixture 'nope'"):
            self.store.build("nope")

    def test_trees_match_umoci_unpack(self):
        for name in ("small", "multilayer", "busybox"):
            with self.subTest(name), tempfile.TemporaryDirectory() as d:
                info = self.store.build(name)
                rootfs = self.unpack(name, os.path.join(d, "b"))
                self.assertEqual(compare_trees(info["tree"], scan_tree(rootfs)), [])
                if name == "small":
                    # The comparison notices a difference, so the check above can fail.
                    os.chmod(os.path.join(rootfs, "etc/hello"), 0o600)
                    os.symlink("x", os.path.join(rootfs, "extra"))
                    self.assertEqual(compare_trees(info["tree"], scan_tree(rootfs)),
                                     ["'etc/hello': mode is '0o600', expected '0o644'",
                                      "unexpected 'extra'"])

    def test_layers_are_complete_tars(self):
        for name in ("small", "multilayer", "multiarch", "busybox", "unterminated"):
            info = self.store.build(name)
            layers = info.get("layers") or [x for m in info["manifests"] for x in m["layers"]]
            for layer in layers:
                with gzip.open(oci.blob_path(info["layout"], layer["digest"])) as f:
                    raw = f.read()
                end, terminated = tar_end(raw)
                with self.subTest(name, layer=layer["digest"]):
                    if name != "unterminated":
                        self.assertTrue(terminated)
                        self.assertEqual(len(raw) % 512, 0)
                    else:
                        # "/", "etc/", then the file's header and its bytes: nothing after.
                        content = info["tree"]["etc/unterminated"]["size"]
                        self.assertFalse(terminated)
                        self.assertEqual((len(raw), end), (3 * 512 + content, 4 * 512))

    def test_multilayer_layers(self):
        info = self.store.build("multilayer")
        layout = info["layout"]
        self.assertEqual(len(info["layers"]), 4)
        l1, l2, l3, l4 = (layer_members(layout, x["digest"]) for x in info["layers"])
        self.assertTrue(l1["usr/bin/tool-hard"].islnk())
        self.assertEqual(l1["usr/bin/tool-hard"].linkname.lstrip("/"), "usr/bin/tool")
        self.assertTrue(l1["usr/bin/tool-link"].issym())
        self.assertEqual(l1["usr/bin/tool-link"].linkname, "tool")
        self.assertEqual((l1["home/app/.profile"].uid, l1["home/app/.profile"].gid,
                          l1["home/app/.profile"].mode), (1000, 1000, 0o600))
        self.assertIn("dir with space/f\u00fcr \u00e9t\u00e9.txt", l1)
        self.assertEqual(l2["opt/app/bin/run"].mode, 0o4755)
        self.assertEqual(l2["etc/app.conf"].mode, 0o600)
        self.assertIn("etc/.wh.os-release", l3)
        self.assertIn("var/lib/.wh.app", l3)
        self.assertFalse(any(n.startswith("var/lib/app/") for n in l3))
        self.assertIn("opt/app/share/.wh..wh..opq", l4)
        self.assertIn("opt/app/share/new.txt", l4)
        tree = info["tree"]
        self.assertNotIn("etc/os-release", tree)
        self.assertNotIn("var/lib/app", tree)
        self.assertNotIn("opt/app/share/hidden.txt", tree)
        self.assertEqual(tree["opt/app/bin/run"]["mode"], 0o4755)
        self.assertEqual(tree["usr/bin/tool-hard"]["link"], "usr/bin/tool")

    def test_push_oci_and_v2s2(self):
        for name in ("small", "multilayer", "busybox"):
            info = self.store.build(name)
            layers = [x["digest"] for x in info["layers"]]
            with self.subTest(name):
                o = self.store.push(name, f"{self.reg.host}/fx/{name}:oci",
                                    self.reg.skopeo_args("dest"), "oci")
                self.assertEqual(o["digest"], info["digest"])
                self.assertEqual((o["media_type"], o["config_media_type"], o["layer_media_types"]),
                                 (oci.OCI_MANIFEST, oci.OCI_CONFIG, [oci.OCI_LAYER_GZIP]))
                self.assertEqual((o["config"], o["layers"]), (info["config"], layers))
                d = self.store.push(name, f"{self.reg.host}/fx/{name}:v2s2",
                                    self.reg.skopeo_args("dest"), "v2s2")
                self.assertNotEqual(d["digest"], info["digest"])
                self.assertEqual((d["media_type"], d["media_type_field"], d["config_media_type"],
                                  d["layer_media_types"]),
                                 (oci.DOCKER_MANIFEST, oci.DOCKER_MANIFEST, oci.DOCKER_CONFIG,
                                  [oci.DOCKER_LAYER_GZIP]))
                self.assertEqual((d["config"], d["layers"]), (info["config"], layers))

    def test_multilayer_config(self):
        self.store.push("multilayer", f"{self.reg.host}/fx/cfg:1", self.reg.skopeo_args("dest"))
        cfg = sk.inspect(f"docker://{self.reg.host}/fx/cfg:1", self.reg.skopeo_args(""),
                         config=True)
        c = cfg["config"]
        self.assertEqual(c["Env"], ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                                    "/sbin:/bin", "APP_MODE=test"])
        self.assertEqual((c["Entrypoint"], c["Cmd"], c["User"], c["WorkingDir"], c["StopSignal"]),
                         (["/usr/bin/tool"], ["--help"], "1000:1000", "/opt/app", "SIGTERM"))
        self.assertEqual(c["Labels"], {"org.opencontainers.image.title":
                                       "lading multilayer fixture", "com.example.layers": "4"})
        self.assertEqual((c["ExposedPorts"], c["Volumes"]), ({"8080/tcp": {}}, {"/data": {}}))
        self.assertEqual((cfg["created"], cfg["os"], cfg["architecture"]),
                         ("2024-01-01T00:00:00Z", "linux", "amd64"))
        self.assertEqual(len(cfg["rootfs"]["diff_ids"]), 4)
        self.assertEqual([h.get("empty_layer", False) for h in cfg["history"]],
                         [False, False, False, False, True])

    def test_multiarch(self):
        info = self.store.build("multiarch")
        self.assertEqual(info["platforms"], PLATFORMS)
        for m in info["manifests"]:
            [layer] = m["layers"]
            members = layer_members(info["layout"], layer["digest"])
            with tarfile.open(oci.blob_path(info["layout"], layer["digest"]), "r:gz") as t:
                data = t.extractfile(members["etc/platform"]).read()
            self.assertEqual(data, (m["platform"] + "\n").encode())
        o = self.store.push("multiarch", f"{self.reg.host}/fx/multi:oci",
                            self.reg.skopeo_args("dest"), "oci")
        self.assertEqual((o["digest"], o["media_type"]), (info["digest"], oci.OCI_INDEX))
        self.assertEqual([m["platform"] for m in o["manifests"]], PLATFORMS)
        self.assertEqual([m["digest"] for m in o["manifests"]],
                         [m["digest"] for m in info["manifests"]])
        d = self.store.push("multiarch", f"{self.reg.host}/fx/multi:v2s2",
                            self.reg.skopeo_args("dest"), "v2s2")
        self.assertEqual(d["media_type"], oci.DOCKER_LIST)
        self.assertEqual([m["platform"] for m in d["manifests"]], PLATFORMS)
        self.assertEqual({m["media_type"] for m in d["manifests"]}, {oci.DOCKER_MANIFEST})
        self.assertEqual([m["config"] for m in d["manifests"]],
                         [m["config"] for m in info["manifests"]])
        repo = f"{self.reg.host}/fx/multi"
        arm = sk.inspect(f"docker://{repo}@{d['manifests'][2]['digest']}",
                         self.reg.skopeo_args(""), config=True)
        self.assertEqual((arm["os"], arm["architecture"], arm["variant"]), ("linux", "arm", "v7"))
        # skopeo's own platform selection agrees with the index.
        for i, (arch, variant) in enumerate((("amd64", None), ("arm64", None), ("arm", "v7"))):
            flags = ["--override-os", "linux", "--override-arch", arch] + \
                (["--override-variant", variant] if variant else [])
            out = json.loads(sk.skopeo(flags + ["inspect", "--tls-verify=false",
                                                f"docker://{repo}:oci"]).stdout)
            self.assertEqual((out["Architecture"], out["Env"], out["Layers"]),
                             (arch, [f"PLATFORM={PLATFORMS[i]}"], o["manifests"][i]["layers"]))

    def test_large(self):
        info = self.store.build("large")
        [layer] = info["layers"]
        self.assertGreaterEqual(layer["size"], 200 << 20)     # incompressible: gzip adds
        self.assertEqual(info["tree"]["large.bin"]["size"], 200 << 20)
        with tarfile.open(oci.blob_path(info["layout"], layer["digest"]), "r|gz") as t:
            for m in t:
                if m.name.lstrip("./") == "large.bin":
                    head = t.extractfile(m).read(32)
                    break
        self.assertEqual(head, random.Random(42).randbytes(32))
        o = self.store.push("large", f"{self.reg.host}/fx/large:1", self.reg.skopeo_args("dest"))
        self.assertEqual((o["digest"], o["layers"]), (info["digest"], [layer["digest"]]))

    def test_busybox_shell_runs(self):
        info = self.store.build("busybox")
        tree = info["tree"]
        self.assertEqual(tree["bin/sh"], {"type": "symlink", "target": "/bin/busybox",
                                          "uid": 0, "gid": 0})
        for applet in ("bin/ls", "bin/cat", "bin/cp", "bin/mkdir", "bin/rm", "bin/echo",
                       "usr/bin/env", "bin/true"):
            self.assertEqual(tree[applet]["target"], "/bin/busybox", applet)
        self.assertEqual(tree["tmp"]["mode"], 0o1777)
        self.assertEqual(info["image_config"]["Cmd"], ["/bin/sh"])
        with tempfile.TemporaryDirectory() as d:
            rootfs = self.unpack("busybox", os.path.join(d, "b"))
            out = subprocess.run([os.path.join(rootfs, "bin/busybox"), "sh", "-c",
                                  "echo $((6 * 7)); cat \"$0\"",
                                  os.path.join(rootfs, "etc/passwd")],
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(out.stdout.splitlines()[:2],
                             ["42", "root:x:0:0:root:/root:/bin/sh"])

    def test_builds_are_reproducible(self):
        with tempfile.TemporaryDirectory() as d, FixtureStore(d) as again:
            for name in ("small", "multilayer", "multiarch"):
                self.assertEqual(again.build(name)["digest"], self.store.build(name)["digest"],
                                 name)


if __name__ == "__main__":
    selftest.main()
