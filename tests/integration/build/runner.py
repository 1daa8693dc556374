#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The build test runner: builds a case of cases/ with each selected builder, pushes it to a
registry of its own on 127.0.0.1, reads the image back with skopeo and umoci, checks the
case's expectations, and compares lading's image with buildah's. Prints TAP.

usage:
  runner.py list                         the case names, one a line
  runner.py case NAME [--executor EXE]   run one case
  runner.py bad-list                     the bad-input case names
  runner.py bad NAME --executor EXE      run one bad-input case (lading only)

environment:
  LADING_BUILD_BUILDERS  builders to run, comma-separated: lading, buildah
                         (default "lading,buildah")
  LADING_BUILD_KEEP      1: keep the work directory (printed as a TAP comment)
  LADING_BUILD_TIMEOUT   seconds per build (default 240)
  LADING_BUILD_TMPDIR    where work directories go (default $TMPDIR or /tmp)
See README.md for the case format."""

import argparse
import contextlib
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

from harness import FixtureStore, Registry  # noqa: E402
from harness import skopeo as sk  # noqa: E402
from harness.fixtures import host_arch  # noqa: E402

from buildlib import expect as ex  # noqa: E402
from buildlib.builders import Buildah, BuildRequest, Lading  # noqa: E402
from buildlib.compare import compare_images  # noqa: E402
from buildlib.httpserve import FileServer  # noqa: E402
from buildlib.image import Image  # noqa: E402
from buildlib.util import Tap, TestError, make_workdir, run, safe_rmtree  # noqa: E402

CASES = os.path.join(HERE, "cases")
BUILDERS = ("lading", "buildah")
NOT_CONTEXT = {"expect.json", "setup.sh", "http", "prebuild"}


def selected_builders():
    raw = os.environ.get("LADING_BUILD_BUILDERS", "lading,buildah")
    names = [b.strip() for b in raw.split(",") if b.strip()]
    bad = [b for b in names if b not in BUILDERS]
    if bad:
        raise TestError(f"LADING_BUILD_BUILDERS: unknown builder(s) {bad} "
                        f"(known: {', '.join(BUILDERS)})")
    return names


def case_names():
    return sorted(d for d in os.listdir(CASES)
                  if os.path.isfile(os.path.join(CASES, d, "expect.json")))


def substitute(value, subst):
    """Replace {name} placeholders (only the known names) in every string of a JSON value."""
    if isinstance(value, str):
        for k, v in subst.items():
            value = value.replace("{" + k + "}", v)
        return value
    if isinstance(value, list):
        return [substitute(v, subst) for v in value]
    if isinstance(value, dict):
        return {substitute(k, subst): substitute(v, subst) for k, v in value.items()}
    return value


def effective_expect(spec, builder):
    """The expectations for one builder: "expect" with "<builder>_expect" laid over it
    (dict-valued keys merged entry by entry, a null entry removing one; others replaced)."""
    exp = json.loads(json.dumps(spec.get("expect", {})))
    over = spec.get(f"{builder}_expect", {})
    for k, v in over.items():
        if k == "why":
            continue
        if isinstance(v, dict) and isinstance(exp.get(k), dict):
            for kk, vv in v.items():
                if vv is None:
                    exp[k].pop(kk, None)
                else:
                    exp[k][kk] = vv
        elif v is None:
            exp.pop(k, None)
        else:
            exp[k] = v
    return exp


def copy_context(src, dst):
    """The case directory minus the test's own files; symlinks stay symlinks."""
    shutil.copytree(src, dst, symlinks=True,
                    ignore=lambda d, names: [n for n in names if d == src and n in NOT_CONTEXT])


def run_setup(case_dir, ctx, env):
    script = os.path.join(case_dir, "setup.sh")
    if not os.path.exists(script):
        return
    run(["sh", "-eu", script], cwd=ctx, env=env, timeout=60, check=True)


class CaseRun:
    """Everything one case needs: work dir, registry, fixtures, file server, context."""

    def __init__(self, name, executor, tap):
        self.name = name
        self.case_dir = os.path.join(CASES, name)
        with open(os.path.join(self.case_dir, "expect.json")) as f:
            self.raw_spec = json.load(f)
        self.executor = executor
        self.tap = tap
        self.stack = contextlib.ExitStack()
        self.work = make_workdir(name[:40])
        self.images = {}

    def start(self):
        spec = self.raw_spec
        self.reg = self.stack.enter_context(
            Registry(spec.get("registry", "http"), directory=os.path.join(self.work, "reg")))
        store = FixtureStore()
        args = self.reg.skopeo_args("dest")
        store.push("busybox", f"{self.reg.host}/base/busybox:oci", args, "oci")
        store.push("busybox", f"{self.reg.host}/base/busybox:v2", args, "v2s2")
        self.subst = {"registry": self.reg.host, "base_oci": f"{self.reg.host}/base/busybox:oci",
                      "base_v2": f"{self.reg.host}/base/busybox:v2", "host_arch": host_arch(),
                      "work": self.work, "case": self.name}
        self.subst["base"] = self.subst["base_v2" if spec.get("base") == "v2s2" else "base_oci"]
        self.build_args = {"BASE": self.subst["base"]}
        if "multiarch" in spec.get("fixtures", []):
            store.push("multiarch", f"{self.reg.host}/base/multi:1", args, "oci")
            self.subst["multi"] = f"{self.reg.host}/base/multi:1"
            self.build_args["MULTI"] = self.subst["multi"]
        self.mirror = None
        if spec.get("mirror"):
            self.mirror = self.stack.enter_context(
                Registry("http", directory=os.path.join(self.work, "mirror"), name="mirror"))
            store.push("busybox", f"{self.mirror.host}/library/busybox:latest",
                       self.mirror.skopeo_args("dest"), "v2s2")
            self.subst["mirror"] = self.mirror.host
        self.http = None
        http_dir = os.path.join(self.work, "http")
        if os.path.isdir(os.path.join(self.case_dir, "http")):
            shutil.copytree(os.path.join(self.case_dir, "http"), http_dir)
        if spec.get("http"):
            self.http = FileServer(http_dir).start()
            self.stack.callback(self.http.stop)
            self.subst["http"] = self.http.url
            self.build_args["HTTP"] = self.http.url
        self.ctx = os.path.join(self.work, "context")
        os.makedirs(os.path.join(self.work, "out"))
        copy_context(self.case_dir, self.ctx)
        # where no ARG can say it (COPY --from takes no variables in Docker), the Dockerfile
        # names the test registry as {registry}: both builders read the same replaced text
        df = os.path.join(self.ctx, "Dockerfile")
        with open(df) as f:
            text = f.read()
        replaced = substitute(text, self.subst)
        if replaced != text:
            with open(df, "w") as f:
                f.write(replaced)
        os.makedirs(http_dir, exist_ok=True)
        run_setup(self.case_dir, self.ctx, dict(os.environ, CTX=self.ctx, HTTP_DIR=http_dir,
                                                WORK=self.work,
                                                MKTAR=os.path.join(HERE, "buildlib", "mktar.py")))
        for rel, mtime in spec.get("http_mtimes", {}).items():
            os.utime(os.path.join(http_dir, rel), (mtime, mtime))
        self.secrets = []
        for sid, content in spec.get("secrets", {}).items():
            p = os.path.join(self.work, "secrets", sid)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(content)
            self.secrets.append((sid, p))
        self.spec = substitute(spec, self.subst)

    def request(self, builder, destinations, context=None, no_push=False):
        spec = self.spec
        ctx = context or self.ctx
        args = dict(self.build_args)
        args.update(spec.get("build_args", {}))
        return BuildRequest(ctx, os.path.join(ctx, "Dockerfile"), destinations,
                            build_args=args, target=spec.get("target"),
                            secrets=self.secrets, labels=spec.get("labels"),
                            platform=spec.get("platform"),
                            single_snapshot=spec.get("single_snapshot", False),
                            reproducible=spec.get("reproducible", False),
                            extra=spec.get(f"{builder}_flags", []),
                            registries=[self.reg] + ([self.mirror] if self.mirror else []),
                            mirror=self.mirror, no_push=no_push)

    def make_builder(self, name):
        bwork = os.path.join(self.work, name)
        os.makedirs(bwork, exist_ok=True)
        if name.startswith("lading"):
            return Lading(self.executor, bwork)
        return Buildah(bwork, self.mirror)

    def dest(self, builder, suffix=""):
        return f"{self.reg.host}/out/{self.name}:{builder}{suffix}"

    def prebuild(self, b, builder):
        for pb in self.spec.get("prebuild", []):
            pctx = os.path.join(self.work, f"prebuild-{builder}-{pb['tag']}")
            shutil.copytree(os.path.join(self.case_dir, pb["dir"]), pctx, symlinks=True)
            dest = f"{self.reg.host}/prebuild/{pb['tag']}:{builder}"
            res = b.build(self.request(builder, [dest], context=pctx))
            if not self.tap.ok(res.status == 0, f"{builder}: prebuild {pb['tag']}",
                               res.summary()):
                return False
            self.build_args[pb["arg"]] = dest
        return True

    def read_image(self, source, label):
        return Image(source, os.path.join(self.work, f"img-{label}"),
                     self.reg.skopeo_args("") if source.startswith("docker://") else ())

    def run_builder(self, builder):
        tap, spec = self.tap, self.spec
        skip = spec.get(builder, "")
        if skip.startswith("skip"):
            tap.skip(f"{builder}: build and checks", skip[4:].lstrip(": ") or "skipped")
            return
        b = self.make_builder(builder)
        try:
            if not self.prebuild(b, builder):
                return
            no_push = spec.get("no_push", False)
            dest = self.dest(builder)
            dests = [dest] + [d.replace("{builder}", builder)
                              for d in spec.get("extra_destinations", [])]
            res = b.build(self.request(builder, dests, no_push=no_push))
            tap.note(f"{builder}: build took {res.seconds:.1f}s")
            if not tap.ok(res.status == 0, f"{builder}: build", res.summary()):
                return
            if no_push:
                img = self.check_no_push(builder)
            else:
                img = self.read_image(f"docker://{dest}", builder)
            if img is None:
                return
            self.images[builder] = img
            for check, errs in ex.check_image(img, effective_expect(spec, builder)):
                tap.check(f"{builder}: {check}", errs)
            if spec.get("reproducible"):
                self.check_reproducible(builder, img)
            if spec.get("outputs") and builder == "lading":
                self.check_outputs(builder, img, dests)
        finally:
            b.close()

    def check_reproducible(self, builder, img):
        why = self.spec.get(f"{builder}_not_reproducible")
        if why:
            self.tap.skip(f"{builder}: two builds give the same digest", why)
            return
        # a builder of its own: no cache, no state shared with the first build
        b = self.make_builder(builder + "-again")
        try:
            res = b.build(self.request(builder, [self.dest(builder, "-again")]))
        finally:
            b.close()
        dest2 = self.dest(builder, "-again")
        if not self.tap.ok(res.status == 0, f"{builder}: second build", res.summary()):
            return
        again = self.read_image(f"docker://{dest2}", builder + "-again")
        self.tap.ok(again.digest == img.digest, f"{builder}: two builds give the same digest",
                    f"first {img.digest}, second {again.digest}\nconfigs:\n"
                    f"{img.config_raw.decode()}\n{again.config_raw.decode()}")

    def check_no_push(self, builder):
        """--no-push: the destination holds nothing; the image is read from --tar-path."""
        p = sk.skopeo(["inspect", "--raw"] + self.reg.skopeo_args("") +
                      [f"docker://{self.dest(builder)}"], check=False)
        self.tap.ok(p.returncode != 0 and "manifest unknown" in p.stderr,
                    f"{builder}: nothing pushed with --no-push",
                    f"skopeo inspect exited {p.returncode}: {p.stderr.strip()}")
        tar = self.spec.get("image_from")
        if not tar:
            return None
        return self.read_image(tar, builder)

    def check_outputs(self, builder, img, dests):
        tap, out = self.tap, os.path.join(self.work, "out")
        digest = img.digest
        for d in dests[1:]:
            other = Image(f"docker://{d}", os.path.join(self.work, "img-" + d.rsplit(":", 1)[1]),
                          self.reg.skopeo_args(""))
            tap.ok(other.digest == digest, f"{builder}: --destination {d} has the same digest",
                   f"{other.digest} != {digest}")

        def content(name):
            try:
                with open(os.path.join(out, name)) as f:
                    return f.read()
            except OSError as e:
                return f"(unreadable: {e})"

        d = content("digest")
        tap.ok(d in (digest, digest + "\n"), f"{builder}: --digest-file",
               f"holds {d!r}, expected {digest!r}")
        want = "".join(f"{x.rsplit(':', 1)[0]}@{digest}\n" for x in dests)
        got = content("name-digest")
        tap.ok(got == want, f"{builder}: --image-name-with-digest-file",
               f"holds {got!r}, expected {want!r}")
        want = "".join(f"{x}@{digest}\n" for x in dests)
        got = content("name-tag-digest")
        tap.ok(got == want, f"{builder}: --image-name-tag-with-digest-file",
               f"holds {got!r}, expected {want!r}")
        errs = []
        try:
            arch = Image(f"docker-archive:{os.path.join(out, 'image.tar')}",
                         os.path.join(self.work, "img-tar"))
            # the config names every layer by its diff_id: same config, same image (the
            # tarball may hold its layers compressed or not, so their blob digests may differ)
            if arch.config_digest != img.config_digest:
                errs.append(f"config {arch.config_digest}, pushed {img.config_digest}")
            tags = tar_repo_tags(os.path.join(out, "image.tar"))
            if sorted(tags) != sorted(dests):
                errs.append(f"RepoTags {tags}, expected {dests}")
        except (TestError, sk.SkopeoError) as e:
            errs.append(str(e))
        tap.check(f"{builder}: --tar-path loads with skopeo (docker-archive:)", errs)
        errs = []
        try:
            errs = check_oci_layout(os.path.join(out, "layout"), img,
                                    os.path.join(self.work, "umoci-layout"))
        except TestError as e:
            errs.append(str(e))
        tap.check(f"{builder}: --oci-layout-path unpacks with umoci", errs)

    def compare(self):
        if "lading" in self.images and "buildah" in self.images:
            allow = [a["path"] for a in self.spec.get("compare_allow", [])]
            diffs = compare_images(self.images["lading"], self.images["buildah"],
                                   ("lading", "buildah"), stub_side="buildah", allow=allow)
            self.tap.check("lading and buildah built the same image", diffs)

    def close(self, failed):
        self.stack.close()
        if os.environ.get("LADING_BUILD_KEEP") == "1":
            self.tap.note(f"work directory kept: {self.work}")
            return
        left = safe_rmtree(self.work)
        if left:
            self.tap.note(f"could not remove: {left[:5]}")


def tar_repo_tags(path):
    import tarfile
    with tarfile.open(path) as t:
        m = json.load(t.extractfile("manifest.json"))
    return [tag for e in m for tag in (e.get("RepoTags") or [])]


def check_oci_layout(layout, img, work):
    """The layout holds the pushed manifest, and umoci unpacks it from the layout's own
    blobs (a copy of index.json gets a ref name when the writer gave none, as Kaniko's)."""
    errs = []
    with open(os.path.join(layout, "index.json")) as f:
        idx = json.load(f)
    digests = [m["digest"] for m in idx.get("manifests", [])]
    if img.digest not in digests:
        errs.append(f"index.json lists {digests}, not the pushed {img.digest}")
        return errs
    os.makedirs(work)
    copy = os.path.join(work, "layout")
    shutil.copytree(layout, copy)
    # one entry (lading writes one per tag, all with the same digest)
    for m in idx["manifests"]:
        if m["digest"] == img.digest:
            m.setdefault("annotations", {})["org.opencontainers.image.ref.name"] = "lading-test"
            break
    with open(os.path.join(copy, "index.json"), "w") as f:
        json.dump(idx, f)
    p = run(["umoci", "--log", "error", "unpack", "--image", f"{copy}:lading-test",
             os.path.join(work, "bundle")], timeout=300)
    if p.returncode != 0:
        errs.append(f"umoci unpack: {p.stderr.strip()}")
    return errs


def run_case(name, executor):
    tap = Tap()
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root (umoci unpack keeps owners; builds use namespaces)")
        return 0   # meson: a TAP plan of 1..0 is a skip
    builders = selected_builders()
    if "lading" in builders and not (executor and os.access(executor, os.X_OK)):
        raise TestError("the lading builder needs --executor PATH")
    cr = CaseRun(name, executor, tap)
    tap.note(f"{name}: {cr.raw_spec.get('description', '')}")
    try:
        cr.start()
        for b in builders:
            cr.run_builder(b)
        cr.compare()
    except (TestError, sk.SkopeoError) as e:
        tap.ok(False, "the test itself ran", str(e))
    finally:
        cr.close(tap.failed)
    return tap.done()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=("list", "case", "bad-list", "bad"))
    p.add_argument("name", nargs="?")
    p.add_argument("--executor")
    a = p.parse_args(argv)
    if a.command == "list":
        print("\n".join(case_names()))
        return 0
    if a.command in ("bad-list", "bad"):
        import badinput
        if a.command == "bad-list":
            print("\n".join(badinput.names()))
            return 0
        return badinput.run(a.name, a.executor)
    if not a.name:
        p.error("case needs a NAME")
    return run_case(a.name, a.executor)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TestError as e:
        print(f"Bail out! {e}")
        sys.exit(1)
