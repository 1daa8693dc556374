/* SPDX-License-Identifier: Apache-2.0 */
/* Signals and children, the tini way, whether the executor is PID 1 (a pod, the sandbox's PID
 * namespace) or an ordinary process:
 * - pid1_init() blocks SIGTERM, SIGINT, SIGHUP, SIGQUIT and SIGCHLD (so every thread created
 *   afterwards has them blocked too), makes the executor a child subreaper when it is not
 *   PID 1 (orphans of RUN steps come back to it instead of the machine's init), and starts
 *   one thread that waits for those signals on a signalfd.
 * - While a step runs: a fatal signal (TERM, INT, HUP, QUIT) is forwarded to the step's
 *   process group, a second one sends SIGKILL; SIGCHLD reaps every zombie child with
 *   waitpid(-1), recording the step's own status. The step's wait reports the forwarded
 *   signal so that the build ends with 128 + N.
 * - While no step runs: a fatal signal ends the executor at once with exit status 128 + N;
 *   children are not reaped then, so that code waiting for its own helper processes (e.g.
 *   credential helpers) keeps working. Nothing else may wait for children while a step runs.
 * Without pid1_init() the step functions still work: they wait for the step directly, and
 * signals keep their default actions. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct lerr;

/* Call first in main, after --sandbox has been entered and before any thread is created.
 * Idempotent. Returns 0 or -errno with err set. */
int pid1_init(struct lerr **err);
/* Stops the thread, unblocks the signals and drops the subreaper flag (for tests; a normal
 * exit needs no call). */
void pid1_done(void);

/* Forks a step. Returns 0 in the child, which is then in its own process group with the
 * default signal mask and dispositions, and must only run async-signal-safe code and exec or
 * _exit. Returns the child's pid in the parent, the step now registered as running (one at a
 * time: -EBUSY), or -errno. */
pid_t pid1_fork_step(void);

/* Waits for the registered step pid to end and fills *ret_wstatus with its wait(2) status.
 * Then kills what is left of its process group (background jobs of a RUN step, as Kaniko
 * does) and reaps every zombie child, waiting at most a few seconds for the group to go.
 * Returns the fatal signal number forwarded to the step while it ran, 0 when none, or -errno
 * (-ECHILD: pid is not the running step). */
int pid1_wait_step(pid_t pid, int *ret_wstatus);

/* Reaps zombie children now; returns how many. For the end of a build; see the note above
 * about children other code waits for. */
int pid1_reap(void);

/* In a forked child: default dispositions for every signal and an empty mask. Async-signal
 * safe. */
void pid1_child_reset_signals(void);

/* "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"; "a signal" for others. */
const char *pid1_signal_name(int sig);

/* The exit status for a wait(2) status, as shells report it: the exit code, or 128 + N when
 * killed by signal N. */
int pid1_exit_status(int wstatus);
