#!/usr/bin/env python3
"""git contexts and ADD of git repositories, end to end: a repository made with git, served
by `git http-backend` (githttp.py) on 127.0.0.1, built from with the executor in sandbox
mode. Checks the exact files, modes, owners and symlinks of the image's layers (read with
skopeo and Python's tarfile), and the error messages for an unknown ref, a server that is not
git and a corrupted packfile."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from githttp import GitServer  # noqa: E402
from gitlib import Checks, git  # noqa: E402
import gitlib  # noqa: E402

executor = os.path.abspath(sys.argv[1])
check = Checks()






def make_repo(root):
    """repo.git: main (2 commits), annotated tag v1 on the first, branch dev."""
    work = os.path.join(root, "work")
    os.makedirs(os.path.join(work, "bin"))
    os.makedirs(os.path.join(work, "sub", "d"))
    files = {"README": "hello\n", "bin/run.sh": "#!/bin/sh\necho hi\n", "sub/d/f": "deep\n",
             "Dockerfile": "FROM scratch\nCOPY . /ctx/\n",
             "sub/Dockerfile": "FROM scratch\nCOPY . /sub/\n"}
    for path, text in files.items():
        with open(os.path.join(work, path), "w") as f:
            f.write(text)
    os.chmod(os.path.join(work, "bin/run.sh"), 0o755)
    os.symlink("README", os.path.join(work, "link"))
    git(root, "init", "-q", "-b", "main", work)
    for k, v in (("user.email", "t@example.com"), ("user.name", "t")):
        git(work, "config", k, v)
    git(work, "add", "-A")
    git(work, "commit", "-qm", "one")
    git(work, "tag", "-a", "v1", "-m", "v1")
    first = git(work, "rev-parse", "HEAD")
    with open(os.path.join(work, "README"), "w") as f:
        f.write("hello2\n")
    git(work, "commit", "-qam", "two")
    second = git(work, "rev-parse", "HEAD")
    git(work, "checkout", "-qb", "dev")
    with open(os.path.join(work, "devonly"), "w") as f:
        f.write("dev\n")
    git(work, "add", "devonly")
    git(work, "commit", "-qm", "dev")
    git(work, "checkout", "-q", "main")
    bare = os.path.join(root, "srv", "repo.git")
    git(root, "clone", "-q", "--bare", work, bare)
    git(bare, "config", "uploadpack.allowAnySHA1InWant", "true")
    return first, second






def tree(prefix, readme, extra=None, uid=0, dockerfile="FROM scratch\nCOPY . /ctx/\n",
         top_mode=0o755):
    want = {
        prefix: ("d", top_mode, uid, uid, ""),
        f"{prefix}/Dockerfile": ("f", 0o644, uid, uid, dockerfile),
        f"{prefix}/README": ("f", 0o644, uid, uid, readme),
        f"{prefix}/bin": ("d", 0o755, uid, uid, ""),
        f"{prefix}/bin/run.sh": ("f", 0o755, uid, uid, "#!/bin/sh\necho hi\n"),
        f"{prefix}/link": ("l", 0o777, uid, uid, "README"),
        f"{prefix}/sub": ("d", 0o755, uid, uid, ""),
        f"{prefix}/sub/Dockerfile": ("f", 0o644, uid, uid, "FROM scratch\nCOPY . /sub/\n"),
        f"{prefix}/sub/d": ("d", 0o755, uid, uid, ""),
        f"{prefix}/sub/d/f": ("f", 0o644, uid, uid, "deep\n"),
    }
    want.update(extra or {})
    return want


def same(got, want, name):
    diff = [f"{k}: got {got.get(k)} want {want.get(k)}" for k in sorted(set(got) | set(want))
            if got.get(k) != want.get(k)]
    check(not diff, name, "\n".join(diff))


with tempfile.TemporaryDirectory(prefix="lading-git-") as work:
    first, second = make_repo(work)
    with GitServer(os.path.join(work, "srv")) as srv:
        host = srv.url[len("http://"):]
        repo = f"git://{host}/repo.git"

        cases = [
            ("branch", f"{repo}#refs/heads/main", [], "hello2\n", {}),
            ("default", repo, [], "hello2\n", {}),
            ("short-branch", f"{repo}#dev", [], "hello2\n",
             {"ctx/devonly": ("f", 0o644, 0, 0, "dev\n")}),
            ("git-branch-flag", repo, ["--git", "branch=dev"], "hello2\n",
             {"ctx/devonly": ("f", 0o644, 0, 0, "dev\n")}),
            ("tag", f"{repo}#v1", [], "hello\n", {}),
            ("full-tag", f"{repo}#refs/tags/v1", [], "hello\n", {}),
            ("commit", f"{repo}#{first}", [], "hello\n", {}),
            ("ref-and-commit", f"{repo}#refs/heads/main#{first}", [], "hello\n", {}),
        ]
        for name, ctx, flags, readme, extra in cases:
            p, out = gitlib.build(executor, work, name, ctx, *flags)
            if check(p.returncode == 0, f"context {name}: builds", p.stderr):
                same(gitlib.layers(out), tree("ctx", readme, extra, top_mode=0o755),
                     f"context {name}: the layer holds the checkout")
        p, out = gitlib.build(executor, work, "moved", f"git://{host}/moved/repo.git#v1")
        if check(p.returncode == 0, "a redirected repository builds", p.stderr):
            same(gitlib.layers(out), tree("ctx", "hello\n"), "redirected: the layer holds the checkout")
        p, out = gitlib.build(executor, work, "auth", f"git://{host}/auth/repo.git#v1",
                       env_extra={"GIT_USERNAME": "user", "GIT_PASSWORD": "secret"})
        if check(p.returncode == 0, "GIT_USERNAME/GIT_PASSWORD: builds", p.stderr):
            same(gitlib.layers(out), tree("ctx", "hello\n"), "auth: the layer holds the checkout")
        check("secret" not in p.stderr, "auth: the password is not logged", p.stderr)
        p, out = gitlib.build(executor, work, "commit-log", f"{repo}#{first}")
        check(f"Build context: commit {first} of {repo}#{first}" in p.stderr,
              "the commit checked out is logged", p.stderr)

        p, out = gitlib.build(executor, work, "sub-path", f"{repo}#v1", "--context-sub-path", "sub")
        if check(p.returncode == 0, "--context-sub-path builds", p.stderr):
            same(gitlib.layers(out), {
                "sub": ("d", 0o755, 0, 0, ""),
                "sub/Dockerfile": ("f", 0o644, 0, 0, "FROM scratch\nCOPY . /sub/\n"),
                "sub/d": ("d", 0o755, 0, 0, ""),
                "sub/d/f": ("f", 0o644, 0, 0, "deep\n"),
            }, "--context-sub-path: the sub-directory is the context")

        # ADD of a repository (http:// allowed for ADD), --keep-git-dir, --chown
        local = os.path.join(work, "local")
        os.makedirs(local)
        with open(os.path.join(local, "Dockerfile"), "w") as f:
            f.write(f"FROM scratch\nADD {srv.url}/repo.git#v1 /src\n"
                    f"ADD --keep-git-dir=true --chown=1000:1000 {srv.url}/repo.git /full/\n")
        p, out = gitlib.build(executor, work, "add", local)
        if check(p.returncode == 0, "ADD of git repositories builds", p.stderr):
            want = tree("src", "hello\n")
            want.update(tree("full", "hello2\n", uid=1000, extra={
                "full/.git": ("d", 0o755, 1000, 1000, ""),
                "full/.git/HEAD": ("f", 0o644, 1000, 1000, second + "\n"),
                "full/.git/shallow": ("f", 0o644, 1000, 1000, second + "\n"),
                "full/.git/config": ("f", 0o644, 1000, 1000,
                                     "[core]\n\trepositoryformatversion = 0\n\tbare = false\n"
                                     f"[remote \"origin\"]\n\turl = {srv.url}/repo.git\n"),
                "full/.git/objects": ("d", 0o755, 1000, 1000, ""),
                "full/.git/refs": ("d", 0o755, 1000, 1000, ""),
                "full/.git/refs/heads": ("d", 0o755, 1000, 1000, ""),
                "full/.git/refs/tags": ("d", 0o755, 1000, 1000, ""),
            }))
            same(gitlib.layers(out), want, "ADD: exact files, modes, owners, symlinks and .git")
        # the cache key holds the commit the ref names: same commit, served from the cache;
        # the branch moved, built again
        with open(os.path.join(local, "Dockerfile"), "w") as f:
            f.write(f"FROM scratch\nADD {srv.url}/repo.git#main /src\n")
        cache = ["--cache=true", "--cache-copy-layers", "--cache-repo",
                 "oci:" + os.path.join(work, "cache-layout")]
        p1, _ = gitlib.build(executor, work, "cache1", local, *cache)
        p2, _ = gitlib.build(executor, work, "cache2", local, *cache)
        check(p1.returncode == 0 and "1 entries pushed" in p1.stderr, "ADD git: cached",
              p1.stderr)
        check(p2.returncode == 0 and "every step from the cache (1)" in p2.stderr and
              "Fetching" not in p2.stderr, "ADD git: same commit, served from the cache",
              p2.stderr)
        w = os.path.join(work, "work")
        with open(os.path.join(w, "README"), "w") as f:
            f.write("hello3\n")
        git(w, "commit", "-qam", "three")
        third = git(w, "rev-parse", "HEAD")
        git(w, "push", "-q", os.path.join(work, "srv", "repo.git"), "main")
        p3, out = gitlib.build(executor, work, "cache3", local, *cache)
        check(p3.returncode == 0 and "No cached layer found" in p3.stderr and
              f"Fetching {third} of {srv.url}/repo.git" in p3.stderr,
              "ADD git: the branch moved, built again", p3.stderr)
        check(gitlib.layers(out).get("src/README") == ("f", 0o644, 0, 0, "hello3\n"),
              "ADD git: the new commit's files", gitlib.layers(out).get("src/README"))

        # errors
        errors = [
            ("unknown-ref", f"{repo}#nope",
             f"error: get the build context '{repo}#nope': reference 'nope' not found in "
             f"repository '{srv.url}/repo.git'\n"),
            ("not-git", f"git://{host}/notgit/repo.git",
             f"error: get the build context 'git://{host}/notgit/repo.git': "
             f"'{srv.url}/notgit/repo.git' is not a git repository served over git's smart "
             "HTTP (content type 'text/html')\n"),
            ("no-repo", f"git://{host}/missing.git",
             f"error: get the build context 'git://{host}/missing.git': '{srv.url}/missing.git'"
             ": HTTP 404: not a git repository or not served over git's smart HTTP\n"),
        ]
        errors += [
            ("protocol-v0", f"git://{host}/v0/repo.git",
             f"error: get the build context 'git://{host}/v0/repo.git': '{srv.url}/v0/repo.git'"
             ": the server does not offer git protocol version 2 (only version 2 is "
             "supported)\n"),
            ("no-credentials", f"git://{host}/auth/repo.git",
             f"error: get the build context 'git://{host}/auth/repo.git': "
             f"'{srv.url}/auth/repo.git': HTTP 401: authentication failed or required (set "
             "GIT_USERNAME and GIT_PASSWORD, or GIT_TOKEN)\n"),
        ]
        for name, ctx, want in errors:
            p, _ = gitlib.build(executor, work, name, ctx)
            check(p.returncode == 1 and p.stderr.endswith(want), f"error: {name}", p.stderr)
        p, _ = gitlib.build(executor, work, "corrupt", f"git://{host}/corrupt/repo.git")
        check(p.returncode == 1 and f"fetch {third} from '{srv.url}/corrupt/repo.git': packfile object "
              in p.stderr, "error: corrupted packfile", p.stderr)
        p, _ = gitlib.build(executor, work, "pull-method", repo, env_extra={"GIT_PULL_METHOD": "ftp"})
        check(p.returncode == 1 and p.stderr.endswith(
              "error: invalid value 'ftp' in GIT_PULL_METHOD: expected https or http\n"),
              "error: GIT_PULL_METHOD neither https nor http", p.stderr)
        with open(os.path.join(local, "Dockerfile"), "w") as f:
            f.write("FROM scratch\nADD git@github.com:o/r.git /src\n")
        p, _ = gitlib.build(executor, work, "ssh", local)
        check(p.returncode == 1 and "git source 'git@github.com:o/r.git': only https:// "
              "repositories are supported (no ssh or git:// protocol)" in p.stderr,
              "error: ADD of an ssh repository", p.stderr)

check.done()
