/* socket_stream: a writer child streams to its parent over four sockets
 * while the parent reads slowly, so every socket holds bytes in flight (in
 * the receiver's queue, and for TCP in the sender's send queue) at any
 * moment; for the sockets e2e scenario.
 *
 *   socket_stream [STEPS=60] [PAUSE_MS=100]
 *
 * Channels (the parent made them before it forked the writer W):
 *   0  a UNIX stream socketpair;
 *   1  TCP over 127.0.0.1: the parent listens on an ephemeral port, W
 *      connects, the parent accepts and closes its listener;
 *   2  a UNIX stream connection to the parent's listener on the relative
 *      path "stream.sock" (the listener stays open);
 *   3  a UNIX seqpacket socketpair carrying messages of 1..2000 bytes.
 * W writes, per step, CHUNK bytes of a deterministic pseudo-random stream on
 * channels 0..2 and MSGS messages on channel 3, as fast as the sockets take
 * them; then shuts every channel down for writing and waits for the
 * parent's checksum on channel 0, which it checks against its own (exit 10).
 * The parent reads one step's worth per channel, checks every byte and
 * every message boundary, prints "step N: <hash>", sleeps PAUSE_MS; at the
 * end it reads end-of-file on every channel, answers W and reaps it.
 * Any mismatch prints "FAIL: reason" and exits 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "test_common.h"

#define NCH 4
#define CHUNK 32768
#define MSGS 8
#define MAX_MSG 2000

static uint64_t next(uint64_t* s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return *s;
}

static void fill(uint64_t* state, unsigned char* buf, size_t n) {
  for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)(next(state) >> 56);
}

static size_t msg_len(uint64_t* state) { return 1 + (size_t)(next(state) >> 33) % MAX_MSG; }

static void send_msg(int fd, const void* buf, size_t n) {
  for (;;) {
    ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w != (ssize_t)n) fail("seqpacket send of %zu: %zd (%s)", n, w, strerror(errno));
    return;
  }
}

static ssize_t recv_msg(int fd, void* buf, size_t n) {
  for (;;) {
    ssize_t r = recv(fd, buf, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail("seqpacket recv: %s", strerror(errno));
    return r;
  }
}

static void writer(int fds[NCH], int steps) {
  uint64_t st[NCH] = {1, 2, 3, 4};
  static unsigned char buf[CHUNK];
  uint64_t sum = 0;
  for (int s = 0; s < steps; s++) {
    for (int c = 0; c < 3; c++) {
      fill(&st[c], buf, CHUNK);
      for (int i = 0; i < CHUNK; i++) sum = mix(sum, buf[i]);
      write_all(fds[c], buf, CHUNK, "writer stream");
    }
    for (int m = 0; m < MSGS; m++) {
      size_t n = msg_len(&st[3]);
      fill(&st[3], buf, n);
      send_msg(fds[3], buf, n);
    }
  }
  for (int c = 0; c < NCH; c++)
    if (shutdown(fds[c], SHUT_WR) != 0) fail("writer shutdown %d: %s", c, strerror(errno));
  uint64_t theirs = 0;
  if (!read_all(fds[0], &theirs, sizeof(theirs), "writer: parent's checksum"))
    fail("writer: no checksum from the parent");
  if (theirs != sum)
    fail("writer: checksum %" PRIx64 " from the parent, expected %" PRIx64, theirs, sum);
  _exit(10);
}

int main(int argc, char** argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 60;
  int pause_ms = argc > 2 ? atoi(argv[2]) : 100;
  setvbuf(stdout, NULL, _IOLBF, 0);

  int pair[2], seq[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) fail("socketpair: %s", strerror(errno));
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, seq) != 0) fail("socketpair: %s", strerror(errno));
  int tl = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(in);
  if (tl < 0 || bind(tl, (struct sockaddr*)&in, sizeof(in)) != 0 || listen(tl, 4) != 0 ||
      getsockname(tl, (struct sockaddr*)&in, &len) != 0)
    fail("tcp listener: %s", strerror(errno));
  int ul = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  strcpy(un.sun_path, "stream.sock");
  unlink(un.sun_path);
  if (ul < 0 || bind(ul, (struct sockaddr*)&un, sizeof(un)) != 0 || listen(ul, 4) != 0)
    fail("unix listener: %s", strerror(errno));

  pid_t w = fork();
  if (w < 0) fail("fork: %s", strerror(errno));
  if (w == 0) {
    close(pair[0]);
    close(seq[0]);
    close(tl);
    close(ul);
    int fds[NCH] = {pair[1], socket(AF_INET, SOCK_STREAM, 0), socket(AF_UNIX, SOCK_STREAM, 0),
                    seq[1]};
    if (connect(fds[1], (struct sockaddr*)&in, sizeof(in)) != 0)
      fail("tcp connect: %s", strerror(errno));
    if (connect(fds[2], (struct sockaddr*)&un, sizeof(un)) != 0)
      fail("unix connect: %s", strerror(errno));
    writer(fds, steps);
  }
  close(pair[1]);
  close(seq[1]);
  int fds[NCH] = {pair[0], accept(tl, NULL, NULL), accept(ul, NULL, NULL), seq[0]};
  if (fds[1] < 0 || fds[2] < 0) fail("accept: %s", strerror(errno));
  close(tl);
  int one = 1;
  setsockopt(fds[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

  uint64_t st[NCH] = {1, 2, 3, 4};
  static unsigned char got[CHUNK], want[CHUNK];
  uint64_t sum = 0, hash = 0;
  for (int s = 0; s < steps; s++) {
    for (int c = 0; c < 3; c++) {
      if (!read_all(fds[c], got, CHUNK, "reader stream"))
        fail("step %d: channel %d ended early", s, c);
      fill(&st[c], want, CHUNK);
      if (memcmp(got, want, CHUNK) != 0) {
        int i = 0;
        while (got[i] == want[i]) i++;
        fail("step %d: channel %d: byte %d of the step differs", s, c, i);
      }
      for (int i = 0; i < CHUNK; i++) sum = mix(sum, got[i]);
    }
    for (int m = 0; m < MSGS; m++) {
      size_t n = msg_len(&st[3]);
      fill(&st[3], want, n);
      ssize_t r = recv_msg(fds[3], got, sizeof(got));
      if ((size_t)r != n || memcmp(got, want, n) != 0)
        fail("step %d: seqpacket message %d: %zd bytes, expected %zu%s", s, m, r, n,
             (size_t)r == n ? " (content differs)" : "");
    }
    hash = mix(hash, sum);
    printf("step %d: %016" PRIx64 "\n", s, hash);
    msleep(pause_ms);
  }
  for (int c = 0; c < NCH; c++) {
    char extra;
    ssize_t r;
    while ((r = recv(fds[c], &extra, 1, 0)) < 0 && errno == EINTR) {
    }
    if (r != 0) fail("channel %d: %zd instead of end-of-file at the end", c, r);
  }
  write_all(fds[0], &sum, sizeof(sum), "checksum to the writer");
  expect_exit(w, 10, "writer");
  unlink("stream.sock");
  printf("checksum %016" PRIx64 "\nOK\n", sum);
  return 0;
}
