/* net_peers: a TCP and UDP server and its client, meant to run on different
 * (emulated) hosts; for the multi-host e2e scenario (test_multi_host.py).
 *
 *   net_peers server PORT UDPPORT
 *   net_peers client SERVER_IP PORT UDPPORT TOTAL OUTFILE
 *
 * The server listens on 0.0.0.0:PORT (TCP) and 0.0.0.0:UDPPORT (UDP) and
 * serves until killed, one poll() loop: every TCP connection gets back
 * T(b) = (b*7+1) & 0xff for each byte b it sends, read slowly (a few hundred
 * bytes per connection per millisecond), so bytes are in flight both ways;
 * every UDP datagram is answered with T applied to each of its bytes, sent
 * to the sender's address.
 *
 * The client connects to SERVER_IP:PORT (the address it learned at start:
 * after a restart on other hosts it must keep working), streams TOTAL bytes
 * of an xorshift sequence in chunks while reading and checking the answers.
 * Every kSideEvery chunks it opens a new TCP connection to the same
 * SERVER_IP:PORT for one short checked request/response (tried again on a
 * connection that fails, see side_connection), then asks a UDP
 * question of SERVER_IP:UDPPORT (sent again every 200 ms until the answer
 * comes; the answer's source address is recorded). It sleeps a little per
 * chunk so that a run lasts several seconds. Stdout: "step N" after each
 * side exchange (progress for the harness); OUTFILE, at the end: bytes,
 * checksum of every byte received, counts of side connections and UDP
 * exchanges, the main connection's getpeername() and the last UDP answer's
 * source, then "OK". It depends only on the arguments, not on where
 * checkpoints fell or where the server runs. Any wrong byte: "FAIL: ..." on
 * stdout and exit 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_common.h"

enum {
  kChunk = 1024,              /* client: bytes per chunk */
  kChunkPauseMs = 4,          /* client: sleep after each chunk */
  kSideEvery = 50,            /* client: chunks between side exchanges */
  kSideBytes = 64,            /* size of a side connection's request */
  kUdpBytes = 32,             /* size of a UDP question (4 bytes of sequence number first) */
  kServerRead = 256,          /* server: bytes read per connection per round */
  kServerPending = 64 * 1024, /* server: answers queued per connection before it stops reading */
  kMaxConns = 64,
};

static uint8_t transform(uint8_t b) { return (uint8_t)(b * 7 + 1); }
static uint8_t untransform(uint8_t t) {
  return (uint8_t)((uint8_t)(t - 1) * 183);
} /* 7*183 = 1 mod 256 */

static void set_nonblocking(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
    fail("fcntl O_NONBLOCK: %s", strerror(errno));
}

static const char* addr_text(const struct sockaddr_in* a, char* buf, size_t n) {
  char ip[INET_ADDRSTRLEN] = "?";
  inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
  snprintf(buf, n, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
  return buf;
}

/* --- Server ---------------------------------------------------------------------- */

struct conn {
  int fd;  /* -1: free slot */
  int eof; /* the client shut down its side: close once the answers are out */
  uint8_t* pending;
  size_t len;
};

static void conn_close(struct conn* c) {
  close(c->fd);
  c->fd = -1;
  c->len = 0;
  c->eof = 0;
}

/* Reads up to kServerRead bytes and queues their answers; 0 when the
 * connection is done with (end of file and nothing left to send, or an error). */
static int conn_read(struct conn* c) {
  uint8_t buf[kServerRead];
  ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return 1;
  if (r < 0) {
    fprintf(stderr, "net_peers server: recv: %s; closing that connection\n", strerror(errno));
    return 0;
  }
  if (r == 0) {
    c->eof = 1;
    return c->len > 0;
  }
  for (ssize_t i = 0; i < r; i++) c->pending[c->len++] = transform(buf[i]);
  return 1;
}

static int conn_write(struct conn* c) {
  ssize_t w = send(c->fd, c->pending, c->len, MSG_NOSIGNAL);
  if (w < 0 && (errno == EAGAIN || errno == EINTR)) return 1;
  if (w < 0) {
    fprintf(stderr, "net_peers server: send: %s; closing that connection\n", strerror(errno));
    return 0;
  }
  memmove(c->pending, c->pending + w, c->len - (size_t)w);
  c->len -= (size_t)w;
  return !(c->eof && c->len == 0);
}

static void serve_udp(int fd) {
  for (;;) {
    uint8_t buf[512];
    struct sockaddr_in from;
    socklen_t flen = sizeof(from);
    ssize_t r = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr*)&from, &flen);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (r < 0) fail("server: udp recvfrom: %s", strerror(errno));
    for (ssize_t i = 0; i < r; i++) buf[i] = transform(buf[i]);
    if (sendto(fd, buf, (size_t)r, 0, (struct sockaddr*)&from, flen) != r)
      fprintf(stderr, "net_peers server: udp sendto: %s\n", strerror(errno));
  }
}

static int server(int port, int udp_port) {
  int lfd = socket(AF_INET, SOCK_STREAM, 0), ufd = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
  a.sin_port = htons((uint16_t)port);
  if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      bind(lfd, (struct sockaddr*)&a, sizeof(a)) != 0 || listen(lfd, 16) != 0)
    fail("server: tcp listener on port %d: %s", port, strerror(errno));
  a.sin_port = htons((uint16_t)udp_port);
  if (ufd < 0 || bind(ufd, (struct sockaddr*)&a, sizeof(a)) != 0)
    fail("server: udp socket on port %d: %s", udp_port, strerror(errno));
  set_nonblocking(lfd);
  printf("serving tcp %d udp %d\n", port, udp_port);

  static struct conn conns[kMaxConns];
  for (int i = 0; i < kMaxConns; i++) {
    conns[i].fd = -1;
    conns[i].pending = malloc(kServerPending + kServerRead);
    if (!conns[i].pending) fail("server: out of memory");
  }
  for (;;) {
    struct pollfd p[kMaxConns + 2];
    int slot[kMaxConns + 2], n = 0;
    p[n++] = (struct pollfd){lfd, POLLIN, 0};
    p[n++] = (struct pollfd){ufd, POLLIN, 0};
    for (int i = 0; i < kMaxConns; i++) {
      struct conn* c = &conns[i];
      if (c->fd < 0) continue;
      short ev =
          (short)((c->len ? POLLOUT : 0) | (c->len < kServerPending && !c->eof ? POLLIN : 0));
      slot[n] = i;
      p[n++] = (struct pollfd){c->fd, ev, 0};
    }
    if (poll(p, (nfds_t)n, -1) < 0) {
      if (errno == EINTR) continue;
      fail("server: poll: %s", strerror(errno));
    }
    if (p[0].revents & POLLIN) {
      int cfd = accept(lfd, NULL, NULL);
      if (cfd >= 0) {
        int i = 0;
        while (i < kMaxConns && conns[i].fd >= 0) i++;
        if (i == kMaxConns) fail("server: more than %d connections", kMaxConns);
        set_nonblocking(cfd);
        conns[i].fd = cfd;
      } else if (errno != EAGAIN && errno != EINTR) {
        fprintf(stderr, "net_peers server: accept: %s\n", strerror(errno));
      }
    }
    if (p[1].revents & POLLIN) serve_udp(ufd);
    for (int k = 2; k < n; k++) {
      struct conn* c = &conns[slot[k]];
      int ok = 1;
      if (p[k].revents & POLLOUT) ok = conn_write(c);
      if (ok && (p[k].revents & (POLLIN | POLLHUP | POLLERR)) && !c->eof && c->len < kServerPending)
        ok = conn_read(c);
      if (ok && c->len) ok = conn_write(c);
      if (!ok) conn_close(c);
    }
    msleep(1); /* read slowly: the clients' bytes queue up in the sockets */
  }
}

/* --- Client ---------------------------------------------------------------------- */

struct bytegen {
  uint64_t s, cur;
  int left;
};

static uint8_t next_byte(struct bytegen* g) {
  if (g->left == 0) {
    g->s ^= g->s << 13;
    g->s ^= g->s >> 7;
    g->s ^= g->s << 17;
    g->cur = g->s;
    g->left = 8;
  }
  uint8_t b = (uint8_t)g->cur;
  g->cur >>= 8;
  g->left--;
  return b;
}

static struct sockaddr_in server_addr(const char* ip, int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) fail("not an IPv4 address: %s", ip);
  return a;
}

/* The first connection may come before the server listens: try for 15 s. */
static int connect_to(const struct sockaddr_in* a, int retry) {
  char t[64];
  for (int attempt = 0;; attempt++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (const struct sockaddr*)a, sizeof(*a)) == 0) return fd;
    int e = errno;
    if (fd >= 0) close(fd);
    if (!retry || attempt >= 300)
      fail("connect to %s: %s", addr_text(a, t, sizeof(t)), strerror(e));
    msleep(50);
  }
}

/* Reads exactly n bytes within 3 s; 0 on end of file, an error or a timeout. */
static int read_within(int fd, uint8_t* buf, size_t n) {
  for (size_t got = 0; got < n;) {
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, 3000);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 0;
    ssize_t k = read(fd, buf + got, n - got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return 0;
    got += (size_t)k;
  }
  return 1;
}

/* One short request/response on a new connection to the learned address.
 * A connection that fails (reset, end of file, no answer in 3 s) is tried
 * again, as after a network fault: one still waiting in the server's accept
 * queue at a checkpoint comes back broken (or, on one host, without the
 * request it had sent). A wrong byte fails. */
static void side_connection(const struct sockaddr_in* a, uint64_t k) {
  uint8_t q[kSideBytes], r[kSideBytes];
  uint64_t h = k;
  for (int i = 0; i < kSideBytes; i++) q[i] = (uint8_t)(h = mix(h, (uint64_t)i));
  for (int attempt = 0;; attempt++) {
    int fd = connect_to(a, 0);
    int ok =
        send(fd, q, sizeof(q), MSG_NOSIGNAL) == (ssize_t)sizeof(q) && read_within(fd, r, sizeof(r));
    close(fd);
    if (ok) break;
    if (attempt == 4) fail("side connection %" PRIu64 ": no answer after 5 tries", k);
    fprintf(stderr, "net_peers client: side connection %" PRIu64 " failed; trying again\n", k);
  }
  for (int i = 0; i < kSideBytes; i++)
    if (r[i] != transform(q[i])) fail("side connection %" PRIu64 ": wrong byte %d", k, i);
}

/* One UDP question, sent again every 200 ms until its answer comes. */
static void udp_exchange(int fd, const struct sockaddr_in* a, uint32_t seq,
                         struct sockaddr_in* from) {
  uint8_t q[kUdpBytes], r[512];
  memcpy(q, &seq, 4);
  uint64_t h = seq;
  for (int i = 4; i < kUdpBytes; i++) q[i] = (uint8_t)(h = mix(h, (uint64_t)i));
  for (;;) {
    if (sendto(fd, q, sizeof(q), 0, (const struct sockaddr*)a, sizeof(*a)) != sizeof(q))
      fprintf(stderr, "net_peers client: udp sendto: %s\n", strerror(errno));
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, 200) > 0) {
      socklen_t flen = sizeof(*from);
      ssize_t n = recvfrom(fd, r, sizeof(r), MSG_DONTWAIT, (struct sockaddr*)from, &flen);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n != kUdpBytes)
        fail("udp %u: answer of %zd bytes (%s)", seq, n, n < 0 ? strerror(errno) : "");
      uint8_t sb[4];
      for (int i = 0; i < 4; i++) sb[i] = untransform(r[i]);
      uint32_t got;
      memcpy(&got, sb, 4);
      if (got < seq) continue; /* the answer to an earlier resend */
      if (got != seq) fail("udp %u: answer for question %u", seq, got);
      for (int i = 0; i < kUdpBytes; i++)
        if (r[i] != transform(q[i])) fail("udp %u: wrong byte %d", seq, i);
      return;
    }
  }
}

struct stream {
  int fd;
  struct bytegen expect;
  uint64_t received, sum;
};

/* Reads what the main connection holds and checks every byte; 0 at end of file. */
static int drain(struct stream* s) {
  uint8_t buf[16384];
  for (;;) {
    ssize_t r = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return 1;
    if (r < 0)
      fail("main connection: recv after %" PRIu64 " bytes: %s", s->received, strerror(errno));
    if (r == 0) return 0;
    for (ssize_t i = 0; i < r; i++) {
      uint8_t want = transform(next_byte(&s->expect));
      if (buf[i] != want)
        fail("main connection: byte %" PRIu64 " is 0x%02x, expected 0x%02x",
             s->received + (uint64_t)i, buf[i], want);
      s->sum = s->sum * 1099511628211ull ^ buf[i];
    }
    s->received += (uint64_t)r;
  }
}

/* Sends n bytes on the (nonblocking) main connection, reading answers meanwhile. */
static void send_chunk(struct stream* s, const uint8_t* p, size_t n) {
  while (n > 0) {
    struct pollfd pf = {s->fd, POLLIN | POLLOUT, 0};
    if (poll(&pf, 1, -1) < 0 && errno != EINTR) fail("poll: %s", strerror(errno));
    if (pf.revents & (POLLIN | POLLHUP | POLLERR))
      if (!drain(s)) fail("main connection: end of file after %" PRIu64 " bytes", s->received);
    if (!(pf.revents & POLLOUT)) continue;
    ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (w < 0) fail("main connection: send: %s", strerror(errno));
    p += w;
    n -= (size_t)w;
  }
}

static int client(const char* ip, int port, int udp_port, uint64_t total, const char* outfile) {
  struct sockaddr_in tcp_addr = server_addr(ip, port), udp_addr = server_addr(ip, udp_port), peer,
                     udp_from = {0};
  struct stream s = {
      connect_to(&tcp_addr, 1), {0x2545f4914f6cdd1dull, 0, 0}, 0, 14695981039346656037ull};
  set_nonblocking(s.fd);
  int ufd = socket(AF_INET, SOCK_DGRAM, 0);
  if (ufd < 0) fail("udp socket: %s", strerror(errno));

  struct bytegen out = {0x2545f4914f6cdd1dull, 0, 0};
  uint8_t chunk[kChunk];
  uint64_t sent = 0, chunks = 0, sides = 0, udps = 0;
  while (sent < total) {
    size_t n = total - sent < kChunk ? (size_t)(total - sent) : kChunk;
    for (size_t i = 0; i < n; i++) chunk[i] = next_byte(&out);
    send_chunk(&s, chunk, n);
    sent += n;
    if (!drain(&s)) fail("main connection: end of file after %" PRIu64 " bytes", s.received);
    if (++chunks % kSideEvery == 0) {
      side_connection(&tcp_addr, ++sides);
      udp_exchange(ufd, &udp_addr, (uint32_t)++udps, &udp_from);
      printf("step %" PRIu64 ": %" PRIu64 " bytes sent, %" PRIu64 " received\n", sides, sent,
             s.received);
    }
    msleep(kChunkPauseMs);
  }
  socklen_t plen = sizeof(peer);
  if (getpeername(s.fd, (struct sockaddr*)&peer, &plen) != 0)
    fail("getpeername: %s", strerror(errno));
  if (shutdown(s.fd, SHUT_WR) != 0) fail("shutdown: %s", strerror(errno));
  while (drain(&s)) {
    struct pollfd pf = {s.fd, POLLIN, 0};
    if (poll(&pf, 1, 30000) == 0)
      fail("main connection: no answer for 30 s at %" PRIu64 " bytes", s.received);
  }
  if (s.received != total)
    fail("main connection: %" PRIu64 " bytes back, sent %" PRIu64, s.received, total);
  close(s.fd);

  FILE* f = fopen(outfile, "w");
  if (!f) fail("cannot write %s: %s", outfile, strerror(errno));
  char t1[64], t2[64];
  fprintf(f,
          "bytes %" PRIu64 "\nchecksum %016" PRIx64 "\nside connections %" PRIu64
          "\nudp exchanges %" PRIu64 "\npeer %s\nudp from %s\nOK\n",
          s.received, s.sum, sides, udps, addr_text(&peer, t1, sizeof(t1)),
          addr_text(&udp_from, t2, sizeof(t2)));
  if (fclose(f) != 0) fail("cannot write %s: %s", outfile, strerror(errno));
  printf("OK\n");
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 4 && strcmp(argv[1], "server") == 0) return server(atoi(argv[2]), atoi(argv[3]));
  if (argc == 7 && strcmp(argv[1], "client") == 0)
    return client(argv[2], atoi(argv[3]), atoi(argv[4]), strtoull(argv[5], NULL, 10), argv[6]);
  fprintf(stderr,
          "usage: net_peers server PORT UDPPORT\n"
          "       net_peers client SERVER_IP PORT UDPPORT TOTAL OUTFILE\n");
  return 2;
}
