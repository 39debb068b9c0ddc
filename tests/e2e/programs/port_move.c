/* port_move: a server whose ports may be taken by someone else when it is
 * restarted, and clients that only know the ports it had at the start.
 *
 *   port_move PORT STEPS
 *
 * The server listens on TCP 127.0.0.1:PORT and binds UDP 127.0.0.1:PORT+1.
 * Each step it forks a child that execs this program as a client
 * (`port_move client PORT STEP`); the client connects to 127.0.0.1:PORT,
 * sends its step, reads the answer, asks the same over UDP to PORT+1, and
 * checks that getpeername and recvfrom name the ports it knew. The server
 * checks what it serves against its own getsockname (always PORT and
 * PORT+1, wherever the kernel put them) and that the child exited 0.
 * Stdout: "step N: A B" per step, then "OK". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_common.h"

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  return a;
}

static int port_of(int fd, int peer) {
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  if ((peer ? getpeername : getsockname)(fd, (struct sockaddr*)&a, &len) != 0)
    fail("get%sname: %s", peer ? "peer" : "sock", strerror(errno));
  return ntohs(a.sin_port);
}

static uint64_t answer(uint64_t q) { return q * q + 1; }

static int client(int port, uint64_t step) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in to = loopback(port);
  if (connect(s, (struct sockaddr*)&to, sizeof(to)) != 0)
    fail("client %llu: connect to port %d: %s", (unsigned long long)step, port, strerror(errno));
  if (port_of(s, 1) != port) fail("client: getpeername says port %d, not %d", port_of(s, 1), port);
  uint64_t a = 0;
  write_all(s, &step, sizeof(step), "client: tcp");
  if (!read_all(s, &a, sizeof(a), "client: tcp")) fail("client: the server closed");
  close(s);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in uto = loopback(port + 1), from;
  socklen_t len = sizeof(from);
  uint64_t b = 0;
  if (sendto(u, &step, sizeof(step), 0, (struct sockaddr*)&uto, sizeof(uto)) != sizeof(step))
    fail("client: sendto port %d: %s", port + 1, strerror(errno));
  if (recvfrom(u, &b, sizeof(b), 0, (struct sockaddr*)&from, &len) != sizeof(b))
    fail("client: recvfrom: %s", strerror(errno));
  if (ntohs(from.sin_port) != port + 1)
    fail("client: the answer came from port %d, not %d", ntohs(from.sin_port), port + 1);
  if (a != answer(step) || b != answer(step) + 1) fail("client: wrong answers");
  return 0;
}

static void serve_one(int l, int u, int port, uint64_t step) {
  struct pollfd p = {l, POLLIN, 0};
  while (poll(&p, 1, 10000) < 0 && errno == EINTR) {
  }
  int c = accept(l, NULL, NULL);
  if (c < 0) fail("step %llu: accept: %s", (unsigned long long)step, strerror(errno));
  if (port_of(c, 0) != port) fail("accepted on port %d, not %d", port_of(c, 0), port);
  uint64_t q = 0, a;
  if (!read_all(c, &q, sizeof(q), "server: tcp")) fail("server: the client closed");
  a = answer(q);
  write_all(c, &a, sizeof(a), "server: tcp");
  close(c);
  struct sockaddr_in from;
  socklen_t len = sizeof(from);
  ssize_t n;
  while ((n = recvfrom(u, &q, sizeof(q), 0, (struct sockaddr*)&from, &len)) < 0 && errno == EINTR)
    len = sizeof(from);
  if (n != sizeof(q)) fail("server: recvfrom: %s", strerror(errno));
  a = answer(q) + 1;
  if (sendto(u, &a, sizeof(a), 0, (struct sockaddr*)&from, len) != sizeof(a))
    fail("server: sendto: %s", strerror(errno));
}

int main(int argc, char** argv) {
  if (argc == 4 && strcmp(argv[1], "client") == 0)
    return client(atoi(argv[2]), strtoull(argv[3], NULL, 10));
  if (argc != 3) fail("usage: port_move PORT STEPS | port_move client PORT STEP");
  int port = atoi(argv[1]), steps = atoi(argv[2]), one = 1;
  int l = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = loopback(port), b = loopback(port + 1);
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(l, (struct sockaddr*)&a, sizeof(a)) != 0 || listen(l, 8) != 0)
    fail("listen on port %d: %s", port, strerror(errno));
  if (bind(u, (struct sockaddr*)&b, sizeof(b)) != 0)
    fail("bind udp port %d: %s", port + 1, strerror(errno));
  for (int i = 0; i < steps; i++) {
    if (port_of(l, 0) != port || port_of(u, 0) != port + 1)
      fail("step %d: my ports are %d and %d, not %d and %d", i, port_of(l, 0), port_of(u, 0), port,
           port + 1);
    char p[16], s[24];
    snprintf(p, sizeof(p), "%d", port);
    snprintf(s, sizeof(s), "%d", i);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
      execl(argv[0], argv[0], "client", p, s, (char*)NULL);
      fail("exec: %s", strerror(errno));
    }
    serve_one(l, u, port, (uint64_t)i);
    expect_exit(child, 0, "the client");
    printf("step %d: %llu %llu\n", i, (unsigned long long)answer((uint64_t)i),
           (unsigned long long)answer((uint64_t)i) + 1);
    fflush(stdout);
    msleep(150);
  }
  printf("OK\n");
  return 0;
}
