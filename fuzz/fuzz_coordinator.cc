// libFuzzer target: a live coordinator under arbitrary peers, before and
// after authentication. The real Coordinator (event loop, handshake, command
// handler, checkpoint machine, rendezvous, roster) runs in a thread of this
// process on a loopback port with a known secret; each input is the byte
// stream of one connection to it, or of two.
//
// A stream that starts with a complete Hello frame gets the right proof
// written into that Hello (its first 8 payload bytes) for the connection's
// Challenge and the role the Hello names, so that the rest reaches the
// coordinator as an authenticated process or command; otherwise the stream
// is what an outsider sends.
//
//   one stream: sent whole; the target closes its side and reads until the
//     coordinator closes the connection.
//   process stream + "CKPTNEXT" + command stream: the process connects
//     first and answers: after its Hello, it sends its next frame each time
//     the coordinator sends it one (after Welcome), so that a checkpoint the
//     command asks for walks through Suspend, Snapshot, Write and the commit
//     with whatever the process replies. Both end after kIdleMs without
//     traffic.
//
// The coordinator's state carries over from one input to the next, as it
// would across connections; a CmdQuit ends its loop, and a new coordinator
// takes over on another port.
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ckpt/protocol.h"
#include "common/scoped_fd.h"
#include "coordinator/coordinator.h"
#include "coordinator/generation_store.h"
#include "coordinator/listener.h"

namespace {

using namespace ckpt;

constexpr Secret kSecret = {{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6}};
constexpr int kTimeoutMs = 5000;
constexpr int kIdleMs = 30;  // two-connection inputs end after this long without traffic
constexpr std::string_view kNextStream = "CKPTNEXT";
std::atomic<uint16_t> g_port{0};

// Serves forever: a coordinator that quits is replaced by a new one.
void serve(std::string dir) {
  for (;;) {
    GenerationStore store(dir, 2);
    std::string err;
    CoordinatorConfig config;
    config.secret = kSecret;
    ScopedFd listener = listen_tcp("127.0.0.1", 0, &config.port, &err);
    if (!store.open(&err) || !listener) {
      std::fprintf(stderr, "fuzz_coordinator: %s\n", err.c_str());
      std::abort();
    }
    g_port = config.port;
    Coordinator(std::move(listener), store, config).run();
    g_port = 0;
  }
}

// Reads exactly n bytes, waiting up to kTimeoutMs in all.
bool read_exact(int fd, uint8_t* p, size_t n) {
  while (n > 0) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, kTimeoutMs) <= 0) return false;
    ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

int connect_coordinator() {
  uint16_t port;
  while ((port = g_port) == 0) std::this_thread::yield();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Writes the proof for the connection's nonce into a leading Hello.
void answer_challenge(std::vector<uint8_t>* stream, const uint8_t* nonce) {
  proto::FrameHeader h;
  if (stream->size() < sizeof(h) + 9) return;
  std::memcpy(&h, stream->data(), sizeof(h));
  if (h.type != static_cast<uint16_t>(proto::Msg::kHello) || h.size < 9 ||
      h.size > stream->size() - sizeof(h))
    return;
  uint8_t* payload = stream->data() + sizeof(h);
  auto role = static_cast<proto::Role>(payload[8]);
  uint64_t proof = proto::prove(kSecret.key, nonce, role);
  std::memcpy(payload, &proof, sizeof(proof));
}

// Sends the stream, closes the sending side, reads until the coordinator
// closes (or kTimeoutMs passes without a byte).
void converse(int fd, const std::vector<uint8_t>& stream) {
  size_t sent = 0;
  uint8_t buf[64 * 1024];
  for (;;) {
    short want = POLLIN | (sent < stream.size() ? POLLOUT : 0);
    pollfd pfd{fd, want, 0};
    if (::poll(&pfd, 1, kTimeoutMs) <= 0) return;
    if (pfd.revents & POLLOUT) {
      ssize_t n =
          ::send(fd, stream.data() + sent, stream.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) return;
      sent += static_cast<size_t>(n);
      if (sent == stream.size()) ::shutdown(fd, SHUT_WR);
    }
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN)) return;
    }
  }
}

// Connects and answers the Challenge in the stream's leading Hello.
ScopedFd open_peer(std::vector<uint8_t>* stream) {
  ScopedFd fd(connect_coordinator());
  if (!fd) return fd;
  uint8_t challenge[sizeof(proto::FrameHeader) + proto::kNonceSize];
  if (!read_exact(fd.get(), challenge, sizeof(challenge))) return ScopedFd();
  answer_challenge(stream, challenge + sizeof(proto::FrameHeader));
  return fd;
}

bool send_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    pollfd pfd{fd, POLLOUT, 0};
    if (::poll(&pfd, 1, kTimeoutMs) <= 0) return false;
    ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r < 0 && errno != EAGAIN) return false;
    if (r > 0) p += r, n -= static_cast<size_t>(r);
  }
  return true;
}

// The process side of a two-stream input: its frames one at a time, the
// next one for each frame the coordinator sends (Welcome excepted).
class AnsweringPeer {
 public:
  AnsweringPeer(int fd, const std::vector<uint8_t>& stream) : fd_(fd), stream_(stream) {}

  bool send_next() {
    if (sent_ == stream_.size()) return true;
    size_t end = sent_ + sizeof(proto::FrameHeader);
    if (end <= stream_.size()) {
      proto::FrameHeader h;
      std::memcpy(&h, stream_.data() + sent_, sizeof(h));
      end += h.size;
    }
    end = std::min(end, stream_.size());
    bool ok = send_all(fd_, stream_.data() + sent_, end - sent_);
    sent_ = end;
    return ok;
  }

  // Reads what arrived, answering each complete frame. False once closed.
  bool on_readable() {
    uint8_t buf[64 * 1024];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN)) return false;
    if (n < 0) return true;
    in_.insert(in_.end(), buf, buf + n);
    for (;;) {
      proto::FrameHeader h;
      if (in_.size() < sizeof(h)) return true;
      std::memcpy(&h, in_.data(), sizeof(h));
      if (in_.size() < sizeof(h) + h.size) return true;
      in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(sizeof(h) + h.size));
      if (received_++ > 0 && !send_next()) return false;
    }
  }

 private:
  int fd_;
  const std::vector<uint8_t>& stream_;
  size_t sent_ = 0;
  size_t received_ = 0;
  std::vector<uint8_t> in_;
};

// Drains fd until the coordinator closes it (or kTimeoutMs of silence).
void drain(int fd) {
  ::shutdown(fd, SHUT_WR);
  uint8_t buf[64 * 1024];
  for (;;) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, kTimeoutMs) <= 0) return;
    ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN)) return;
  }
}

void process_and_command(std::vector<uint8_t> process, std::vector<uint8_t> command) {
  ScopedFd a = open_peer(&process);
  if (!a) return;
  AnsweringPeer answering(a.get(), process);
  if (!answering.send_next()) return;
  ScopedFd b = open_peer(&command);
  if (!b || !send_all(b.get(), command.data(), command.size())) return;
  for (bool a_open = true, b_open = true; a_open || b_open;) {
    pollfd pfd[2] = {{a_open ? a.get() : -1, POLLIN, 0}, {b_open ? b.get() : -1, POLLIN, 0}};
    if (::poll(pfd, 2, kIdleMs) <= 0) break;
    if (pfd[0].revents) a_open = answering.on_readable();
    if (pfd[1].revents) {
      uint8_t buf[64 * 1024];
      ssize_t n = ::recv(b.get(), buf, sizeof(buf), MSG_DONTWAIT);
      b_open = !(n == 0 || (n < 0 && errno != EAGAIN));
    }
  }
  drain(b.get());
  drain(a.get());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  static char dir[] = "/tmp/ckpt_fuzz_coordinator.XXXXXX";
  if (!mkdtemp(dir)) std::abort();
  // The coordinator thread may still be writing a generation there when
  // libFuzzer exits: the throwing remove_all would end in std::terminate.
  std::atexit([] {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  });
  std::thread(serve, std::string(dir)).detach();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  if (size_t at = all.find(kNextStream); at != std::string_view::npos) {
    process_and_command(std::vector<uint8_t>(data, data + at),
                        std::vector<uint8_t>(data + at + kNextStream.size(), data + size));
    return 0;
  }
  std::vector<uint8_t> stream(data, data + size);
  if (size == 0) stream.push_back(0);  // an empty stream would not be sent at all
  ScopedFd fd = open_peer(&stream);
  if (fd) converse(fd.get(), stream);
  return 0;
}
