/* proc_pipes: a parent and three worker children joined by pipes, plus a
 * grandchild and a zombie, for the process-trees e2e scenario.
 *
 *   proc_pipes [STEPS=60] [PAUSE_MS=150]
 *
 * The parent forks Z (exits at once with status 23; the parent waits for it
 * with WNOWAIT and leaves it a zombie until the very end), then workers W0..W2,
 * each with a work pipe (parent -> worker) and a result pipe (worker ->
 * parent). W0 forks a grandchild G that answers W0's requests over two more
 * pipes. Per step s the parent sends SIGUSR1 to W(s % 3) by the pid fork()
 * returned, writes the work item of step s+AHEAD to every worker (a header
 * and a PAYLOAD-byte deterministic stream), sleeps PAUSE_MS, and reads the
 * results of step s-LAG. A worker reads a header, "computes" for 3/4 of
 * PAUSE_MS, then reads and checks the payload byte for byte, so work and
 * results are in flight in both directions at any moment.
 *
 * Checked (any mismatch prints "FAIL: reason", exit 1):
 *   - each worker: getppid() is the parent's pid (recorded before fork) at
 *     every item, its SIGUSR1 count is at least the number the parent had
 *     sent before writing the item, and exactly the number sent at the end;
 *     the payload equals the expected stream; G's getppid() is W0;
 *   - the parent: every result (step, value, answer including G's reply)
 *     equals its own computation; Z stays waitable (waitid WNOWAIT) with
 *     status 23 at every step; at the end it reaps W0..W2 by their fork()
 *     pids with exit statuses 10, 11, 12 (W0 first reaps G: status 7), then
 *     Z with 23, and then has no child left.
 * Stdout: "step N: <3 answers>" per step, then a checksum and "OK". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_common.h"

#define NW 3
#define AHEAD 3
#define LAG 2
#define PAYLOAD 4096
#define MAX_STEPS 10000
#define FINISH (-1)

struct item {
  int32_t step; /* FINISH: reply with the final SIGUSR1 count */
  int32_t sigs_min;
  uint64_t value;
};

struct result {
  int32_t step;
  int32_t sigs;
  uint64_t value;
  uint64_t answer;
};

static volatile sig_atomic_t usr1_count;
static void on_usr1(int sig) {
  (void)sig;
  usr1_count++;
}

static uint64_t item_value(int step, int w) { return mix(mix(0x70726f63ull, (uint64_t)step), w); }
static uint64_t grand_answer(uint64_t v) { return mix(v, 0x6772616e64ull); }

static uint64_t work_answer(int w, uint64_t v) {
  uint64_t h = v;
  for (int i = 0; i < 5000; i++) h = mix(h, (uint64_t)(w + i));
  return h;
}

static void fill_payload(unsigned char* buf, int step, int w) {
  uint64_t h = item_value(step, w);
  for (int i = 0; i < PAYLOAD; i++) {
    if (i % 8 == 0) h = mix(h, (uint64_t)i);
    buf[i] = (unsigned char)(h >> (8 * (i % 8)));
  }
}

/* --- Grandchild: answers W0's requests until the request pipe closes ---------- */

static void grandchild(int req, int resp, pid_t w0) {
  uint64_t v;
  while (read_all(req, &v, sizeof v, "grandchild request")) {
    if (getppid() != w0)
      fail("grandchild: getppid() is %d, expected W0 %d", (int)getppid(), (int)w0);
    uint64_t a = grand_answer(v);
    write_all(resp, &a, sizeof a, "grandchild answer");
  }
  _exit(7);
}

/* --- Worker ------------------------------------------------------------------- */

static void worker(int w, int in, int out, pid_t parent, int pause_ms) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGUSR1, &sa, NULL) != 0) fail("W%d: sigaction: %s", w, strerror(errno));
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_UNBLOCK, &usr1, NULL); /* blocked by the parent until the handler is set */
  char who[32];
  snprintf(who, sizeof who, "W%d", w);

  pid_t g = -1;
  int req[2] = {-1, -1}, resp[2] = {-1, -1};
  if (w == 0) {
    pid_t me = getpid();
    if (pipe(req) != 0 || pipe(resp) != 0) fail("W0: pipe: %s", strerror(errno));
    g = fork();
    if (g < 0) fail("W0: fork: %s", strerror(errno));
    if (g == 0) {
      close(req[1]);
      close(resp[0]);
      close(in);
      close(out);
      grandchild(req[0], resp[1], me);
    }
    close(req[0]);
    close(resp[1]);
  }

  static unsigned char payload[PAYLOAD], want[PAYLOAD];
  for (;;) {
    struct item it;
    if (!read_all(in, &it, sizeof it, who))
      fail("%s: work pipe closed before the finish item", who);
    if (getppid() != parent)
      fail("%s: getppid() is %d, expected the parent %d", who, (int)getppid(), (int)parent);
    if (it.step == FINISH) {
      struct result r = {FINISH, (int32_t)usr1_count, 0, 0};
      if (r.sigs != it.sigs_min)
        fail("%s: got %d SIGUSR1 in all, the parent sent %d", who, r.sigs, it.sigs_min);
      write_all(out, &r, sizeof r, who);
      break;
    }
    if (usr1_count < it.sigs_min)
      fail("%s step %d: %d SIGUSR1 handled, the parent had sent %d before this item", who, it.step,
           (int)usr1_count, it.sigs_min);
    if (it.value != item_value(it.step, w)) fail("%s step %d: bad item value", who, it.step);
    msleep(pause_ms * 3 / 4); /* the payload stays in the pipe meanwhile */
    if (!read_all(in, payload, PAYLOAD, who)) fail("%s: end of file in a payload", who);
    fill_payload(want, it.step, w);
    if (memcmp(payload, want, PAYLOAD) != 0)
      fail("%s step %d: payload differs from the expected stream", who, it.step);
    struct result r = {it.step, (int32_t)usr1_count, it.value, work_answer(w, it.value)};
    if (w == 0) {
      uint64_t ga;
      write_all(req[1], &it.value, sizeof it.value, "W0 request");
      if (!read_all(resp[0], &ga, sizeof ga, "W0 answer")) fail("W0: grandchild closed its pipe");
      r.answer = mix(r.answer, ga);
    }
    write_all(out, &r, sizeof r, who);
  }
  char extra;
  if (read(in, &extra, 1) != 0) fail("%s: data after the finish item", who);
  if (w == 0) {
    close(req[1]);
    expect_exit(g, 7, "W0 reaping the grandchild");
  }
  _exit(10 + w);
}

/* --- Parent ------------------------------------------------------------------- */

static pid_t wpid[NW];
static int work_fd[NW], result_fd[NW];
static int sent[NW];
static int32_t sigs_min[NW][MAX_STEPS];

static void send_item(int w, int step) {
  static unsigned char buf[sizeof(struct item) + PAYLOAD];
  struct item it = {step, sent[w], item_value(step, w)};
  sigs_min[w][step] = sent[w];
  memcpy(buf, &it, sizeof it);
  fill_payload(buf + sizeof it, step, w);
  write_all(work_fd[w], buf, sizeof buf, "parent work write");
}

static uint64_t receive(int w, int step) {
  struct result r;
  if (!read_all(result_fd[w], &r, sizeof r, "parent result read"))
    fail("W%d closed its result pipe", w);
  uint64_t want = work_answer(w, item_value(step, w));
  if (w == 0) want = mix(want, grand_answer(item_value(step, w)));
  if (r.step != step || r.value != item_value(step, w) || r.answer != want)
    fail("step %d: W%d result is step %d value %016" PRIx64 " answer %016" PRIx64
         ", expected %016" PRIx64,
         step, w, r.step, r.value, r.answer, want);
  if (r.sigs < sigs_min[w][step])
    fail("step %d: W%d reports %d SIGUSR1, fewer than sent", step, w, r.sigs);
  return r.answer;
}

static void check_zombie(pid_t z, int step) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (waitid(P_PID, (id_t)z, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
    fail("step %d: waitid(zombie %d, WNOWAIT): %s", step, (int)z, strerror(errno));
  if (si.si_pid != z || si.si_code != CLD_EXITED || si.si_status != 23)
    fail("step %d: zombie %d: waitid gives pid %d code %d status %d, expected exited with 23", step,
         (int)z, (int)si.si_pid, si.si_code, si.si_status);
}

int main(int argc, char** argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 60;
  int pause_ms = argc > 2 ? atoi(argv[2]) : 150;
  if (steps < 1 || steps > MAX_STEPS || pause_ms < 1) fail("usage: proc_pipes [STEPS] [PAUSE_MS]");
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  pid_t me = getpid();

  fflush(stdout);
  pid_t z = fork();
  if (z < 0) fail("fork: %s", strerror(errno));
  if (z == 0) _exit(23);
  siginfo_t si;
  if (waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT) != 0)
    fail("waitid(zombie): %s", strerror(errno));

  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  for (int w = 0; w < NW; w++) {
    int a[2], b[2];
    if (pipe(a) != 0 || pipe(b) != 0) fail("pipe: %s", strerror(errno));
    wpid[w] = fork();
    if (wpid[w] < 0) fail("fork: %s", strerror(errno));
    if (wpid[w] == 0) {
      close(a[1]);
      close(b[0]);
      for (int k = 0; k < w; k++) {
        close(work_fd[k]);
        close(result_fd[k]);
      }
      worker(w, a[0], b[1], me, pause_ms);
    }
    close(a[0]);
    close(b[1]);
    work_fd[w] = a[1];
    result_fd[w] = b[0];
  }

  sigprocmask(SIG_UNBLOCK, &usr1, NULL);
  for (int s = 0; s < AHEAD && s < steps; s++)
    for (int w = 0; w < NW; w++) send_item(w, s);
  uint64_t sum = 0;
  for (int s = 0; s < steps + LAG; s++) {
    if (s < steps) {
      int w = s % NW;
      if (kill(wpid[w], SIGUSR1) != 0)
        fail("step %d: kill(W%d = %d): %s", s, w, (int)wpid[w], strerror(errno));
      sent[w]++;
      if (s + AHEAD < steps)
        for (int k = 0; k < NW; k++) send_item(k, s + AHEAD);
      msleep(pause_ms);
      check_zombie(z, s);
    }
    int r = s - LAG;
    if (r < 0) continue;
    uint64_t a[NW];
    for (int w = 0; w < NW; w++) {
      a[w] = receive(w, r);
      sum = mix(sum, a[w]);
    }
    printf("step %d: %016" PRIx64 " %016" PRIx64 " %016" PRIx64 "\n", r, a[0], a[1], a[2]);
  }

  for (int w = 0; w < NW; w++) {
    struct item fin = {FINISH, sent[w], 0};
    write_all(work_fd[w], &fin, sizeof fin, "parent finish write");
    struct result r;
    if (!read_all(result_fd[w], &r, sizeof r, "parent final read"))
      fail("W%d closed its result pipe", w);
    if (r.step != FINISH || r.sigs != sent[w])
      fail("W%d final reply: step %d, %d SIGUSR1 (sent %d)", w, r.step, r.sigs, sent[w]);
    close(work_fd[w]);
    char what[32];
    snprintf(what, sizeof what, "reaping W%d", w);
    expect_exit(wpid[w], 10 + w, what);
    close(result_fd[w]);
  }
  check_zombie(z, steps);
  expect_exit(z, 23, "reaping the zombie");
  if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
    fail("a child is left after reaping all");
  printf("checksum %016" PRIx64 "\nOK\n", sum);
  return 0;
}
