/* epoll_loop: an epoll event loop over a pipe from a child, an in-process
 * pipe, an eventfd and a periodic timerfd, for the process-trees e2e
 * scenario.
 *
 *   epoll_loop [RECORDS=360] [TICK_MS=25]
 *
 * A forked writer child sends RECORDS records (seq k, value f(k)) on pipe A
 * in bursts of 4 every 2.5 TICK_MS, then closes it and exits with status 3.
 * The parent's epoll set holds A, pipe B (both ends its own), an eventfd and
 * a timerfd ticking every TICK_MS, each registered with data = tag << 32 | fd.
 * The parent may take one record from A per timer tick (it takes A out of
 * the set with EPOLL_CTL_DEL when it has no credit and adds it again at the
 * next tick: a hang-up is reported whatever the event mask), so
 * records wait in pipe A for most of the run. For each record k it writes k
 * into pipe B and adds k % 5 + 1 to the eventfd. Reading k from B prints
 * "step k: <hash>".
 *
 * Output depends on no timing: the step lines follow pipe B's order, and the
 * end prints the number of records taken from A and B and the eventfd total,
 * which must be exactly what was sent. Timer expirations pace the loop only.
 * Checked: every event's data names a known source with its own fd, the
 * records' values, the order of B, that the eventfd never gives more than was
 * added, that epoll_wait never waits 3 s for nothing (the timer must keep
 * firing, after a restart too), the writer's getppid(), and its exit status
 * 3 (reaped by its fork() pid). On a mismatch "FAIL: reason", exit 1. */
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
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <unistd.h>

#include "test_common.h"

enum { TAG_A = 0xA1, TAG_B = 0xB2, TAG_EVENT = 0xE3, TAG_TIMER = 0x74 };

struct record {
  uint64_t seq;
  uint64_t value;
};

static uint64_t record_value(uint64_t k) { return mix(0x65706f6c6cull, k); }

static void writer(int out, int records, int tick_ms, pid_t parent) {
  for (int k = 0; k < records; k++) {
    if (getppid() != parent)
      fail("writer: getppid() is %d, expected %d", (int)getppid(), (int)parent);
    struct record r = {(uint64_t)k, record_value((uint64_t)k)};
    write_all(out, &r, sizeof r, "writer");
    if (k % 4 == 3) msleep(tick_ms * 5 / 2);
  }
  close(out);
  _exit(3);
}

static int ep;

static void watch(int op, int fd, int tag, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)tag << 32 | (uint32_t)fd};
  if (epoll_ctl(ep, op, fd, &ev) != 0) fail("epoll_ctl(%d, fd %d): %s", op, fd, strerror(errno));
}

int main(int argc, char** argv) {
  int records = argc > 1 ? atoi(argv[1]) : 360;
  int tick_ms = argc > 2 ? atoi(argv[2]) : 25;
  if (records < 1 || tick_ms < 1) fail("usage: epoll_loop [RECORDS] [TICK_MS]");
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);

  int a[2], b[2];
  if (pipe(a) != 0 || pipe(b) != 0) fail("pipe: %s", strerror(errno));
  pid_t me = getpid();
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) fail("fork: %s", strerror(errno));
  if (child == 0) {
    close(a[0]);
    close(b[0]);
    close(b[1]);
    writer(a[1], records, tick_ms, me);
  }
  close(a[1]);

  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (efd < 0 || tfd < 0 || ep < 0) fail("eventfd/timerfd/epoll: %s", strerror(errno));
  struct itimerspec its = {{tick_ms / 1000, (long)(tick_ms % 1000) * 1000000L},
                           {tick_ms / 1000, (long)(tick_ms % 1000) * 1000000L}};
  if (timerfd_settime(tfd, 0, &its, NULL) != 0) fail("timerfd_settime: %s", strerror(errno));
  watch(EPOLL_CTL_ADD, a[0], TAG_A, EPOLLIN);
  watch(EPOLL_CTL_ADD, b[0], TAG_B, EPOLLIN);
  watch(EPOLL_CTL_ADD, efd, TAG_EVENT, EPOLLIN);
  watch(EPOLL_CTL_ADD, tfd, TAG_TIMER, EPOLLIN);

  int from_a = 0, from_b = 0, credit = 0, a_on = 1, a_open = 1;
  uint64_t ev_added = 0, ev_read = 0, ticks = 0, hash = 0;
  while (a_open || from_b < from_a || ev_read < ev_added) {
    struct epoll_event evs[8];
    int n = epoll_wait(ep, evs, 8, 3000);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("epoll_wait: %s", strerror(errno));
    if (n == 0) fail("epoll_wait: nothing ready for 3 s (the timer ticks every %d ms)", tick_ms);
    for (int i = 0; i < n; i++) {
      int tag = (int)(evs[i].data.u64 >> 32), fd = (int)(uint32_t)evs[i].data.u64;
      int want_fd = tag == TAG_A       ? a[0]
                    : tag == TAG_B     ? b[0]
                    : tag == TAG_EVENT ? efd
                    : tag == TAG_TIMER ? tfd
                                       : -1;
      if (want_fd < 0 || fd != want_fd)
        fail("epoll event with data %016" PRIx64 ": unknown source or wrong fd", evs[i].data.u64);
      if (tag == TAG_TIMER) {
        uint64_t e;
        if (read(tfd, &e, sizeof e) == sizeof e) {
          ticks += e;
          credit = credit < 2 ? credit + 1 : 2;
          if (!a_on && a_open) {
            watch(EPOLL_CTL_ADD, a[0], TAG_A, EPOLLIN);
            a_on = 1;
          }
        } else if (errno != EAGAIN) {
          fail("timerfd read: %s", strerror(errno));
        }
      } else if (tag == TAG_A) {
        if (!a_on || !a_open) fail("pipe A reported while switched off");
        if (credit == 0) {
          watch(EPOLL_CTL_DEL, a[0], TAG_A, 0);
          a_on = 0;
          continue;
        }
        struct record r;
        if (!read_all(a[0], &r, sizeof r, "pipe A")) {
          if (from_a != records)
            fail("pipe A closed after %d records, expected %d", from_a, records);
          watch(EPOLL_CTL_DEL, a[0], TAG_A, 0);
          close(a[0]);
          a_open = 0;
          continue;
        }
        credit--;
        if (r.seq != (uint64_t)from_a || r.value != record_value(r.seq))
          fail("record %d from A has seq %" PRIu64 " value %016" PRIx64, from_a, r.seq, r.value);
        from_a++;
        write_all(b[1], &r.seq, sizeof r.seq, "pipe B");
        uint64_t add = r.seq % 5 + 1;
        write_all(efd, &add, sizeof add, "eventfd");
        ev_added += add;
      } else if (tag == TAG_B) {
        uint64_t k;
        if (!read_all(b[0], &k, sizeof k, "pipe B")) fail("pipe B closed");
        if (k != (uint64_t)from_b) fail("pipe B gave %" PRIu64 ", expected %d", k, from_b);
        from_b++;
        hash = mix(hash, record_value(k));
        printf("step %" PRIu64 ": %016" PRIx64 "\n", k, hash);
      } else {
        uint64_t v;
        if (read(efd, &v, sizeof v) == sizeof v) {
          ev_read += v;
          if (ev_read > ev_added)
            fail("eventfd gave %" PRIu64 " in all, more than the %" PRIu64 " added", ev_read,
                 ev_added);
        } else if (errno != EAGAIN) {
          fail("eventfd read: %s", strerror(errno));
        }
      }
    }
  }
  expect_exit(child, 3, "reaping the writer");
  if (ticks == 0) fail("the timer never fired");
  printf("records from A %d, from B %d, eventfd total %" PRIu64 "\nOK\n", from_a, from_b, ev_read);
  return 0;
}
