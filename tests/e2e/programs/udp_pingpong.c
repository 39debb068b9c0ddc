/* udp_pingpong: a client (the parent) asks a server child questions over
 * UDP on 127.0.0.1 and over a UNIX datagram socket bound to an abstract
 * name; for the datagram e2e scenario.
 *
 *   udp_pingpong [STEPS=80] [PAUSE_MS=40]
 *
 * The server S binds both sockets before the fork; the client connects a
 * UDP socket and an autobound UNIX datagram socket to them. Per step and
 * channel the client sends {step, channel, value}, waits (after a short
 * sleep, so that answers queue up) up to 300 ms for the answer of that step
 * and sends again on a timeout, dropping answers of earlier steps: a
 * datagram lost at a restart costs time, never the result. S waits for a
 * question, sleeps a little (so questions queue up too), then answers every
 * queued one to its sender with f(value); a question with step -1 makes it
 * answer and, once both channels said so, exit 7.
 * Stdout: "step N: <a0> <a1>" per step, then "OK". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "test_common.h"

struct msg {
  int32_t step;
  int32_t channel;
  uint64_t value;
};

static uint64_t answer_of(uint64_t v) { return mix(v, 0x5eed); }

static void server(int fds[2]) {
  int quits = 0;
  while (quits < 2) {
    struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      fail("server poll: %s", strerror(errno));
    }
    msleep(15);
    for (int c = 0; c < 2; c++) {
      for (;;) {
        struct msg m;
        struct sockaddr_storage from;
        socklen_t len = sizeof(from);
        ssize_t r = recvfrom(fds[c], &m, sizeof(m), MSG_DONTWAIT, (struct sockaddr*)&from, &len);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
        if (r != sizeof(m)) fail("server: recvfrom on channel %d: %zd (%s)", c, r, strerror(errno));
        if (m.channel != c) fail("server: a question of channel %d on channel %d", m.channel, c);
        if (m.step == -1) quits++;
        m.value = answer_of(m.value);
        if (sendto(fds[c], &m, sizeof(m), 0, (struct sockaddr*)&from, len) != sizeof(m))
          fail("server: sendto on channel %d: %s", c, strerror(errno));
      }
    }
  }
  _exit(7);
}

/* One question and its answer, sent again on each timeout. */
static uint64_t ask(int fd, int channel, int32_t step, uint64_t value) {
  struct msg q = {step, channel, value};
  for (;;) {
    if (send(fd, &q, sizeof(q), 0) != sizeof(q)) fail("client send: %s", strerror(errno));
    msleep(5);
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, 300) > 0) {
      struct msg a;
      ssize_t r = recv(fd, &a, sizeof(a), MSG_DONTWAIT);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r != sizeof(a)) fail("client recv on channel %d: %zd (%s)", channel, r, strerror(errno));
      if (a.step == step && a.channel == channel) {
        if (a.value != answer_of(value)) fail("step %d channel %d: wrong answer", step, channel);
        return a.value;
      }
    }
  }
}

int main(int argc, char** argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 80;
  int pause_ms = argc > 2 ? atoi(argv[2]) : 40;
  setvbuf(stdout, NULL, _IOLBF, 0);

  int srv[2] = {socket(AF_INET, SOCK_DGRAM, 0), socket(AF_UNIX, SOCK_DGRAM, 0)};
  struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t in_len = sizeof(in);
  if (srv[0] < 0 || bind(srv[0], (struct sockaddr*)&in, sizeof(in)) != 0 ||
      getsockname(srv[0], (struct sockaddr*)&in, &in_len) != 0)
    fail("udp server socket: %s", strerror(errno));
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  int n = snprintf(un.sun_path + 1, sizeof(un.sun_path) - 1, "ckpt-e2e-udp-%d", (int)getpid());
  socklen_t un_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
  if (srv[1] < 0 || bind(srv[1], (struct sockaddr*)&un, un_len) != 0)
    fail("unix datagram server socket: %s", strerror(errno));

  pid_t s = fork();
  if (s < 0) fail("fork: %s", strerror(errno));
  if (s == 0) server(srv);
  close(srv[0]);
  close(srv[1]);
  int cli[2] = {socket(AF_INET, SOCK_DGRAM, 0), socket(AF_UNIX, SOCK_DGRAM, 0)};
  sa_family_t fam = AF_UNIX;  // autobind: an abstract name of the kernel's choice
  if (cli[0] < 0 || cli[1] < 0 || connect(cli[0], (struct sockaddr*)&in, sizeof(in)) != 0 ||
      bind(cli[1], (struct sockaddr*)&fam, sizeof(fam)) != 0 ||
      connect(cli[1], (struct sockaddr*)&un, un_len) != 0)
    fail("client sockets: %s", strerror(errno));

  uint64_t v = 1;
  for (int i = 0; i < steps; i++) {
    uint64_t a0 = ask(cli[0], 0, i, v = mix(v, (uint64_t)i));
    uint64_t a1 = ask(cli[1], 1, i, v = mix(v, (uint64_t)i + 1000));
    printf("step %d: %016" PRIx64 " %016" PRIx64 "\n", i, a0, a1);
    msleep(pause_ms);
  }
  ask(cli[0], 0, -1, 0);
  ask(cli[1], 1, -1, 0);
  expect_exit(s, 7, "server");
  printf("OK\n");
  return 0;
}
