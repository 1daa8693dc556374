#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs a program as PID 1 of a bare root, the way a container runtime starts a pod's
container: new mount and PID namespaces, a fresh /proc, a /dev of a few device nodes, a
read-only /sys, the volumes of the pod as bind mounts, then chroot and exec. Nothing else of
the machine is visible, and nothing of it leaks out: every mount lives in the private mount
namespace, which ends with the program.

usage: pod.py [options] ROOT -- PROGRAM [ARGS...]
  --bind SRC:DST[:ro]   bind SRC (a file or a directory) at DST inside ROOT (a volume, a
                        mounted Secret or ConfigMap); the mount point is created if missing
  --tmpfs DST           a tmpfs at DST (e.g. the service account token directory)
  --env KEY=VALUE       the program's environment (nothing else is passed, as in a container)
  --cwd DIR             its working directory inside ROOT (default /)
  --drop-cap NAME       remove a capability (cap_setuid, setuid, CAP_SETUID) from the bounding
                        set before exec, as a pod's securityContext.capabilities.drop does
  --pidfile FILE        write the program's PID (as this machine sees it) there once it runs

The exit status is the program's, or 128 + N when signal N killed it. The caller sends
signals to the PID in --pidfile, as the kubelet's runtime signals a container's PID 1.
Needs root. Standard library only (ctypes for unshare, mount and prctl)."""

import ctypes
import os
import resource
import signal
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_CAPBSET_DROP = 24

CAPS = ["chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid",
        "setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast",
        "net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio",
        "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
        "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write",
        "audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
        "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore"]

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                       ctypes.c_char_p]
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                       ctypes.c_ulong]


class PodError(Exception):
    pass


def check(ret, what):
    if ret != 0:
        e = ctypes.get_errno()
        raise PodError(f"{what}: {os.strerror(e)}")


def mount(src, dst, fstype, flags, data=None):
    enc = lambda s: s.encode() if s is not None else None
    check(libc.mount(enc(src), enc(dst), enc(fstype), flags, enc(data)),
          f"mount {fstype or src} on {dst}")


def cap_number(name):
    n = name.lower()
    n = n[4:] if n.startswith("cap_") else n
    if n not in CAPS:
        raise PodError(f"unknown capability '{name}'")
    return CAPS.index(n)


def inside(root, path):
    rel = os.path.normpath("/" + path).lstrip("/")
    if rel.startswith(".."):
        raise PodError(f"'{path}' leaves the root")
    return os.path.join(root, rel)


def mount_point(path, like_dir):
    """Creates the mount point (a directory, or an empty file for a file bind)."""
    if like_dir:
        os.makedirs(path, exist_ok=True)
    elif not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w"):
            pass


def setup_dev(root):
    dev = inside(root, "/dev")
    mount_point(dev, True)
    mount("tmpfs", dev, "tmpfs", MS_NOSUID, "mode=755,size=65536k")
    for name in ("null", "zero", "full", "random", "urandom", "tty"):
        target = os.path.join(dev, name)
        mount_point(target, False)
        mount("/dev/" + name, target, None, MS_BIND)
    pts = os.path.join(dev, "pts")
    os.mkdir(pts)
    mount("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620")
    os.symlink("pts/ptmx", os.path.join(dev, "ptmx"))
    shm = os.path.join(dev, "shm")
    os.mkdir(shm)
    mount("shm", shm, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, os.path.join(dev, name))


def setup(opts):
    root = opts["root"]
    # PID 1 of the new PID namespace: this proc shows its processes only
    proc = inside(root, "/proc")
    mount_point(proc, True)
    mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    setup_dev(root)
    sys_dir = inside(root, "/sys")
    mount_point(sys_dir, True)
    mount("/sys", sys_dir, None, MS_BIND | MS_REC)
    mount(None, sys_dir, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    for src, dst, ro in opts["binds"]:
        target = inside(root, dst)
        mount_point(target, os.path.isdir(src))
        mount(src, target, None, MS_BIND | MS_REC)
        if ro:
            mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    for dst in opts["tmpfs"]:
        target = inside(root, dst)
        mount_point(target, True)
        mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=16384k")
    os.chroot(root)
    os.chdir(opts["cwd"])
    # a crash leaves a core file (in the program's working directory) for the post-mortem
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    for cap in opts["drop"]:
        check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {CAPS[cap]}")


def parse(argv):
    opts = {"binds": [], "tmpfs": [], "env": {}, "cwd": "/", "drop": [], "pidfile": None}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            break
        if not a.startswith("--"):
            if "root" in opts:
                raise PodError(f"unexpected argument '{a}'")
            opts["root"] = os.path.abspath(a)
            i += 1
            continue
        if i + 1 >= len(argv):
            raise PodError(f"{a} needs a value")
        v = argv[i + 1]
        if a == "--bind":
            parts = v.split(":")
            if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "ro"):
                raise PodError(f"--bind wants SRC:DST[:ro], not '{v}'")
            opts["binds"].append((os.path.abspath(parts[0]), parts[1], len(parts) == 3))
        elif a == "--tmpfs":
            opts["tmpfs"].append(v)
        elif a == "--env":
            k, sep, val = v.partition("=")
            if not sep:
                raise PodError(f"--env wants KEY=VALUE, not '{v}'")
            opts["env"][k] = val
        elif a == "--cwd":
            opts["cwd"] = v
        elif a == "--drop-cap":
            opts["drop"].append(cap_number(v))
        elif a == "--pidfile":
            opts["pidfile"] = v
        else:
            raise PodError(f"unknown option '{a}'")
        i += 2
    if "root" not in opts or i >= len(argv) - 1:
        raise PodError("usage: pod.py [options] ROOT -- PROGRAM [ARGS...]")
    opts["argv"] = argv[i + 1:]
    return opts


def main():
    try:
        opts = parse(sys.argv[1:])
        if not os.path.isdir(opts["root"]):
            raise PodError(f"'{opts['root']}' is not a directory")
        check(libc.unshare(CLONE_NEWNS | CLONE_NEWPID), "unshare mount and PID namespaces")
        # nothing mounted from here on reaches the machine's mount namespace
        mount(None, "/", None, MS_REC | MS_PRIVATE)
    except PodError as e:
        print(f"pod: {e}", file=sys.stderr)
        return 125
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            setup(opts)
            # the parent publishes the PID once the program is about to run
            os.write(w, b"1")
            os.close(w)
            os.execve(opts["argv"][0], opts["argv"], opts["env"])
        except (OSError, PodError) as e:
            print(f"pod: {e}", file=sys.stderr)
        os._exit(127)
    os.close(w)
    ready = os.read(r, 1)
    os.close(r)
    if ready and opts["pidfile"]:
        with open(opts["pidfile"] + ".tmp", "w") as f:
            f.write(f"{pid}\n")
        os.rename(opts["pidfile"] + ".tmp", opts["pidfile"])
    # the runtime's shim: it does not take the signals meant for the container
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())
