/* packed_peers: two peers on different (emulated) hosts that first connect
 * to each other only when told to, after a restart may have packed both old
 * hosts onto one new host; for test_packed_peers.py.
 *
 *   packed_peers NAME OTHER MYPORT OTHER_IP OTHERPORT DIR ROUNDS OUTFILE
 *
 * At start each peer listens on 0.0.0.0:MYPORT (TCP and UDP), learns its own
 * address (the source address towards OTHER_IP) and publishes it in
 * DIR/NAME.addr, then reads the other's from DIR/OTHER.addr. It prints
 * "ready", then "step N" every 50 ms. When DIR/go<R> appears (R = 1 ..
 * ROUNDS) it makes round R, checking every address the kernel reports
 * through the runtime against what the two published before any checkpoint:
 *   - a new TCP connection to OTHER_IP:OTHERPORT: getsockname() must be its
 *     own published address, getpeername() OTHER_IP:OTHERPORT;
 *   - accept() of the other's connection: the address accept() and
 *     getpeername() give must be the other's published address (same port
 *     in both), getsockname() its own address and MYPORT;
 *   - 4096 checked bytes each way on both connections;
 *   - a UDP question from a new unbound socket to OTHER_IP:OTHERPORT: the
 *     other's question must come from the other's published address, the
 *     answer (sent back to that address) from OTHER_IP:OTHERPORT.
 * Then "round R done". After the last round and 20 more steps, 8 bytes go
 * each way on every round's connections (they lived through the checkpoints
 * and restarts since), the summary goes to OUTFILE, "OK" to stdout. The
 * summary names addresses but no ephemeral port: it depends only on the
 * arguments and the hosts, not on where checkpoints fell. Any wrong address
 * or byte: "FAIL: ..." on stdout and exit 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "test_common.h"

#define MAX_ROUNDS 4
#define CHUNK 4096

static const char *name, *other, *other_ip, *dir;
static int my_port, other_port;
static char my_pub[64], other_pub[64];
static char summary[8192];
static size_t summary_len;

static void note(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(summary + summary_len, sizeof(summary) - summary_len, fmt, ap);
  va_end(ap);
  if (n > 0) summary_len += (size_t)n;
}

static void ip_of(const struct sockaddr_in* a, char* out, size_t cap) {
  if (!inet_ntop(AF_INET, &a->sin_addr, out, (socklen_t)cap)) snprintf(out, cap, "?");
}

static struct sockaddr_in addr_of(const char* ip, int port) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) fail("bad address %s", ip);
  return a;
}

static int bound_socket(int type, int port) {
  int fd = socket(AF_INET, type, 0), one = 1;
  if (fd < 0) fail("socket: %s", strerror(errno));
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in a = addr_of("0.0.0.0", port);
  if (bind(fd, (struct sockaddr*)&a, sizeof(a)) != 0)
    fail("bind port %d: %s", port, strerror(errno));
  return fd;
}

/* Receives give up after 30 s (a lost peer must not hang the test). */
static void time_limit(int fd) {
  struct timeval t = {30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof(t));
}

static void read_file_line(const char* path, char* out, size_t cap) {
  FILE* f = fopen(path, "r");
  if (!f) fail("%s: %s", path, strerror(errno));
  if (!fgets(out, (int)cap, f)) fail("%s: empty", path);
  fclose(f);
  out[strcspn(out, "\n")] = 0;
}

static int exists(const char* path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Learns this host's address towards the other and publishes it; reads the other's. */
static void publish(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = addr_of(other_ip, other_port), me;
  socklen_t len = sizeof(me);
  if (connect(fd, (struct sockaddr*)&to, sizeof(to)) != 0 ||
      getsockname(fd, (struct sockaddr*)&me, &len) != 0)
    fail("own address towards %s: %s", other_ip, strerror(errno));
  close(fd);
  ip_of(&me, my_pub, sizeof(my_pub));
  char path[4096], tmp[4200];
  snprintf(path, sizeof(path), "%s/%s.addr", dir, name);
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  FILE* f = fopen(tmp, "w");
  if (!f || fprintf(f, "%s\n", my_pub) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
    fail("publish %s: %s", path, strerror(errno));
  snprintf(path, sizeof(path), "%s/%s.addr", dir, other);
  while (!exists(path)) msleep(20);
  read_file_line(path, other_pub, sizeof(other_pub));
  if (strcmp(other_pub, other_ip) != 0)
    fail("%s published %s, but we were told it is %s", other, other_pub, other_ip);
}

static void expect_addr(int round, const char* what, const struct sockaddr_in* got, const char* ip,
                        int port) {
  char text[64];
  ip_of(got, text, sizeof(text));
  if (got->sin_family != AF_INET || strcmp(text, ip) != 0 ||
      (port >= 0 && ntohs(got->sin_port) != port))
    fail("round %d: %s reports %s:%d, expected %s%s%.0d", round, what, text, ntohs(got->sin_port),
         ip, port >= 0 ? ":" : " (any port)", port >= 0 ? port : 0);
}

static void fill(char* buf, const char* from, int round, int reply) {
  snprintf(buf, CHUNK, "%s %s round %d", reply ? "reply of" : "from", from, round);
  size_t n = strlen(buf);
  uint64_t h = mix((uint64_t)round, (uint64_t)reply);
  for (size_t i = n; i < CHUNK; i++) {
    h = mix(h, i);
    buf[i] = (char)(h & 0xff);
  }
}

static void expect_chunk(int fd, const char* from, int round, int reply, const char* what) {
  char want[CHUNK], got[CHUNK];
  fill(want, from, round, reply);
  if (!read_all(fd, got, CHUNK, what)) fail("round %d: %s: end of stream", round, what);
  if (memcmp(want, got, CHUNK) != 0) fail("round %d: %s: wrong bytes", round, what);
}

static int conn_out[MAX_ROUNDS], conn_in[MAX_ROUNDS];

static void tcp_round(int round, int listener) {
  int c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in to = addr_of(other_ip, other_port), a, b;
  socklen_t len;
  if (c < 0 || connect(c, (struct sockaddr*)&to, sizeof(to)) != 0)
    fail("round %d: connect to %s:%d: %s", round, other_ip, other_port, strerror(errno));
  time_limit(c);
  len = sizeof(a);
  if (getsockname(c, (struct sockaddr*)&a, &len) != 0) fail("getsockname: %s", strerror(errno));
  expect_addr(round, "getsockname() of the connecting socket", &a, my_pub, -1);
  len = sizeof(a);
  if (getpeername(c, (struct sockaddr*)&a, &len) != 0) fail("getpeername: %s", strerror(errno));
  expect_addr(round, "getpeername() of the connecting socket", &a, other_ip, other_port);
  char buf[CHUNK];
  fill(buf, name, round, 0);
  write_all(c, buf, CHUNK, "the connecting socket");

  len = sizeof(a);
  int s = accept(listener, (struct sockaddr*)&a, &len);
  if (s < 0) fail("round %d: accept: %s", round, strerror(errno));
  time_limit(s);
  expect_addr(round, "accept()", &a, other_pub, -1);
  len = sizeof(b);
  if (getpeername(s, (struct sockaddr*)&b, &len) != 0) fail("getpeername: %s", strerror(errno));
  expect_addr(round, "getpeername() of the accepted socket", &b, other_pub, ntohs(a.sin_port));
  len = sizeof(b);
  if (getsockname(s, (struct sockaddr*)&b, &len) != 0) fail("getsockname: %s", strerror(errno));
  expect_addr(round, "getsockname() of the accepted socket", &b, my_pub, my_port);
  expect_chunk(s, other, round, 0, "the accepted socket");
  fill(buf, name, round, 1);
  write_all(s, buf, CHUNK, "the accepted socket");
  expect_chunk(c, other, round, 1, "the connecting socket");
  conn_out[round - 1] = c;
  conn_in[round - 1] = s;
  note("round %d: connected as %s to %s:%d; accepted %s at %s:%d; %d bytes checked each way\n",
       round, my_pub, other_ip, other_port, other_pub, my_pub, my_port, CHUNK);
}

static void udp_round(int round, int udp) {
  int q = socket(AF_INET, SOCK_DGRAM, 0);
  time_limit(q);
  struct sockaddr_in to = addr_of(other_ip, other_port), from;
  socklen_t len;
  char msg[64], got[64];
  snprintf(msg, sizeof(msg), "question of %s round %d", name, round);
  if (sendto(q, msg, strlen(msg), 0, (struct sockaddr*)&to, sizeof(to)) < 0)
    fail("round %d: sendto: %s", round, strerror(errno));
  len = sizeof(from);
  ssize_t n = recvfrom(udp, got, sizeof(got) - 1, 0, (struct sockaddr*)&from, &len);
  if (n < 0) fail("round %d: no UDP question from %s: %s", round, other, strerror(errno));
  got[n] = 0;
  snprintf(msg, sizeof(msg), "question of %s round %d", other, round);
  if (strcmp(got, msg) != 0) fail("round %d: UDP question %s", round, got);
  expect_addr(round, "recvfrom() of the other's question", &from, other_pub, -1);
  snprintf(msg, sizeof(msg), "answer of %s round %d", name, round);
  if (sendto(udp, msg, strlen(msg), 0, (struct sockaddr*)&from, len) < 0)
    fail("round %d: answer: %s", round, strerror(errno));
  len = sizeof(from);
  n = recvfrom(q, got, sizeof(got) - 1, 0, (struct sockaddr*)&from, &len);
  if (n < 0) fail("round %d: no UDP answer from %s: %s", round, other, strerror(errno));
  got[n] = 0;
  snprintf(msg, sizeof(msg), "answer of %s round %d", other, round);
  if (strcmp(got, msg) != 0) fail("round %d: UDP answer %s", round, got);
  expect_addr(round, "recvfrom() of the answer", &from, other_ip, other_port);
  close(q);
  note("round %d: UDP question from %s, answer from %s:%d\n", round, other_pub, other_ip,
       other_port);
}

/* Every round's connections, once more each way. */
static void farewell(int rounds) {
  for (int r = 0; r < rounds; r++) {
    uint64_t v = mix(0x5eed, (uint64_t)r), got;
    write_all(conn_out[r], &v, sizeof(v), "farewell");
    if (!read_all(conn_in[r], &got, sizeof(got), "farewell") || got != v)
      fail("farewell on round %d's connection: wrong bytes", r + 1);
  }
  note("farewell on %d connections each way\n", rounds);
}

int main(int argc, char** argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: %s NAME OTHER MYPORT OTHER_IP OTHERPORT DIR ROUNDS OUTFILE\n", argv[0]);
    return 2;
  }
  name = argv[1];
  other = argv[2];
  my_port = atoi(argv[3]);
  other_ip = argv[4];
  other_port = atoi(argv[5]);
  dir = argv[6];
  int rounds = atoi(argv[7]);
  if (rounds < 1 || rounds > MAX_ROUNDS) fail("ROUNDS must be 1..%d", MAX_ROUNDS);
  setvbuf(stdout, NULL, _IOLBF, 0);
  int listener = bound_socket(SOCK_STREAM, my_port);
  if (listen(listener, 8) != 0) fail("listen: %s", strerror(errno));
  time_limit(listener);
  int udp = bound_socket(SOCK_DGRAM, my_port);
  time_limit(udp);
  publish();
  note("%s at %s, %s at %s\n", name, my_pub, other, other_pub);
  printf("ready\n");
  int done = 0, after = 0;
  for (int step = 1;; step++) {
    msleep(50);
    printf("step %d\n", step);
    if (done == rounds && ++after >= 20) break;
    char go[4096];
    snprintf(go, sizeof(go), "%s/go%d", dir, done + 1);
    if (done < rounds && exists(go)) {
      done++;
      tcp_round(done, listener);
      udp_round(done, udp);
      printf("round %d done\n", done);
    }
  }
  farewell(rounds);
  FILE* f = fopen(argv[8], "w");
  if (!f || fwrite(summary, 1, summary_len, f) != summary_len || fprintf(f, "OK\n") < 0 ||
      fclose(f) != 0)
    fail("%s: %s", argv[8], strerror(errno));
  printf("OK\n");
  return 0;
}
