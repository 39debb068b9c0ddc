/* A daemon that stays part of the computation: the program forks a child
 * that calls setsid() and forks again (the daemon), then exits; the parent
 * reaps that intermediate. The daemon, orphaned in its own session, streams
 * numbered records to the parent over a pipe and answers its requests over
 * another. Each step the daemon checks its session and process group (the
 * intermediate's pid, sent at the start) and the parent checks the records
 * and the daemon's pid; at the end the parent sends SIGTERM to the daemon by
 * its pre-checkpoint pid and waits for its goodbye.
 *
 *   daemon_tree STEPS STEP_MS */
#include <signal.h>
#include <stdlib.h>

#include "test_common.h"

struct record {
  int32_t step, daemon_pid, sid, pgrp;
  uint64_t hash;
};

static volatile sig_atomic_t g_term = 0;
static void on_term(int sig) {
  (void)sig;
  g_term = 1;
}

static void run_daemon(int requests, int records, pid_t intermediate) {
  // SIGTERM stays blocked but while waiting for it in sigsuspend: one that
  // came between a test of g_term and pause() would be missed for good.
  sigset_t term, waiting;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_BLOCK, &term, &waiting);
  sigdelset(&waiting, SIGTERM);
  signal(SIGTERM, on_term);
  if (getsid(0) != intermediate) fail("daemon: session %d, want %d", getsid(0), intermediate);
  uint64_t h = 1;
  int32_t step;
  while (read_all(requests, &step, sizeof(step), "daemon request")) {
    if (getsid(0) != intermediate || getpgrp() != intermediate)
      fail("daemon: session %d group %d, want %d", getsid(0), getpgrp(), intermediate);
    h = mix(h, (uint64_t)step);
    struct record r = {step, getpid(), getsid(0), getpgrp(), h};
    write_all(records, &r, sizeof(r), "daemon record");
  }
  while (!g_term) sigsuspend(&waiting);
  struct record bye = {-1, getpid(), 0, 0, h};
  write_all(records, &bye, sizeof(bye), "daemon goodbye");
  _exit(0);
}

int main(int argc, char** argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 40;
  int step_ms = argc > 2 ? atoi(argv[2]) : 150;
  int req[2], rec[2], pid_pipe[2];
  if (pipe(req) || pipe(rec) || pipe(pid_pipe)) fail("pipe");
  pid_t intermediate = fork();
  if (intermediate < 0) fail("fork");
  if (intermediate == 0) {
    close(req[1]);
    close(rec[0]);
    close(pid_pipe[0]);
    if (setsid() < 0) fail("setsid");
    pid_t me = getpid();
    pid_t daemon = fork();
    if (daemon < 0) fail("fork daemon");
    if (daemon == 0) {
      close(pid_pipe[1]);
      run_daemon(req[0], rec[1], me);
    }
    write_all(pid_pipe[1], &daemon, sizeof(daemon), "daemon pid");
    _exit(0);
  }
  close(req[0]);
  close(rec[1]);
  close(pid_pipe[1]);
  pid_t daemon;
  if (!read_all(pid_pipe[0], &daemon, sizeof(daemon), "daemon pid")) fail("no daemon pid");
  expect_exit(intermediate, 0, "intermediate");
  uint64_t h = 1;
  for (int32_t step = 0; step < steps; step++) {
    write_all(req[1], &step, sizeof(step), "request");
    struct record r;
    if (!read_all(rec[0], &r, sizeof(r), "record")) fail("daemon gone at step %d", step);
    h = mix(h, (uint64_t)step);
    if (r.step != step || r.hash != h) fail("record %d: step %d hash mismatch", step, r.step);
    if (r.daemon_pid != daemon) fail("daemon pid %d, fork said %d", r.daemon_pid, daemon);
    if (r.sid != intermediate || r.pgrp != intermediate)
      fail("daemon session %d group %d, want %d", r.sid, r.pgrp, intermediate);
    if (getsid(0) == r.sid) fail("the daemon shares the parent's session");
    printf("step %d hash %016llx\n", step, (unsigned long long)h);
    fflush(stdout);
    msleep(step_ms);
  }
  close(req[1]);
  if (kill(daemon, SIGTERM) != 0) fail("kill daemon %d: %s", daemon, strerror(errno));
  struct record bye;
  if (!read_all(rec[0], &bye, sizeof(bye), "goodbye") || bye.step != -1 || bye.hash != h)
    fail("no goodbye from the daemon");
  printf("OK daemon finished, hash %016llx\n", (unsigned long long)h);
  return 0;
}
