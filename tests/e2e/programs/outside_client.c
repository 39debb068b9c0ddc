/* outside_client: a TCP client of a server that is not part of the
 * computation; for the outside-peer e2e scenario.
 *
 *   outside_client PORT [STEPS=60] [PAUSE_MS=50]
 *
 * Per step it sends an 8-byte question to 127.0.0.1:PORT and reads the
 * 8-byte answer, which must be f(question) (the test's server computes
 * answer = question * 2654435761 + 12345 mod 2^64). When a send or receive
 * fails or meets end-of-file (after a restart the connection to the outside
 * comes back broken, like after a network fault) it says so on stderr,
 * connects again and asks the same question again: stdout, "step N: <answer>"
 * per step then "OK", does not depend on where the checkpoints fell. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_common.h"

static int connect_server(int port) {
  for (int attempt = 0; attempt < 200; attempt++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in in = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0 && connect(fd, (struct sockaddr*)&in, sizeof(in)) == 0) return fd;
    if (fd >= 0) close(fd);
    msleep(50);
  }
  fail("cannot connect to the server on port %d: %s", port, strerror(errno));
}

/* Sends or receives all n bytes; 0 when the connection failed. */
static int transfer(int fd, void* buf, size_t n, int sending) {
  char* p = buf;
  while (n > 0) {
    ssize_t r = sending ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      fprintf(stderr, "connection lost while %s: %s\n", sending ? "sending" : "receiving",
              r < 0 ? strerror(errno) : "end of file");
      return 0;
    }
    p += r;
    n -= (size_t)r;
  }
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 2) fail("usage: outside_client PORT [STEPS] [PAUSE_MS]");
  int port = atoi(argv[1]);
  int steps = argc > 2 ? atoi(argv[2]) : 60;
  int pause_ms = argc > 3 ? atoi(argv[3]) : 50;
  setvbuf(stdout, NULL, _IOLBF, 0);
  int fd = connect_server(port);
  uint64_t q = 7;
  for (int i = 0; i < steps; i++) {
    q = mix(q, (uint64_t)i);
    uint64_t a = 0;
    while (!transfer(fd, &q, sizeof(q), 1) || !transfer(fd, &a, sizeof(a), 0)) {
      close(fd);
      fd = connect_server(port);
    }
    if (a != q * 2654435761ull + 12345) fail("step %d: wrong answer", i);
    printf("step %d: %016" PRIx64 "\n", i, a);
    msleep(pause_ms);
  }
  close(fd);
  printf("OK\n");
  return 0;
}
