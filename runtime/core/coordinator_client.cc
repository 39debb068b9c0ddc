// Runtime side of the coordinator protocol (see coordinator_client.h).
#include "coordinator_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "ckpt/sys.h"
#include "fork_fence.h"
#include "futex.h"
#include "high_fd.h"
#include "proc_files.h"
#include "thread_suspend.h"

namespace ckpt {
namespace {

alignas(8) uint8_t g_recv_buf[1 << 16];

bool read_full(int fd, void* buf, size_t n) {
  auto p = static_cast<uint8_t*>(buf);
  while (n) {
    long got = sys::read(fd, p, n);
    if (got == -EINTR) continue;
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

bool write_full(int fd, const void* buf, size_t n) {
  auto p = static_cast<const uint8_t*>(buf);
  while (n) {
    long put = sys::call6(sys::kSendto, fd, reinterpret_cast<long>(p), static_cast<long>(n),
                          MSG_NOSIGNAL, 0, 0);
    if (put == -EINTR) continue;
    if (put <= 0) return false;
    p += put;
    n -= static_cast<size_t>(put);
  }
  return true;
}

// A coordinator host that is down must not hold the checkpoint thread for
// the kernel's whole SYN retry time, nor a listener that never greets it:
// connect and handshake get kHandshakeTimeout; later reads block (poll first).
constexpr long kHandshakeTimeoutS = 5;

void set_io_timeout(long fd, long seconds) {
  long tv[2] = {seconds, 0};  // struct timeval
  for (int opt : {SO_SNDTIMEO, SO_RCVTIMEO})
    sys::call5(SYS_setsockopt, fd, SOL_SOCKET, opt, reinterpret_cast<long>(tv), sizeof(tv));
}

}  // namespace

bool coordinator_connect(Runtime& rt, MessageString& err, bool rejoining) {
  {
    // The application may fork meanwhile: its child must find the socket
    // in rt.coord_fd (which it closes), never as a number nobody knows.
    ForkFence fence;
    long fd = sys::call3(sys::kSocket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      err.append("socket: ").append(errno_name(-fd));
      return false;
    }
    rt.coord_fd = move_fd_high(static_cast<int>(fd));  // away from the application's numbers
  }
  set_io_timeout(rt.coord_fd, kHandshakeTimeoutS);
  long r;
  do {
    r = sys::call3(sys::kConnect, rt.coord_fd, reinterpret_cast<long>(&rt.coord_addr),
                   sizeof(rt.coord_addr));
  } while (r == -EINTR);
  if (r < 0) {
    coordinator_close(rt);
    err.append("cannot reach the coordinator: ").append(errno_name(-r));
    return false;
  }
  int one = 1;
  sys::call5(SYS_setsockopt, rt.coord_fd, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<long>(&one),
             4);

  proto::Msg type;
  ByteReader in(nullptr, 0);
  proto::Challenge challenge;
  if (!coordinator_recv(rt, type, in) || type != proto::Msg::kChallenge || !challenge.decode(in)) {
    err.append("the coordinator did not greet us");
    coordinator_close(rt);
    return false;
  }
  proto::Hello hello;
  hello.role = proto::Role::kProcess;
  hello.proof = proto::prove(rt.secret, challenge.nonce, hello.role);
  hello.process = {rt.vpid,
                   rt.vppid,
                   rt.real_pid,
                   rt.rank,
                   rt.restart_count,
                   rt.host,
                   rt.program,
                   rt.committed_generation,
                   static_cast<uint8_t>(rejoining ? 1 : 0)};
  // Our own challenge: the Welcome must prove the secret too.
  hello.process.has_nonce =
      sys::call3(SYS_getrandom, reinterpret_cast<long>(hello.process.nonce), proto::kNonceSize,
                 0) == static_cast<long>(proto::kNonceSize);
  uint8_t buf[1024];
  ByteWriter out(buf, sizeof(buf));
  hello.encode(out);
  if (!coordinator_send(rt, proto::Msg::kHello, out) || !coordinator_recv(rt, type, in)) {
    err.append("the coordinator closed the connection");
    coordinator_close(rt);
    return false;
  }
  if (type != proto::Msg::kWelcome) {
    proto::TextMsg reject;
    reject.decode(in);
    err.append("the coordinator refused us: ").append(reject.text);
    coordinator_close(rt);
    return false;
  }
  proto::Welcome welcome;
  if (!welcome.decode(in) ||
      (hello.process.has_nonce &&
       welcome.proof != proto::prove(rt.secret, hello.process.nonce, proto::Role::kCoordinator))) {
    err.append("what answers there does not prove the job secret");
    coordinator_close(rt);
    return false;
  }
  if (welcome.generation > rt.committed_generation) rt.committed_generation = welcome.generation;
  set_io_timeout(rt.coord_fd, 0);
  return true;
}

void coordinator_close(Runtime& rt) {
  if (rt.coord_fd >= 0) sys::close(rt.coord_fd);
  rt.coord_fd = -1;
}

namespace {
// The checkpoint thread and an application thread about to exec or exit
// may send at once: one frame at a time. An application thread is not
// suspended while it holds the lock (the suspend signal waits until it is
// released): the checkpoint thread would wait for it forever.
SpinFutexLock g_send_lock;
}  // namespace

void coordinator_forget_in_child() { g_send_lock.reset_in_child(); }

bool coordinator_send(Runtime& rt, proto::Msg type, const ByteWriter& payload) {
  proto::FrameHeader h{static_cast<uint32_t>(payload.size()), static_cast<uint16_t>(type),
                       proto::kProtocolVersion};
  uint64_t old_mask = block_suspend_signal();
  g_send_lock.lock();
  bool ok = rt.coord_fd >= 0 && write_full(rt.coord_fd, &h, sizeof(h)) &&
            write_full(rt.coord_fd, payload.data(), payload.size());
  g_send_lock.unlock();
  restore_signal_mask(old_mask);
  return ok;
}

bool coordinator_recv(Runtime& rt, proto::Msg& type, ByteReader& payload) {
  proto::FrameHeader h;
  if (rt.coord_fd < 0 || !read_full(rt.coord_fd, &h, sizeof(h))) return false;
  if (h.version != proto::kProtocolVersion || h.size > sizeof(g_recv_buf)) return false;
  if (!read_full(rt.coord_fd, g_recv_buf, h.size)) return false;
  type = static_cast<proto::Msg>(h.type);
  payload = ByteReader(g_recv_buf, h.size);
  return true;
}

}  // namespace ckpt
