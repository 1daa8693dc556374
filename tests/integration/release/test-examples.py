#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""examples/ and the top-level Dockerfile are consistent (TAP): every YAML file parses; the
Kubernetes Job, the Tekton Task and TaskRun, the GitLab CI job and the `docker run` line use
the placeholder image, Kaniko's paths (/kaniko/.docker for config.json, /workspace for the
context) and arguments that the executor accepts (each command line, with its placeholders
filled, runs through `executor --print-plan` on examples/hello); the GitLab job's config.json
line writes valid JSON with the right credentials; the Dockerfile's default target is the
release image and `--target debug` adds only the busybox stage.

usage: test-examples.py EXECUTOR"""

import base64
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import podlib  # noqa: E402

try:
    import yaml
except ImportError:
    yaml = None

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
EX = os.path.join(TOP, "examples")
IMAGE = "registry.example.com/lading/executor:latest"
DEBUG_IMAGE = "registry.example.com/lading/executor:debug"
DEST = "registry.example.com/team/app:latest"


class Checker:
    def __init__(self, t, executor, work):
        self.t = t
        self.executor = executor
        self.work = work
        self.ws = os.path.join(work, "workspace")
        shutil.copytree(os.path.join(EX, "hello"), self.ws)

    def help_flags(self):
        """(every flag of `executor --help`, those marked [not implemented yet])."""
        out = subprocess.run([self.executor, "--help"], stdout=subprocess.PIPE, text=True,
                             check=True, timeout=30).stdout
        entries, current = {}, None
        for line in out.splitlines():
            m = re.match(r"\s+(?:-\w, )?(--[\w-]+)", line)
            if m:
                current = m.group(1)
                entries[current] = line
            elif current and line.startswith(" " * 20):
                entries[current] += line
            else:
                current = None
        return set(entries), {f for f, text in entries.items() if "[not implemented yet]" in text}

    def check_flags(self, args, name):
        """The flags of a command line are known to the executor and implemented."""
        known, missing = self.help_flags()
        used = [a.split("=")[0] for a in args if a.startswith("--")]
        self.t.eq(([f for f in used if f not in known], [f for f in used if f in missing]),
                  ([], []), f"{name}: every flag is one of the executor's, and implemented")

    def plan(self, args, name, cwd=None, shell=False, env=None):
        """Runs the executor with args + --print-plan; the plan must parse and be for the
        workspace's Dockerfile."""
        self.check_flags(shlex.split(args) if shell else args, name)
        if shell:
            argv = ["sh", "-c", args + " --print-plan"]
        else:
            argv = [self.executor] + list(args) + ["--print-plan"]
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           cwd=cwd or self.work, env=dict(os.environ, **(env or {})),
                           timeout=60)
        try:
            plan = json.loads(p.stdout)
        except ValueError:
            plan = {}
        stages = [(s.get("name"), s.get("base")) for s in plan.get("stages", [])]
        want = [("build", "localhost/base:latest"), (None, "localhost/base:latest")]
        return self.t.ok(p.returncode == 0 and stages == want,
                         f"{name}: the executor accepts the arguments and plans "
                         "examples/hello",
                         f"{' '.join(argv)}\nexit {p.returncode}\n{stages}\n{p.stderr}")

    def load(self, rel):
        path = os.path.join(EX, rel)
        try:
            with open(path) as f:
                docs = [d for d in yaml.safe_load_all(f) if d is not None]
        except (OSError, yaml.YAMLError) as e:
            self.t.ok(False, f"{rel} parses as YAML", str(e))
            return None
        self.t.ok(len(docs) == 1, f"{rel} parses as YAML (one document)", f"{len(docs)}")
        return docs[0] if docs else None

    def job(self):
        t = self.t
        job = self.load("kubernetes/job.yaml")
        if not job:
            return
        spec = job["spec"]["template"]["spec"]
        c = spec["containers"][0]
        mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
        vols = {v["name"]: v for v in spec["volumes"]}
        init_mounts = {m["name"]: m["mountPath"] for m in spec["initContainers"][0]["volumeMounts"]}
        secret = vols.get(next((n for n, p in mounts.items() if p == "/kaniko/.docker"), ""), {})
        t.eq((job["kind"], c["image"], mounts.get("workspace"), init_mounts.get("workspace"),
              secret.get("secret", {}).get("items")),
             ("Job", IMAGE, "/workspace", "/workspace",
              [{"key": ".dockerconfigjson", "path": "config.json"}]),
             "job.yaml: the image, the context volume at /workspace, the dockerconfigjson "
             "Secret as /kaniko/.docker/config.json")
        args = [a.replace("dir:///workspace", "dir://" + self.ws) for a in c["args"]]
        t.eq([a.split("=")[0] for a in args], ["--context", "--dockerfile", "--destination"],
             "job.yaml: context, Dockerfile and destination as Kaniko's examples give them")
        self.plan(args, "job.yaml", cwd=self.ws)

    def tekton(self):
        t = self.t
        task = self.load("tekton/task.yaml")
        run = self.load("tekton/taskrun.yaml")
        if not task or not run:
            return
        s = task["spec"]
        params = {p["name"]: p for p in s["params"]}
        ws = {w["name"]: w for w in s["workspaces"]}
        t.eq((task["kind"], task["metadata"]["name"], list(params),
              params["BUILDER_IMAGE"].get("default"), [r["name"] for r in s["results"]],
              list(ws), ws["dockerconfig"].get("mountPath"), ws["dockerconfig"].get("optional")),
             ("Task", "kaniko", ["IMAGE", "DOCKERFILE", "CONTEXT", "EXTRA_ARGS", "BUILDER_IMAGE"],
              IMAGE, ["IMAGE_DIGEST", "IMAGE_URL"], ["source", "dockerconfig"],
              "/kaniko/.docker", True),
             "task.yaml: the catalog kaniko Task's name, parameters, results and workspaces; "
             "BUILDER_IMAGE is lading's image")
        step = s["steps"][0]
        values = {"$(params.DOCKERFILE)": params["DOCKERFILE"]["default"],
                  "$(params.CONTEXT)": params["CONTEXT"]["default"],
                  "$(params.IMAGE)": DEST,
                  "$(workspaces.source.path)": self.ws,
                  "$(results.IMAGE_DIGEST.path)": os.path.join(self.work, "digest")}
        args = []
        for a in step["args"]:
            if a == "$(params.EXTRA_ARGS)":
                continue
            for k, v in values.items():
                a = a.replace(k, v)
            args.append(a)
        t.eq((step["image"], step["workingDir"], step.get("securityContext")),
             ("$(params.BUILDER_IMAGE)", "$(workspaces.source.path)", {"runAsUser": 0}),
             "task.yaml: the build step runs BUILDER_IMAGE as root in the source workspace")
        self.plan(args, "task.yaml", cwd=self.ws)
        r = run["spec"]
        t.eq((run["kind"], r["taskRef"]["name"],
              all(p["name"] in params for p in r["params"]),
              sorted(w["name"] for w in r["workspaces"]),
              r["workspaces"][1].get("secret", {}).get("items")),
             ("TaskRun", "kaniko", True, ["dockerconfig", "source"],
              [{"key": ".dockerconfigjson", "path": "config.json"}]),
             "taskrun.yaml: runs that Task with its parameters and workspaces")

    def gitlab(self):
        t = self.t
        doc = self.load("gitlab-ci/.gitlab-ci.yml")
        if not doc:
            return
        job = doc["build"]
        t.eq((job["image"]["name"], job["image"]["entrypoint"]), (DEBUG_IMAGE, [""]),
             ".gitlab-ci.yml: the debug image, entrypoint cleared")
        script = job["script"]
        docker = os.path.join(self.work, "gitlab-docker")
        env = {"CI_REGISTRY": "registry.example.com", "CI_REGISTRY_USER": "gitlab-ci-token",
               "CI_REGISTRY_PASSWORD": "s3cr:et", "CI_PROJECT_DIR": self.ws,
               "CI_REGISTRY_IMAGE": "registry.example.com/group/project", "CI_COMMIT_TAG": "v1"}
        lines = [line.replace("/kaniko/.docker", docker) for line in script[:2]]
        p = subprocess.run(["sh", "-ec", "\n".join(lines)], env=dict(os.environ, **env),
                           stderr=subprocess.PIPE, text=True, timeout=30)
        try:
            with open(os.path.join(docker, "config.json")) as f:
                auth = json.load(f)["auths"]["registry.example.com"]["auth"]
            auth = base64.b64decode(auth).decode()
        except (OSError, ValueError, KeyError) as e:
            auth = f"<{e}>"
        t.eq((p.returncode, auth), (0, "gitlab-ci-token:s3cr:et"),
             ".gitlab-ci.yml: the script writes /kaniko/.docker/config.json with the job's "
             "registry credentials")
        cmd = script[2]
        t.ok(cmd.startswith("/kaniko/executor "), ".gitlab-ci.yml: it runs /kaniko/executor",
             cmd)
        self.plan(shlex.quote(self.executor) + cmd[len("/kaniko/executor"):], ".gitlab-ci.yml",
                  shell=True, env=env)

    def docker(self):
        t = self.t
        text = open(os.path.join(EX, "docker", "README.md")).read()
        m = re.search(r"```sh\n(docker run .*?)\n```", text, re.S)
        if not t.ok(m, "docker/README.md has a `docker run` line"):
            return
        argv = shlex.split(m.group(1).replace("\\\n", " "))
        i = argv.index(IMAGE) if IMAGE in argv else -1
        vols = [argv[j + 1] for j, a in enumerate(argv[:i]) if a == "-v"]
        t.eq((i > 0, vols), (True, ["$PWD:/workspace",
                                    "~/.docker/config.json:/kaniko/.docker/config.json:ro"]),
             "docker/README.md: the image, the context at /workspace, config.json at "
             "/kaniko/.docker/config.json")
        args = [a.replace("dir:///workspace", "dir://" + self.ws) for a in argv[i + 1:]]
        self.plan(args, "docker/README.md", cwd=self.ws)

    def names(self):
        """Every lading image named anywhere in examples/ is one of the two placeholders."""
        found = set()
        for dirpath, _, files in os.walk(EX):
            for f in files:
                with open(os.path.join(dirpath, f), errors="replace") as fh:
                    found |= set(re.findall(r"[\w.-]+(?:/[\w.-]+)*/executor:[\w.-]+", fh.read()))
        lading = sorted(n for n in found if "kaniko-project" not in n)
        self.t.eq(lading, sorted([IMAGE, DEBUG_IMAGE]),
                  "examples/ name lading's image only as the two placeholders")
        readme = open(os.path.join(EX, "README.md")).read()
        missing = [p for p in ("kubernetes/job.yaml", "tekton/task.yaml", "tekton/taskrun.yaml",
                               "gitlab-ci/.gitlab-ci.yml", "docker/README.md", IMAGE, DEBUG_IMAGE)
                   if p not in readme]
        self.t.eq(missing, [], "examples/README.md covers every example and both image names")

    def dockerfile(self):
        t = self.t
        plans = {}
        for target in (None, "debug"):
            argv = [self.executor, "--context", TOP, "--no-push", "--print-plan"]
            if target:
                argv += ["--target", target]
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=self.work, timeout=60)
            try:
                plan = json.loads(p.stdout)
            except ValueError:
                t.ok(False, f"the Dockerfile plans (target {target})", p.stderr)
                return
            names = [s["name"] for s in plan["stages"]]
            plans[target] = [names[i] for i in plan["needed_stages"]]
            bases = sorted({s["base"] for s in plan["stages"] if s["base_kind"] == "image"})
        t.eq(plans, {None: ["build", "release", None], "debug": ["build", "busybox", "release",
                                                                 "debug"]},
             "Dockerfile: the default target is the release image; --target debug adds busybox")
        t.eq(bases, ["debian:bookworm"], "Dockerfile: the only base image is debian:bookworm")


def main():
    if yaml is None:
        print("Bail out! python3-yaml is not installed (scripts/test.sh installs it)")
        sys.exit(1)
    t = podlib.Tap()
    work = tempfile.mkdtemp(prefix="lading-test-examples-")
    try:
        c = Checker(t, os.path.abspath(sys.argv[1]), work)
        c.job()
        c.tekton()
        c.gitlab()
        c.docker()
        c.names()
        c.dockerfile()
    except Exception as e:
        t.ok(False, "the test ran to its end", f"{type(e).__name__}: {e}")
    finally:
        status = t.finish()
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
