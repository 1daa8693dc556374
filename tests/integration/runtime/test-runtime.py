#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runtime integration tests (TAP): sandbox mode, RUN-step processes and PID 1 duties, driven
through runtime-probe on scratch roots populated with busybox-static.

usage: test-runtime.py PATH-TO-runtime-probe
Needs root (namespaces, chroot) and /bin/busybox; otherwise the whole file is skipped."""

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

PROBE = os.path.abspath(sys.argv[1])
BUSYBOX = "/bin/busybox"
APPLETS = ["sh", "cat", "ls", "id", "echo", "stat", "grep", "tr", "touch", "head", "wc",
           "sleep", "pwd", "test", "cut", "readlink", "kill"]
TIMEOUT = 60

n = 0
failed = 0


def ok(cond, name, detail=""):
    global n, failed
    n += 1
    if not cond:
        failed += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (n, name))
    if not cond and detail:
        for line in str(detail).splitlines():
            print("#   " + line)
    sys.stdout.flush()
    return cond


def eq(got, want, name):
    return ok(got == want, name, "got:  %r\nwant: %r" % (got, want))


def skip_all(why):
    print("1..0 # SKIP " + why)
    sys.exit(77)


def make_root(base, name):
    root = os.path.join(base, name)
    for d in ("bin", "etc", "tmp"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    shutil.copy2(BUSYBOX, os.path.join(root, "bin", "busybox"))
    for a in APPLETS:
        os.symlink("busybox", os.path.join(root, "bin", a))
    with open(os.path.join(root, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n"
                "app:x:1000:1000:App:/home/app:/bin/sh\n")
    with open(os.path.join(root, "etc", "group"), "w") as f:
        f.write("root:x:0:\napp:x:1000:\nextra:x:2000:app\nagain:x:3000:other,app\n")
    return root


def probe(args, step, env=None, timeout=TIMEOUT, prefix=(), cwd="/tmp"):
    cmd = list(prefix) + [PROBE] + args + ["--env", "PATH=/bin"] + ["--"] + step
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                       env=env, cwd=cwd)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def snapshot_tree(path):
    """name -> (mode, size, mtime_ns, content) of everything under path."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            content = None
            if stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    content = f.read()
            elif stat.S_ISLNK(st.st_mode):
                content = os.readlink(full)
            out[os.path.relpath(full, path)] = (st.st_mode, st.st_size, st.st_mtime_ns, content)
    return out


def host_mounts_mentioning(path):
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if path in line]


def test_sandbox(base):
    root = make_root(base, "sbx")
    ctx = os.path.join(base, "ctx")
    out = os.path.join(base, "out")
    canary = os.path.join(base, "canary")
    os.makedirs(ctx)
    os.makedirs(out)
    os.makedirs(canary)
    with open(os.path.join(ctx, "hello.txt"), "w") as f:
        f.write("hello from the host\n")
    with open(os.path.join(canary, "sentinel"), "w") as f:
        f.write("untouched\n")
    # a hostile leftover in DIR: a link that would lead out of it if followed on the host
    hosts_target = "/tmp/%s-hosts" % os.path.basename(base)
    os.symlink(hosts_target, os.path.join(root, "etc", "hosts"))
    before = snapshot_tree(canary)

    # $KANIKO_DIR left as a link to the host: refused, nothing written through it
    os.symlink(canary, os.path.join(root, "kaniko"))
    rc, so, se = probe(["--sandbox", root], ["/bin/sh", "-c", "echo should-not-run"])
    eq((rc, so.splitlines(), se.strip()),
       (1, [], "error: '/kaniko' in the sandbox root is not a directory (a symlink or another "
               "file left there?): remove it"),
       "a symlink at /kaniko in DIR is refused")
    os.unlink(os.path.join(root, "kaniko"))
    eq(snapshot_tree(canary), before, "the canary is untouched by the refused run")

    step = ("echo step=$$; "
            "tr '\\0' ' ' < /proc/1/cmdline | cut -d' ' -f2-3; "
            "cat /kaniko/host/0/ctx/hello.txt; "
            "echo result > /kaniko/host/1/out/result.txt; "
            "touch /kaniko/host/0/ctx/new 2>/dev/null && echo ctx-writable || echo ctx-ro; "
            "touch /sys/x 2>/dev/null && echo sys-writable || echo sys-ro; "
            "ls /dev | tr '\\n' ' '; echo; "
            "head -c 5 /dev/zero | wc -c; "
            "grep -c ' /kaniko/host/0/ctx ' /proc/self/mountinfo; "
            "grep -c ' /kaniko/executor ' /proc/self/mountinfo; "
            "test -s /etc/resolv.conf && echo dns-ok; "
            "test $(stat -L -c %s /kaniko/executor) = $(stat -L -c %s /proc/1/exe) && echo exe-ok")
    rc, so, se = probe(["--sandbox", root, "--ignore", "--bind", ctx + ":ro",
                        "--bind", os.path.join(out, "result.txt") + ":parent",
                        "--map", os.path.join(ctx, "hello.txt"),
                        "--map", os.path.join(out, "result.txt"),
                        "--map", "/etc/passwd"],
                       ["/bin/sh", "-c", step])
    ok(rc == 0, "sandbox step exits 0", "rc %d\n%s" % (rc, se))
    lines = so.splitlines()
    eq(lines[:4], ["map %s/hello.txt -> /kaniko/host/0/ctx/hello.txt" % ctx,
                   "map %s/result.txt -> /kaniko/host/1/out/result.txt" % out,
                   "map /etc/passwd -> (none)",
                   "pid=1 userns=none"],
       "path mapping, and the executor is PID 1 in the sandbox")
    entries = lines[4][len("ignore="):].split(",") if len(lines) > 4 else []
    for want in ("proc", "sys", "dev", "dev/null", "dev/pts", "dev/shm", "kaniko/executor",
                 "kaniko/host", "kaniko/host/0/ctx", "kaniko/host/1/out",
                 hosts_target.lstrip("/"), "etc/resolv.conf"):
        ok(want in entries, "the ignore list from mountinfo has '%s'" % want, lines[4:5])
    stray = [e for e in entries if e.split("/")[0] not in ("proc", "sys", "dev", "kaniko")
             and e not in (hosts_target.lstrip("/"), "etc/resolv.conf")]
    eq(stray, [], "no other mount inside the sandbox")
    # the step is not PID 1 (the executor is, and its signal thread takes the next id)
    ok(len(lines) > 5 and lines[5].startswith("step=") and lines[5] != "step=1",
       "the step runs as a child of PID 1", "\n".join(lines[5:6]))
    eq(lines[6:], [
                   "--sandbox " + root,
                   "hello from the host",
                   "ctx-ro",
                   "sys-ro",
                   "core fd full null ptmx pts random shm stderr stdin stdout tty urandom zero ",
                   "5",
                   "1",
                   "1",
                   "dns-ok",
                   "exe-ok"],
       "inside: /proc of the new PID namespace, host paths at their mapped paths, "
       "read-only context and /sys, a pod's /dev, mounts in mountinfo, DNS, the executor")
    with open(os.path.join(out, "result.txt")) as f:
        eq(f.read(), "result\n", "output written through the writable parent bind")
    eq(snapshot_tree(canary), before, "the host canary beside DIR is untouched")
    ok(not os.path.lexists(hosts_target), "nothing created on the host through /etc/hosts")
    ok(os.path.isfile(os.path.join(root, hosts_target.lstrip("/"))),
       "the /etc/hosts link was followed inside DIR only")
    eq(host_mounts_mentioning(root), [], "no mount left on the host after exit")
    eq(sorted(os.listdir(os.path.join(root, "proc"))), [], "DIR/proc is an empty dir again")
    eq(sorted(os.listdir(os.path.join(root, "dev"))), [], "DIR/dev is an empty dir again")
    eq(sorted(os.listdir(os.path.join(root, "kaniko", "host"))), [],
       "nothing of the host-path tmpfs is left in DIR")
    return root


def test_user_env_cwd(root):
    rc, so, se = probe(["--sandbox", root, "--user", "app", "--cwd", "/work/sub",
                        "--env", "FOO=bar baz"],
                       ["/bin/sh", "-c", "id; pwd; echo \"$FOO|$HOME|$PATH\""])
    eq((rc, so.splitlines()[1:]),
       (0, ["uid=1000(app) gid=1000(app) groups=2000(extra),3000(again)",
            "/work/sub",
            "bar baz|/home/app|/bin"]),
       "RUN as a user of the root's /etc/passwd: uid, gid, groups, cwd, env, HOME")
    st = os.stat(os.path.join(root, "work", "sub"))
    eq((st.st_uid, st.st_gid, oct(st.st_mode & 0o7777)), (1000, 1000, "0o755"),
       "the missing working directory was created for the user")

    rc, so, se = probe(["--sandbox", root, "--user", "4321:again"],
                       ["id"])
    eq((rc, so.splitlines()[1:]), (0, ["uid=4321 gid=3000(again)"]),
       "numeric user without an entry, named group, no supplementary groups")

    rc, so, se = probe(["--sandbox", root, "--user", "ghost"], ["id"])
    eq((rc, se.strip()),
       (1, "error: unable to find user 'ghost': no matching entry in /etc/passwd"),
       "unknown user: a clear error")


def test_status(root):
    rc, so, se = probe(["--sandbox", root], ["/bin/sh", "-c", "exit 42"])
    eq(rc, 42, "exit 42 in the sandbox gives 42")
    rc, so, se = probe(["--sandbox", root], ["nosuch-command"])
    eq((rc, se.strip()),
       (127, "error: 'nosuch-command': executable file not found in PATH '/bin'"),
       "command not found: 127 and its name")
    rc, so, se = probe(["--sandbox", root], ["/bin/sh", "-c", "kill -KILL $$"])
    eq(rc, 137, "a step killed by SIGKILL gives 137")


def wait_for(path, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.02)
    return False


TERM_STEP = ("trap 'echo got-TERM > /tmp/term; exit 3' TERM; echo > /tmp/ready; "
             "i=0; while [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; echo timeout")


def sigterm_case(root, args, name):
    for f in ("ready", "term"):
        if os.path.exists(os.path.join(root, "tmp", f)):
            os.unlink(os.path.join(root, "tmp", f))
    cmd = [PROBE] + args + ["--env", "PATH=/bin", "--", "/bin/sh", "-c", TERM_STEP]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/tmp")
    try:
        ready = wait_for(os.path.join(root, "tmp", "ready"))
        ok(ready, name + ": the step started")
        p.send_signal(signal.SIGTERM)
        so, se = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        so, se = p.communicate()
    eq(p.returncode, 143, name + ": the executor exits 143")
    term = os.path.join(root, "tmp", "term")
    got = open(term).read() if os.path.exists(term) else None
    eq(got, "got-TERM\n", name + ": SIGTERM reached the step's trap")
    ok("interrupted by SIGTERM, which was forwarded to '/bin/sh'" in se.decode(),
       name + ": the error says why", se.decode())


def sigterm_between_steps(root, args, name):
    """SIGTERM while no step runs: the executor ends at once with 143."""
    cmd = [PROBE] + args + ["--wait-file", "/tmp/never", "--env", "PATH=/bin", "--",
                            "/bin/sh", "-c", "echo step-ran"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/tmp")
    try:
        first = p.stdout.readline().decode()  # printed once the executor is ready
        p.send_signal(signal.SIGTERM)
        so, se = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        so, se = p.communicate()
    eq((p.returncode, first.startswith("pid="), so.decode(), se.decode().strip()),
       (143, True, "", "error: received SIGTERM: exiting with status 143"),
       name + ": SIGTERM between steps ends the executor with 143")


def test_signals(root, base):
    sigterm_case(root, ["--sandbox", root], "as PID 1 in the sandbox")
    sigterm_case(root, ["--chroot", root], "as an ordinary process (not PID 1)")
    sigterm_between_steps(root, ["--sandbox", root], "as PID 1 in the sandbox")
    sigterm_between_steps(root, ["--chroot", root], "as an ordinary process")


ZOMBIE_STEP = (
    "(sh -c 'echo $$ > /tmp/orphan; exit 0' &); "
    "i=0; while [ ! -s /tmp/orphan ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; "
    "pid=$(cat /tmp/orphan); "
    # the orphan was re-parented to PID 1; it must disappear (be reaped), not stay a zombie
    "i=0; while [ -e /proc/$pid ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; "
    "if [ -e /proc/$pid ]; then echo orphan=$(cut -d' ' -f3 /proc/$pid/stat); "
    "else echo orphan=reaped; fi; "
    # a daemon left behind in the step's group, and a double-forked one
    "sleep 1000 & (sleep 1000 &); exit 0")


def test_privilege(root):
    """A capability dropped from the bounding set, as in an unprivileged pod."""
    if not shutil.which("setpriv"):
        ok(True, "# SKIP setpriv missing")
        return
    rc, so, se = probe(["--chroot", root], ["/bin/sh", "-c", "echo ran"],
                       prefix=["setpriv", "--bounding-set", "-sys_chroot"])
    eq((rc, se.strip()),
       (1, "error: change the step's root: Operation not permitted: the build runs without "
           "CAP_SYS_CHROOT (it is not in the capability bounding set: an unprivileged pod?)"),
       "a missing capability is named in the error")


def test_zombies(root):
    orphan = os.path.join(root, "tmp", "orphan")
    if os.path.exists(orphan):
        os.unlink(orphan)
    rc, so, se = probe(["--sandbox", root, "--report"], ["/bin/sh", "-c", ZOMBIE_STEP])
    eq((rc, so.splitlines()[1:]), (0, ["orphan=reaped", "procs=1 zombies=0"]),
       "orphans reaped while the step runs; no zombie and no leftover process after it")


def test_rootless(base):
    nobody = 65534
    d = os.path.join(base, "rootless")
    os.makedirs(d)
    os.chmod(base, 0o755)
    root = make_root(d, "root")
    probe_copy = os.path.join(d, "probe")
    shutil.copy2(PROBE, probe_copy)
    for dirpath, dirnames, filenames in os.walk(d):
        for name in dirnames + filenames + ["."]:
            os.lchown(os.path.join(dirpath, name), nobody, nobody)
    setpriv = ["setpriv", "--reuid=%d" % nobody, "--regid=%d" % nobody, "--clear-groups"]

    def run(args, step, prefix):
        cmd = prefix + [probe_copy] + args + ["--env", "PATH=/bin", "--"] + step
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT, cwd="/tmp")
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    rc, so, se = run(["--sandbox", root], ["/bin/sh", "-c", "id -u; cat /proc/self/uid_map"],
                     setpriv)
    if rc != 0 and "create a user namespace" in se:
        ok(True, "# SKIP unprivileged user namespaces are disabled here")
        return
    eq((rc, [" ".join(l.split()) for l in so.splitlines()]),
       (0, ["pid=1 userns=single", "0", "0 65534 1"]),
       "as nobody without subuid: a user namespace mapping nobody to root")
    rc, so, se = run(["--sandbox", root, "--user", "app"], ["id"], setpriv)
    eq((rc, se.strip().splitlines()[-1]),
       (1, "error: set the 2 supplementary groups of user 'app': Operation not permitted: "
           "setgroups(2) is denied in the build's user namespace (a rootless sandbox "
           "without /etc/subgid entries?)"),
       "as nobody without subuid: switching users fails with a clear error")

    rc, so, se = run(["--sandbox", root, "--user", "4321"], ["id"], setpriv)
    eq((rc, se.strip().splitlines()[-1]),
       (1, "error: switch to user '4321' (uid 4321): Invalid argument: the id is not mapped "
           "in the build's user namespace (a rootless sandbox maps only the ids /etc/subuid "
           "and /etc/subgid give the user)"),
       "as nobody without subuid: an unmapped uid is explained")

    if not shutil.which("newuidmap") or not shutil.which("unshare"):
        ok(True, "# SKIP newuidmap or unshare missing")
        return
    for name in ("subuid", "subgid"):
        with open(os.path.join(d, name), "w") as f:
            f.write("nobody:200000:65536\n")
        os.chmod(os.path.join(d, name), 0o644)
    # /etc/subuid and /etc/subgid replaced in a private mount namespace only: the machine's
    # files are not touched
    wrap = ["unshare", "-m", "--propagation", "private", "sh", "-c",
            "mount --bind \"$0\"/subuid /etc/subuid && "
            "mount --bind \"$0\"/subgid /etc/subgid && exec \"$@\"", d] + setpriv
    rc, so, se = run(["--sandbox", root, "--user", "app", "--cwd", "/home/app"],
                     ["/bin/sh", "-c", "id; pwd"], wrap)
    eq((rc, so.splitlines()),
       (0, ["pid=1 userns=subid",
            "uid=1000(app) gid=1000(app) groups=2000(extra),3000(again)",
            "/home/app"]),
       "as nobody with subuid ranges: newuidmap maps a range and users switch")
    st = os.stat(os.path.join(root, "home", "app"))
    eq((st.st_uid, st.st_gid), (200000 + 999, 200000 + 999),
       "the user's working directory is owned by its mapped id on the host")


def main():
    if os.geteuid() != 0:
        skip_all("needs root")
    if not os.access(BUSYBOX, os.X_OK):
        skip_all("needs busybox-static")
    base = tempfile.mkdtemp(prefix="lading-test-runtime-")
    try:
        root = test_sandbox(base)
        test_user_env_cwd(root)
        test_status(root)
        test_signals(root, base)
        test_zombies(root)
        test_privilege(root)
        test_rootless(base)
    finally:
        print("1..%d" % n)
        if failed == 0:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print("# kept %s" % base)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
