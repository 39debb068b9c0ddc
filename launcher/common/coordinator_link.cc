// Blocking TCP client of the coordinator protocol (see coordinator_link.h).
#include "coordinator_link.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace ckpt {
namespace {

constexpr int kHandshakeTimeoutMs = 10000;

}  // namespace

LinkStatus CoordinatorLink::fail(LinkStatus status, std::string message) {
  error_ = std::move(message);
  if (status != LinkStatus::kOk) fd_.reset();
  return status;
}

LinkStatus CoordinatorLink::open(const Settings& settings, const Secret& secret, proto::Role role,
                                 const proto::ProcessInfo* process) {
  LinkStatus st = connect(settings.host, settings.port);
  if (st != LinkStatus::kOk) return st;
  return handshake(secret, role, process);
}

LinkStatus CoordinatorLink::connect(const std::string& host, uint16_t port) {
  fd_.reset();
  where_ = host + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    return fail(LinkStatus::kUnreachable, "no coordinator at " + where_ + ": cannot resolve " +
                                              host + ": " + ::gai_strerror(rc));
  }
  int last_errno = ECONNREFUSED;
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    ScopedFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) {
      last_errno = errno;
      continue;
    }
    int r;
    do r = ::connect(fd.get(), ai->ai_addr, ai->ai_addrlen);
    while (r != 0 && errno == EINTR);
    if (r == 0) {
      int one = 1;
      ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      fd_ = std::move(fd);
      break;
    }
    last_errno = errno;
  }
  ::freeaddrinfo(list);
  if (!fd_) {
    return fail(LinkStatus::kUnreachable,
                "no coordinator at " + where_ + ": " + std::strerror(last_errno));
  }
  error_.clear();
  return LinkStatus::kOk;
}

LinkStatus CoordinatorLink::handshake(const Secret& secret, proto::Role role,
                                      const proto::ProcessInfo* process) {
  int saved_timeout = timeout_ms_;
  timeout_ms_ = kHandshakeTimeoutMs;
  auto frame = recv();
  proto::Challenge challenge;
  if (!frame) return fail(LinkStatus::kBroken, error_);
  if (frame->type != proto::Msg::kChallenge || !decode_payload(*frame, &challenge)) {
    return fail(LinkStatus::kBroken,
                "the server at " + where_ + " is not a ckpt coordinator (no Challenge)");
  }
  proto::Hello hello;
  hello.role = role;
  hello.proof = proto::prove(secret.key, challenge.nonce, role);
  if (process) hello.process = *process;
  if (!send_message(proto::Msg::kHello, hello)) return fail(LinkStatus::kBroken, error_);

  frame = recv();
  timeout_ms_ = saved_timeout;
  if (!frame) return fail(LinkStatus::kBroken, error_);
  if (frame->type == proto::Msg::kReject) {
    proto::TextMsg reject;
    decode_payload(*frame, &reject);
    return fail(LinkStatus::kRejected,
                "coordinator at " + where_ + " rejected us: " + std::string(reject.text));
  }
  proto::Welcome welcome;
  if (frame->type != proto::Msg::kWelcome || !decode_payload(*frame, &welcome)) {
    return fail(LinkStatus::kBroken, "coordinator at " + where_ + " sent " + msg_name(frame->type) +
                                         " instead of Welcome");
  }
  generation_ = welcome.generation;
  ckpt_dir_ = std::string(welcome.ckpt_dir);
  error_.clear();
  return LinkStatus::kOk;
}

bool CoordinatorLink::send(proto::Msg type, const ByteWriter& payload) {
  if (!fd_) {
    error_ = "not connected to a coordinator";
    return false;
  }
  std::vector<uint8_t> bytes;
  append_frame(&bytes, type, payload);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd_.get(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = "lost the coordinator at " + where_ + ": " + std::strerror(errno);
      fd_.reset();
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

bool CoordinatorLink::send(proto::Msg type) {
  ByteWriter empty;
  return send(type, empty);
}

CoordinatorLink::ReadResult CoordinatorLink::read_exact(void* buf, size_t n) {
  auto* p = static_cast<uint8_t*>(buf);
  while (n > 0) {
    if (timeout_ms_ >= 0) {
      pollfd pfd{fd_.get(), POLLIN, 0};
      int r = ::poll(&pfd, 1, timeout_ms_);
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) return ReadResult::kTimeout;
      if (r < 0) return ReadResult::kError;
    }
    ssize_t got = ::recv(fd_.get(), p, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got == 0) return ReadResult::kEof;
    if (got < 0) return ReadResult::kError;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return ReadResult::kOk;
}

std::optional<Frame> CoordinatorLink::recv() {
  if (!fd_) {
    error_ = "not connected to a coordinator";
    return std::nullopt;
  }
  auto broken = [&](ReadResult r) -> std::optional<Frame> {
    if (r == ReadResult::kEof) {
      error_ = "coordinator at " + where_ + " closed the connection";
    } else if (r == ReadResult::kTimeout) {
      error_ = "coordinator at " + where_ + " did not answer within " +
               std::to_string(timeout_ms_ / 1000) + " s";
    } else {
      error_ = "lost the coordinator at " + where_ + ": " + std::strerror(errno);
    }
    fd_.reset();
    return std::nullopt;
  };
  proto::FrameHeader header;
  if (auto r = read_exact(&header, sizeof(header)); r != ReadResult::kOk) return broken(r);
  if (check_header(header) != HeaderCheck::kOk) {
    error_ = "the server at " + where_ + " sent a bad frame (version " +
             std::to_string(header.version) + ", " + std::to_string(header.size) + " bytes)";
    fd_.reset();
    return std::nullopt;
  }
  Frame frame;
  frame.type = static_cast<proto::Msg>(header.type);
  frame.payload.resize(header.size);
  if (header.size > 0) {
    if (auto r = read_exact(frame.payload.data(), header.size); r != ReadResult::kOk)
      return broken(r);
  }
  return frame;
}

}  // namespace ckpt
