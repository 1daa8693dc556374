/* SPDX-License-Identifier: Apache-2.0 */
/* The executor as an init process: one thread waits for signals on a signalfd, forwards fatal
 * ones to the running step's process group and reaps children (tini's model, STYLE.md §8).
 * It does not run steps itself: process.c forks them through pid1_fork_step(). */
#include "executor/pid1.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"

/* How long the group of a finished step may take to die after SIGKILL before we move on. */
#define GROUP_DRAIN_MS 5000

static const int fatal_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};

static struct {
        pthread_mutex_t lock;
        pthread_cond_t changed; /* a child was reaped */
        bool running;           /* the thread exists */
        bool subreaper;         /* we set PR_SET_CHILD_SUBREAPER */
        int sig_fd, stop_fd;
        pthread_t thread;
        sigset_t set;
        /* the running step; pid 0 when none */
        pid_t step_pid;
        bool step_done;
        int step_wstatus;
        int step_signal; /* first fatal signal forwarded */
} st = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .changed = PTHREAD_COND_INITIALIZER,
        .sig_fd = -1,
        .stop_fd = -1,
};

int pid1_exit_status(int wstatus)
{
        if (WIFEXITED(wstatus))
                return WEXITSTATUS(wstatus);
        if (WIFSIGNALED(wstatus))
                return 128 + WTERMSIG(wstatus);
        return 255;
}

/* sigabbrev_np(3) is glibc-only; the static build uses musl. */
const char *pid1_signal_name(int sig)
{
        switch (sig) {
        case SIGTERM:
                return "SIGTERM";
        case SIGINT:
                return "SIGINT";
        case SIGHUP:
                return "SIGHUP";
        case SIGQUIT:
                return "SIGQUIT";
        default:
                return "a signal";
        }
}

/* Caller holds st.lock. */
static int reap_locked(void)
{
        int n = 0;
        for (;;) {
                int ws;
                pid_t p = waitpid(-1, &ws, WNOHANG);
                if (p < 0 && errno == EINTR)
                        continue;
                if (p <= 0)
                        break;
                n++;
                if (p == st.step_pid) {
                        st.step_done = true;
                        st.step_wstatus = ws;
                }
        }
        if (n)
                (void) pthread_cond_broadcast(&st.changed);
        return n;
}

static void on_signal(int sig)
{
        (void) pthread_mutex_lock(&st.lock);
        if (sig == SIGCHLD) {
                if (st.step_pid > 0)
                        (void) reap_locked();
        } else if (st.step_pid > 0) {
                if (!st.step_signal) {
                        st.step_signal = sig;
                        log_info("received %s: forwarding it to the running step",
                                 pid1_signal_name(sig));
                        (void) kill(-st.step_pid, sig);
                } else {
                        log_warn("received %s again: killing the running step",
                                 pid1_signal_name(sig));
                        (void) kill(-st.step_pid, SIGKILL);
                }
        } else {
                (void) pthread_mutex_unlock(&st.lock);
                log_error("received %s: exiting with status %d", pid1_signal_name(sig), 128 + sig);
                _exit(128 + sig);
        }
        (void) pthread_mutex_unlock(&st.lock);
}

static void on_abort(int sig)
{
        _exit(128 + sig);
}

static void *signal_thread(void *arg)
{
        (void) arg;
        struct pollfd p[2] = {{.fd = st.sig_fd, .events = POLLIN},
                              {.fd = st.stop_fd, .events = POLLIN}};
        for (;;) {
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        log_error("wait for signals: %s", strerror(errno));
                        return NULL;
                }
                if (p[1].revents)
                        return NULL;
                struct signalfd_siginfo si;
                ssize_t n = read(st.sig_fd, &si, sizeof(si));
                if (n != (ssize_t) sizeof(si))
                        continue; /* EAGAIN: another reader, or a spurious wakeup */
                on_signal((int) si.ssi_signo);
        }
}

int pid1_init(struct lerr **err)
{
        int r;

        if (st.running)
                return 0;
        sigemptyset(&st.set);
        for (size_t i = 0; i < ARRAY_SIZE(fatal_signals); i++)
                sigaddset(&st.set, fatal_signals[i]);
        sigaddset(&st.set, SIGCHLD);

        /* PID 1 ignores signals it has no handler for, its own SIGABRT included: abort()
         * (out of memory, a sanitizer) would then spin instead of ending the build. */
        if (getpid() == 1) {
                struct sigaction sa = {.sa_handler = on_abort};
                if (sigaction(SIGABRT, &sa, NULL) < 0)
                        return lerr_errno(err, errno, "handle SIGABRT");
        }
        /* Not PID 1: become the reaper of orphaned step processes, as PID 1 is in a pod. */
        if (getpid() != 1) {
                if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                        return lerr_errno(err, errno, "become a child subreaper");
                st.subreaper = true;
        }
        r = pthread_sigmask(SIG_BLOCK, &st.set, NULL);
        if (r != 0)
                return lerr_errno(err, r, "block signals");
        st.sig_fd = signalfd(-1, &st.set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (st.sig_fd < 0) {
                r = lerr_errno(err, errno, "create a signalfd");
                pid1_done();
                return r;
        }
        st.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (st.stop_fd < 0) {
                r = lerr_errno(err, errno, "create an eventfd");
                pid1_done();
                return r;
        }
        r = pthread_create(&st.thread, NULL, signal_thread, NULL);
        if (r != 0) {
                r = lerr_errno(err, r, "start the signal thread");
                pid1_done();
                return r;
        }
        st.running = true;
        return 0;
}

void pid1_done(void)
{
        if (st.running) {
                uint64_t one = 1;
                (void) !write(st.stop_fd, &one, sizeof(one));
                (void) pthread_join(st.thread, NULL);
                st.running = false;
        }
        if (st.sig_fd >= 0)
                (void) close(st.sig_fd);
        if (st.stop_fd >= 0)
                (void) close(st.stop_fd);
        st.sig_fd = st.stop_fd = -1;
        (void) pthread_sigmask(SIG_UNBLOCK, &st.set, NULL);
        if (st.subreaper)
                (void) prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
        st.subreaper = false;
}

void pid1_child_reset_signals(void)
{
        struct sigaction sa = {.sa_handler = SIG_DFL};
        sigset_t none;

        for (int sig = 1; sig < _NSIG; sig++)
                (void) sigaction(sig, &sa, NULL); /* fails harmlessly for KILL, STOP, libc's */
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
}

pid_t pid1_fork_step(void)
{
        (void) pthread_mutex_lock(&st.lock);
        if (st.step_pid > 0) {
                (void) pthread_mutex_unlock(&st.lock);
                return -EBUSY;
        }
        /* The lock is held across fork so that the signal thread cannot reap the child
         * before it is registered; the child never touches the lock. */
        pid_t pid = fork();
        if (pid == 0) {
                (void) setpgid(0, 0);
                pid1_child_reset_signals();
                return 0;
        }
        if (pid < 0) {
                int e = errno;
                (void) pthread_mutex_unlock(&st.lock);
                return -e;
        }
        /* Also from the parent, so that the group exists before any signal is forwarded. */
        (void) setpgid(pid, pid);
        st.step_pid = pid;
        st.step_done = false;
        st.step_wstatus = 0;
        st.step_signal = 0;
        (void) pthread_mutex_unlock(&st.lock);
        return pid;
}

static void deadline_after(struct timespec *ts, long ms)
{
        (void) clock_gettime(CLOCK_REALTIME, ts);
        ts->tv_sec += ms / 1000;
        ts->tv_nsec += (ms % 1000) * 1000000L;
        if (ts->tv_nsec >= 1000000000L) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000L;
        }
}

/* Kills what is left of the step's process group and, when orphans come back to us (PID 1 or
 * subreaper, with the thread reaping), waits until the group is gone. Caller holds st.lock. */
static void drain_group_locked(pid_t pgid)
{
        struct timespec deadline;

        if (kill(-pgid, SIGKILL) < 0)
                return; /* ESRCH: nothing left */
        if (!st.running)
                return; /* the members are not our children: nobody here can reap them */
        deadline_after(&deadline, GROUP_DRAIN_MS);
        for (;;) {
                (void) reap_locked();
                /* zombies still count as members until reaped, so this ends only when all
                 * of them are gone */
                if (kill(-pgid, 0) < 0)
                        return;
                if (pthread_cond_timedwait(&st.changed, &st.lock, &deadline) == ETIMEDOUT) {
                        log_debug("process group %d still has members after SIGKILL", pgid);
                        return;
                }
        }
}

int pid1_wait_step(pid_t pid, int *ret_wstatus)
{
        (void) pthread_mutex_lock(&st.lock);
        if (pid <= 0 || st.step_pid != pid) {
                (void) pthread_mutex_unlock(&st.lock);
                return -ECHILD;
        }
        if (st.running) {
                for (;;) {
                        (void) reap_locked();
                        if (st.step_done)
                                break;
                        (void) pthread_cond_wait(&st.changed, &st.lock);
                }
        } else {
                int ws;
                pid_t p;
                (void) pthread_mutex_unlock(&st.lock);
                do
                        p = waitpid(pid, &ws, 0);
                while (p < 0 && errno == EINTR);
                (void) pthread_mutex_lock(&st.lock);
                if (p != pid) {
                        int e = p < 0 ? errno : ECHILD;
                        st.step_pid = 0;
                        (void) pthread_mutex_unlock(&st.lock);
                        return -e;
                }
                st.step_done = true;
                st.step_wstatus = ws;
        }
        int wstatus = st.step_wstatus;
        drain_group_locked(pid);
        /* read after the drain: a signal that came while the group died still counts */
        int sig = st.step_signal;
        st.step_pid = 0;
        st.step_done = false;
        st.step_signal = 0;
        (void) pthread_mutex_unlock(&st.lock);
        *ret_wstatus = wstatus;
        return sig;
}

int pid1_reap(void)
{
        (void) pthread_mutex_lock(&st.lock);
        int n = reap_locked();
        (void) pthread_mutex_unlock(&st.lock);
        return n;
}
