/* tcp_inflight: a sender child streams a checked byte sequence over TCP to
 * its parent as fast as the network takes it, so that at any moment bytes
 * are in flight (in the sender's send queue, on the wire, being ACKed); for
 * the e2e scenario on the order of TCP captures (test_tcp_inflight.py runs
 * it where loopback is rate-limited, so the flight lasts).
 *
 *   tcp_inflight [MIB=12] [STEP_KIB=256] [HOLD=0]
 *
 * The parent listens on 127.0.0.1 (ephemeral port), forks the sender S,
 * accepts and closes its listener. S writes MIB MiB of a deterministic
 * pseudo-random stream, shuts its side down for writing and waits for the
 * parent's checksum, which it checks against its own (exit 10 when they
 * differ). The parent reads whatever arrives, checks every byte against the
 * same stream (a lost, repeated or reordered byte fails at once, naming its
 * offset), prints "step N: <offset> <hash>" every STEP_KIB KiB, and at the
 * end of file answers S, reaps it and prints "done". Any mismatch prints
 * "FAIL: reason" and exits 1.
 * S first opens HOLD descriptors on /dev/null (each its own open file), so
 * that its socket comes last in its descriptor table and its capture later
 * than the parent's: a checkpoint that captured both ends in one phase lost
 * the bytes ACKed in between. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "test_common.h"

#define CHUNK 65536

static uint64_t next(uint64_t* s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return *s;
}

static unsigned char byte_at(uint64_t* state) { return (unsigned char)(next(state) >> 56); }

static uint64_t hash_bytes(uint64_t h, const unsigned char* p, size_t n) {
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static void sender(uint16_t port, size_t total, int hold) {
  for (int i = 0; i < hold; i++)
    if (open("/dev/null", O_RDONLY) < 0) fail("sender: open /dev/null: %s", strerror(errno));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr*)&a, sizeof(a)) != 0)
    fail("sender: connect: %s", strerror(errno));
  static unsigned char buf[CHUNK];
  uint64_t state = 42, h = 0xcbf29ce484222325ull;
  for (size_t done = 0; done < total;) {
    size_t n = total - done < CHUNK ? total - done : CHUNK;
    for (size_t i = 0; i < n; i++) buf[i] = byte_at(&state);
    h = hash_bytes(h, buf, n);
    write_all(fd, buf, n, "sender");
    done += n;
  }
  if (shutdown(fd, SHUT_WR) != 0) fail("sender: shutdown: %s", strerror(errno));
  uint64_t theirs = 0;
  if (!read_all(fd, &theirs, sizeof(theirs), "sender: checksum")) fail("sender: no checksum");
  _exit(theirs == h ? 0 : 10);
}

static void receiver(int fd, size_t total, size_t step) {
  static unsigned char buf[CHUNK];
  uint64_t state = 42, h = 0xcbf29ce484222325ull;
  size_t got = 0, next_step = step;
  int steps = 0;
  for (;;) {
    ssize_t r = read(fd, buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail("receiver: read: %s", strerror(errno));
    if (r == 0) break;
    for (ssize_t i = 0; i < r; i++) {
      unsigned char want = byte_at(&state);
      if (buf[i] != want)
        fail("receiver: byte %zu is 0x%02x, expected 0x%02x (bytes lost or repeated)",
             got + (size_t)i, buf[i], want);
      h = hash_bytes(h, &buf[i], 1);
      if (got + (size_t)i + 1 == next_step) {
        printf("step %d: %zu %016" PRIx64 "\n", ++steps, next_step, h);
        fflush(stdout);
        next_step += step;
      }
    }
    got += (size_t)r;
    if (got > total) fail("receiver: %zu bytes, more than the %zu sent", got, total);
  }
  if (got != total) fail("receiver: end of file after %zu of %zu bytes", got, total);
  write_all(fd, &h, sizeof(h), "receiver: checksum");
}

int main(int argc, char** argv) {
  size_t total = (size_t)(argc > 1 ? atoi(argv[1]) : 12) << 20;
  size_t step = (size_t)(argc > 2 ? atoi(argv[2]) : 256) << 10;
  int hold = argc > 3 ? atoi(argv[3]) : 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (l < 0 || bind(l, (struct sockaddr*)&a, sizeof(a)) != 0 || listen(l, 1) != 0 ||
      getsockname(l, (struct sockaddr*)&a, &len) != 0)
    fail("listen: %s", strerror(errno));
  pid_t pid = fork();
  if (pid < 0) fail("fork: %s", strerror(errno));
  if (pid == 0) {
    close(l);
    sender(ntohs(a.sin_port), total, hold);
  }
  int fd = accept(l, NULL, NULL);
  if (fd < 0) fail("accept: %s", strerror(errno));
  close(l);
  receiver(fd, total, step);
  expect_exit(pid, 0, "sender");
  close(fd);
  printf("done: %zu bytes\n", total);
  return 0;
}
