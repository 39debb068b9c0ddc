/* blocked_read: a single-threaded process that blocks every signal and spends
 * its life blocked in read() on a pipe, for the e2e scenario of a checkpoint
 * requested while the only application thread sits in a system call.
 *
 *   blocked_read [RECORDS=120] [GAP_MS=100]
 *
 * Both processes block all signals with sigprocmask(SIG_SETMASK, full) before
 * anything else and never create a thread. A forked writer child sends
 * RECORDS records (seq k, value f(k)) on a pipe, one every GAP_MS, then
 * closes it and exits with status 5. The parent reads each record with a
 * plain blocking read() of the whole record (no EINTR retry: a read()
 * interrupted by a signal the application never unblocked would be a bug the
 * test must see) and prints "step k: <hash>", then the record count and the
 * final hash at end of file.
 *
 * Output depends on no timing. Checked: each record's sequence and value, that
 * no read() returns short or fails (EINTR included), that the signal mask
 * still reads back as every signal but SIGKILL/SIGSTOP after every record (so
 * after each restart), the writer's getppid(), and its exit status 5. On a
 * mismatch "FAIL: reason", exit 1. */
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
#include <unistd.h>

#include "test_common.h"

struct record {
  uint64_t seq;
  uint64_t value;
};

static uint64_t record_value(uint64_t k) { return mix(0x626c6f636bull, k); }

static void block_every_signal(void) {
  sigset_t full;
  sigfillset(&full);
  if (sigprocmask(SIG_SETMASK, &full, NULL) != 0) fail("sigprocmask: %s", strerror(errno));
}

/* The mask the application set must read back whole (SIGKILL and SIGSTOP
 * cannot be blocked), whatever the runtime keeps unblocked underneath. */
static void check_mask(const char* who) {
  sigset_t now;
  if (sigprocmask(SIG_SETMASK, NULL, &now) != 0) fail("%s: sigprocmask read-back", who);
  for (int s = 1; s < NSIG; s++) {
    if (s == SIGKILL || s == SIGSTOP || (s > 31 && s < SIGRTMIN)) continue;
    if (!sigismember(&now, s)) fail("%s: signal %d is not blocked any more", who, s);
  }
}

static void writer(int out, int records, int gap_ms, pid_t parent) {
  for (int k = 0; k < records; k++) {
    if (getppid() != parent)
      fail("writer: getppid() is %d, expected %d", (int)getppid(), (int)parent);
    struct record r = {(uint64_t)k, record_value((uint64_t)k)};
    write_all(out, &r, sizeof r, "writer");
    msleep(gap_ms);
    check_mask("writer");
  }
  close(out);
  _exit(5);
}

int main(int argc, char** argv) {
  int records = argc > 1 ? atoi(argv[1]) : 120;
  int gap_ms = argc > 2 ? atoi(argv[2]) : 100;
  block_every_signal();
  setvbuf(stdout, NULL, _IOLBF, 0);
  int p[2];
  if (pipe(p) != 0) fail("pipe: %s", strerror(errno));
  pid_t parent = getpid();
  pid_t child = fork();
  if (child < 0) fail("fork: %s", strerror(errno));
  if (child == 0) {
    close(p[0]);
    writer(p[1], records, gap_ms, parent);
  }
  close(p[1]);
  uint64_t hash = 0x626c6f636b6564ull;
  int n = 0;
  for (;;) {
    struct record r;
    ssize_t got = read(p[0], &r, sizeof r);  // blocks most of the time
    if (got == 0) break;
    if (got < 0)
      fail("read: %s (signals are all blocked: nothing may interrupt it)", strerror(errno));
    if (got != (ssize_t)sizeof r) fail("read: %zd of %zu bytes", got, sizeof r);
    if (r.seq != (uint64_t)n) fail("record %d has sequence %" PRIu64, n, r.seq);
    if (r.value != record_value(r.seq)) fail("record %d has a wrong value", n);
    check_mask("reader");
    hash = mix(hash, r.value);
    printf("step %d: %016" PRIx64 "\n", n, hash);
    n++;
  }
  if (n != records) fail("%d records of %d", n, records);
  expect_exit(child, 5, "writer");
  printf("records %d hash %016" PRIx64 "\n", n, hash);
  return 0;
}
