#!/usr/bin/env python3
"""--git recurse-submodules for git contexts, end to end: a superproject whose submodule
(relative URL ../sub.git) has a nested submodule, served by `git http-backend` (githttp.py)
on 127.0.0.1 and built from with the executor in sandbox mode. Checks that the image holds
the submodules' files at the commits the gitlinks record (not their newer HEADs), that
without the option a submodule is an empty directory with a warning, the error for an ssh
submodule and for a gitlink without a .gitmodules entry, and that credentials are sent to
the superproject's host only."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from githttp import GitServer  # noqa: E402
from gitlib import Checks, git  # noqa: E402
import gitlib  # noqa: E402

executor = os.path.abspath(sys.argv[1])
check = Checks()






def commit(work, files, links=(), message="c"):
    """Writes files, records gitlinks [(path, id)], commits; returns the commit id."""
    for path, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(work, path)) or work, exist_ok=True)
        with open(os.path.join(work, path), "w") as f:
            f.write(text)
    git(work, "add", "-A")
    for path, oid in links:
        git(work, "update-index", "--add", "--cacheinfo", f"160000,{oid},{path}")
    git(work, "commit", "-qm", message)
    return git(work, "rev-parse", "HEAD")


def repo(root, name, files, links=()):
    """srv/NAME.git from a work tree work-NAME; returns (work tree, first commit id)."""
    work = os.path.join(root, "work-" + name)
    git(root, "init", "-q", "-b", "main", work)
    for k, v in (("user.email", "t@example.com"), ("user.name", "t")):
        git(work, "config", k, v)
    first = commit(work, files, links)
    publish(root, name)
    return work, first


def publish(root, name):
    bare = os.path.join(root, "srv", name + ".git")
    if not os.path.exists(bare):
        git(root, "init", "-q", "--bare", bare)
        git(bare, "config", "uploadpack.allowAnySHA1InWant", "true")
    git(os.path.join(root, "work-" + name), "push", "-q", bare, "main")
    git(bare, "symbolic-ref", "HEAD", "refs/heads/main")


def modules(*entries):
    return "".join(f'[submodule "{name}"]\n\tpath = {path}\n\turl = {url}\n'
                   for name, path, url in entries)






def layers3(layout):
    """{path: (type, mode, content)}: the files as this test checks them."""
    return {k: (v[0], v[1], v[4]) for k, v in gitlib.layers(layout).items()}


def same(got, want, name):
    diff = [f"{k}: got {got.get(k)} want {want.get(k)}" for k in sorted(set(got) | set(want))
            if got.get(k) != want.get(k)]
    check(not diff, name, "\n".join(diff))


DOCKERFILE = "FROM scratch\nCOPY . /ctx/\n"

with tempfile.TemporaryDirectory(prefix="lading-gitsub-") as work:
    os.makedirs(os.path.join(work, "srv"))
    nested_w, nested1 = repo(work, "nested", {"n.txt": "nested1\n"})
    sub_mods = modules(("nested", "deep/nested", "../nested.git"))
    sub_w, sub1 = repo(work, "sub", {"s.txt": "sub1\n", ".gitmodules": sub_mods},
                       [("deep/nested", nested1)])
    super_mods = modules(("sub", "lib/sub", "../sub.git"))
    repo(work, "super", {"Dockerfile": DOCKERFILE, "top.txt": "top\n",
                         ".gitmodules": super_mods}, [("lib/sub", sub1)])
    # the submodules move on after the superproject recorded them
    commit(sub_w, {"s.txt": "sub2\n"})
    publish(work, "sub")
    commit(nested_w, {"n.txt": "nested2\n"})
    publish(work, "nested")
    repo(work, "super-ssh", {"Dockerfile": DOCKERFILE,
                             ".gitmodules": modules(("ext", "ext", "git@github.com:o/r.git"))},
         [("ext", sub1)])
    # a chain of 9 nested submodules: one over the limit of 8 levels
    chain = None
    for i in range(9, 0, -1):
        files = {"f": f"{i}\n"}
        links = []
        if chain:
            files[".gitmodules"] = modules(("a", "a", f"../chain{i + 1}.git"))
            links = [("a", chain)]
        _, chain = repo(work, f"chain{i}", files, links)
    repo(work, "super-deep", {"Dockerfile": DOCKERFILE,
                              ".gitmodules": modules(("a", "a", "../chain1.git"))},
         [("a", chain)])
    repo(work, "super-nomod", {"Dockerfile": DOCKERFILE}, [("vendor/x", sub1)])

    with GitServer(os.path.join(work, "srv")) as srv:
        host = srv.url[len("http://"):]
        port = host.rsplit(":", 1)[1]
        repo(work, "super-other", {"Dockerfile": DOCKERFILE, ".gitmodules": modules(
            ("sub", "lib/sub", f"http://localhost:{port}/auth/sub.git"))}, [("lib/sub", sub1)])

        p, out = gitlib.build(executor, work, "recurse", f"git://{host}/super.git", "--git",
                              "recurse-submodules=true")
        if check(p.returncode == 0, "recurse-submodules: builds", p.stderr):
            same(layers3(out), {
                "ctx": ("d", 0o755, ""),
                "ctx/Dockerfile": ("f", 0o644, DOCKERFILE),
                "ctx/.gitmodules": ("f", 0o644, super_mods),
                "ctx/top.txt": ("f", 0o644, "top\n"),
                "ctx/lib": ("d", 0o755, ""),
                "ctx/lib/sub": ("d", 0o755, ""),
                "ctx/lib/sub/s.txt": ("f", 0o644, "sub1\n"),
                "ctx/lib/sub/.gitmodules": ("f", 0o644, sub_mods),
                "ctx/lib/sub/deep": ("d", 0o755, ""),
                "ctx/lib/sub/deep/nested": ("d", 0o755, ""),
                "ctx/lib/sub/deep/nested/n.txt": ("f", 0o644, "nested1\n"),
            }, "recurse-submodules: the submodules at the recorded commits, no .git")
        check(f"Fetching submodule 'lib/sub' (commit {sub1[:7]}) from {srv.url}/sub.git\n"
              in p.stderr and
              f"Fetching submodule 'lib/sub/deep/nested' (commit {nested1[:7]}) from "
              f"{srv.url}/nested.git\n" in p.stderr,
              "recurse-submodules: one line per submodule", p.stderr)

        # ADD of a repository fetches its submodules, as BuildKit's does
        local = os.path.join(work, "local")
        os.makedirs(local)
        with open(os.path.join(local, "Dockerfile"), "w") as f:
            f.write(f"FROM scratch\nADD {srv.url}/super.git /src/\n")
        p, out = gitlib.build(executor, work, "add", local)
        if check(p.returncode == 0, "ADD: builds", p.stderr):
            got = layers3(out)
            check((got.get("src/lib/sub/s.txt"), got.get("src/lib/sub/deep/nested/n.txt"),
                   got.get("src/top.txt")) ==
                  (("f", 0o644, "sub1\n"), ("f", 0o644, "nested1\n"), ("f", 0o644, "top\n")),
                  "ADD: the submodules at the recorded commits", got)
            check(not any(k.endswith("/.git") or "/.git/" in k for k in got), "ADD: no .git",
                  got)

        p, out = gitlib.build(executor, work, "plain", f"git://{host}/super.git")
        if check(p.returncode == 0, "without the option: builds", p.stderr):
            got = layers3(out)
            check(got.get("ctx/lib/sub") == ("d", 0o755, "") and
                  not any(k.startswith("ctx/lib/sub/") for k in got),
                  "without the option: the submodule is an empty directory", got)
        check("warn: Skipping submodule 'lib/sub': left as an empty directory\n" in p.stderr
              and "Fetching submodule" not in p.stderr,
              "without the option: a warning, nothing fetched", p.stderr)

        errors = [
            ("ssh", "super-ssh", {},
             "submodule 'ext': URL 'git@github.com:o/r.git': only http(s) submodules are "
             "supported\n"),
            ("too-deep", "super-deep", {},
             "submodule 'a/a/a/a/a/a/a/a/a': submodules nested over 8 levels deep\n"),
            ("no-entry", "super-nomod", {},
             "submodule 'vendor/x': no entry with this path in '.gitmodules'\n"),
            # the credentials are for 127.0.0.1: localhost is another host and gets none
            ("other-host", "auth/super-other",
             {"GIT_USERNAME": "user", "GIT_PASSWORD": "secret"},
             f"submodule 'lib/sub': 'http://localhost:{port}/auth/sub.git': HTTP 401: "
             "authentication failed or required (set GIT_USERNAME and GIT_PASSWORD, or "
             "GIT_TOKEN)\n"),
        ]
        for name, path, env, want in errors:
            p, _ = gitlib.build(executor, work, name, f"git://{host}/{path}.git", "--git",
                                  "recurse-submodules=true", env_extra=env)
            check(p.returncode == 1 and p.stderr.endswith(
                  f"error: get the build context 'git://{host}/{path}.git': {want}"),
                  f"error: {name}", p.stderr)
        # the same credentials go to a submodule on the superproject's host
        p, out = gitlib.build(executor, work, "same-host", f"git://{host}/auth/super.git", "--git",
                              "recurse-submodules=true",
                              env_extra={"GIT_USERNAME": "user", "GIT_PASSWORD": "secret"})
        if check(p.returncode == 0, "same host: the credentials are sent", p.stderr):
            check(layers3(out).get("ctx/lib/sub/deep/nested/n.txt") == ("f", 0o644, "nested1\n"),
                  "same host: the nested submodule's file", p.stderr)
        check("secret" not in p.stderr, "same host: the password is not logged", p.stderr)

check.done()
