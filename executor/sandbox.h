/* SPDX-License-Identifier: Apache-2.0 */
/* Sandbox mode (`--sandbox DIR`, DESIGN.md "Two ways to run" (2)): before the build starts,
 * the executor enters new PID and mount namespaces (and a user namespace mapping the caller
 * to root when it is not root), makes DIR the root with pivot_root, and continues as PID 1
 * there, building exactly as in a pod. The machine's own root is never written: DIR and
 * everything created in it are resolved inside DIR, and the old root is detached.
 *
 * Inside, as a Kubernetes pod has them:
 *   /proc            a new procfs for the new PID namespace
 *   /dev             a tmpfs with null, zero, full, random, urandom, tty bound from the host,
 *                    a new devpts at /dev/pts (ptmx -> pts/ptmx), a tmpfs /dev/shm, and the
 *                    fd, stdin, stdout, stderr, core links. Never the host's /dev: that
 *                    would hand the host's disks to RUN steps, which no pod sees.
 *   /sys             the host's /sys, bound read-only (recursively where the kernel can)
 *   /etc/hosts, /etc/resolv.conf   bound from writable copies of the host's files, so that
 *                    RUN steps have DNS and may edit them without touching the host
 *   $KANIKO_DIR/executor           the running executable, bound read-only
 *   $KANIKO_DIR/ssl/certs/ca-certificates.crt   the host's CA bundle, read-only, when found
 *                    (SSL_CERT_FILE and SSL_CERT_DIR are set to it, as Kaniko's image does)
 *   $KANIKO_DIR/host/N/<name>      host paths the build needs (see sandbox_add_path)
 * $KANIKO_DIR/host is a tmpfs, so nothing of the mapping is left in DIR afterwards; DIR
 * itself (created if missing) is kept for inspection. Every mount above is a mount point in
 * /proc/self/mountinfo, hence on the ignore list and in no layer. Propagation is private:
 * nothing leaks to the host, and all of it vanishes when the sandbox's PID 1 exits.
 *
 * Path mapping: host path P added with sandbox_add_path() is bound at
 * "$KANIKO_DIR/host/N/<last component of P>" (N counts bind mounts from 0; a path already
 * covered by an earlier bind of a directory is not bound again); sandbox_map_path() rewrites
 * any host path at or below a bound one to its path inside. A fixed place under $KANIKO_DIR
 * (rather than the same absolute path) keeps host directory names out of the build root and
 * out of layers, and cannot collide with the image's own files. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common/macros.h"

struct lerr;
struct sandbox;

enum sandbox_path_flags {
        SANDBOX_PATH_RO = 1u << 0,     /* bind read-only (context, Dockerfile, config.json,
                                        * --secret sources) */
        SANDBOX_PATH_PARENT = 1u << 1, /* bind the parent directory, writable: for outputs
                                        * the build creates or replaces (--tar-path,
                                        * --digest-file, --oci-layout-path, ...) */
};

/* A sandbox rooted at dir (created at sandbox_enter() if missing) with the executor's home
 * kaniko_dir inside (absolute, e.g. "/kaniko"). Relative host paths given later are taken
 * relative to the current directory now. */
struct sandbox *sandbox_new(const char *dir, const char *kaniko_dir);
void sandbox_free(struct sandbox *sb);
DEFINE_FREEP(struct sandbox, sandbox_free)

/* Makes host_path visible inside. The path (or, with SANDBOX_PATH_PARENT, its parent
 * directory) must exist: -ENOENT with err naming it. Call before sandbox_enter(). At most
 * SANDBOX_MAX_PATHS binds. */
#define SANDBOX_MAX_PATHS 256
int sandbox_add_path(struct sandbox *sb, const char *host_path, unsigned flags, struct lerr **err);

/* The path inside the sandbox for host_path (absolute, or relative to the directory current
 * at sandbox_new()), or NULL when no added path covers it. Caller frees. Works before and
 * after sandbox_enter(). */
char *sandbox_map_path(const struct sandbox *sb, const char *host_path);

/* Enters the sandbox. Call early in main, before any thread is created. Like fork(), it
 * returns twice:
 * - 0 in the sandbox: this process is now PID 1 of a new PID namespace, "/" is DIR, the
 *   current directory is "/", and pid1_init() has been done (signals forwarded to steps,
 *   children reaped). The build continues here with host paths rewritten by
 *   sandbox_map_path().
 * - 1 in the calling process once the sandbox has ended: *ret_status is its exit status
 *   (128 + N if it was killed by signal N). Meanwhile SIGTERM, SIGINT, SIGHUP and SIGQUIT
 *   were forwarded to it (the third one sends SIGKILL). The calling process itself stays in
 *   the machine's namespaces (an intermediate process creates them); it should just exit
 *   with the status.
 * On failure before the split, or inside the sandbox before the build could start, returns
 * -errno with err set (privilege errors explained, see common/priv.h). */
int sandbox_enter(struct sandbox *sb, int *ret_status, struct lerr **err);

/* How the user namespace was set up by sandbox_enter(), for messages and tests:
 * "none" (root), "subid" (newuidmap/newgidmap with /etc/subuid and /etc/subgid ranges) or
 * "single" (only the caller's uid and gid, mapped to 0). */
const char *sandbox_userns_mode(const struct sandbox *sb);
