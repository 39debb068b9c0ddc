/* shared_offset: a parent and a child writing through one shared open file
 * description, for the process-trees e2e scenario.
 *
 *   shared_offset [STEPS=60] [PAUSE_MS=75]
 *
 * Before fork the parent opens data.txt (O_WRONLY, no O_APPEND: parent and
 * child share its file offset) and log.txt (O_APPEND), and own.txt, which it
 * dup()s and keeps to itself. Parent and child take turns, passing a token
 * over two pipes: turn k (the parent's when k is even) writes record k at the
 * shared offset of data.txt with a plain write() and a line to log.txt,
 * sleeps PAUSE_MS and passes the token. Before writing, each checks that the
 * shared offset (lseek(fd, 0, SEEK_CUR)) is the total length of the records
 * so far: the other process's writes must have moved it. After the child's
 * turn the parent writes a line to own.txt through the original and the dup
 * in turn and checks that both see the same offset, then prints
 * "step s: <offset>".
 * At the end the child exits with status 6 (reaped by its fork() pid) and
 * the parent reads data.txt and log.txt back and compares them byte for byte
 * with what it expects. Both check their getppid()/pid relation every turn.
 * On a mismatch "FAIL: reason", exit 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "test_common.h"

static int data_fd, log_fd;

static int record(int k, char* buf, size_t cap) {
  char pad[16];
  int plen = k % 13;
  for (int i = 0; i < plen; i++) pad[i] = (char)('a' + (k + i) % 26);
  pad[plen] = 0;
  int n = snprintf(buf, cap, "rec %d by %s %s\n", k, k % 2 ? "child" : "parent", pad);
  if (n < 0 || (size_t)n >= cap) fail("record %d too long", k);
  return n;
}

static int log_line(int k, char* buf, size_t cap) {
  return snprintf(buf, cap, "turn %d %c\n", k, k % 2 ? 'C' : 'P');
}

static off_t records_length(int upto) {
  char buf[128];
  off_t n = 0;
  for (int k = 0; k < upto; k++) n += record(k, buf, sizeof buf);
  return n;
}

/* One turn: record k at the shared offset, one line to the shared log. */
static void take_turn(int k, const char* who) {
  off_t at = lseek(data_fd, 0, SEEK_CUR);
  if (at != records_length(k))
    fail("%s turn %d: the shared offset is %lld, expected %lld", who, k, (long long)at,
         (long long)records_length(k));
  char buf[128];
  int n = record(k, buf, sizeof buf);
  write_all(data_fd, buf, (size_t)n, "data.txt");
  n = log_line(k, buf, sizeof buf);
  write_all(log_fd, buf, (size_t)n, "log.txt");
}

static void child(int in, int out, int turns, int pause_ms, pid_t parent) {
  int k;
  while (read_all(in, &k, sizeof k, "child token")) {
    if (getppid() != parent)
      fail("child: getppid() is %d, expected %d", (int)getppid(), (int)parent);
    if (k % 2 != 1 || k >= turns) fail("child: got token %d", k);
    take_turn(k, "child");
    msleep(pause_ms);
    k++;
    write_all(out, &k, sizeof k, "child token");
  }
  _exit(6);
}

static void compare_file(const char* path, int turns, int (*line)(int, char*, size_t)) {
  FILE* f = fopen(path, "r");
  if (!f) fail("%s: %s", path, strerror(errno));
  static char got[1 << 16];
  size_t n = fread(got, 1, sizeof got, f);
  fclose(f);
  size_t at = 0;
  char buf[128];
  for (int k = 0; k < turns; k++) {
    size_t len = (size_t)line(k, buf, sizeof buf);
    if (at + len > n || memcmp(got + at, buf, len) != 0)
      fail("%s: entry %d at byte %zu is not \"%.*s\"", path, k, at, (int)len - 1, buf);
    at += len;
  }
  if (at != n) fail("%s: %zu bytes, expected %zu", path, n, at);
}

int main(int argc, char** argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 60;
  int pause_ms = argc > 2 ? atoi(argv[2]) : 75;
  if (steps < 1 || steps > 2000 || pause_ms < 1) fail("usage: shared_offset [STEPS] [PAUSE_MS]");
  int turns = 2 * steps;
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);

  data_fd = open("data.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  log_fd = open("log.txt", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  int own = open("own.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int own_dup = dup(own);
  if (data_fd < 0 || log_fd < 0 || own < 0 || own_dup < 0) fail("open: %s", strerror(errno));
  int p2c[2], c2p[2];
  if (pipe(p2c) != 0 || pipe(c2p) != 0) fail("pipe: %s", strerror(errno));
  pid_t me = getpid();
  fflush(stdout);
  pid_t kid = fork();
  if (kid < 0) fail("fork: %s", strerror(errno));
  if (kid == 0) {
    close(p2c[1]);
    close(c2p[0]);
    close(own);
    close(own_dup);
    child(p2c[0], c2p[1], turns, pause_ms, me);
  }
  close(p2c[0]);
  close(c2p[1]);

  off_t own_len = 0;
  for (int s = 0; s < steps; s++) {
    int k = 2 * s;
    take_turn(k, "parent");
    msleep(pause_ms);
    k++;
    write_all(p2c[1], &k, sizeof k, "parent token");
    if (!read_all(c2p[0], &k, sizeof k, "parent token"))
      fail("step %d: the child closed its token pipe", s);
    if (k != 2 * s + 2) fail("step %d: the child passed token %d, expected %d", s, k, 2 * s + 2);
    if (getpid() != me) fail("step %d: getpid() is %d, was %d", s, (int)getpid(), (int)me);

    int fd = s % 2 ? own_dup : own;
    off_t a = lseek(own, 0, SEEK_CUR), b = lseek(own_dup, 0, SEEK_CUR);
    if (a != own_len || b != own_len)
      fail("step %d: own.txt offsets %lld (fd) and %lld (dup), expected %lld", s, (long long)a,
           (long long)b, (long long)own_len);
    char buf[64];
    int n = snprintf(buf, sizeof buf, "step %d via %s\n", s, s % 2 ? "dup" : "fd");
    write_all(fd, buf, (size_t)n, "own.txt");
    own_len += n;
    printf("step %d: data.txt at %lld\n", s, (long long)lseek(data_fd, 0, SEEK_CUR));
  }
  close(p2c[1]);
  expect_exit(kid, 6, "reaping the child");
  compare_file("data.txt", turns, record);
  compare_file("log.txt", turns, log_line);
  printf("own.txt %lld bytes\nOK\n", (long long)own_len);
  return 0;
}
