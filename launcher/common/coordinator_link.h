// CoordinatorLink: a blocking client connection to the coordinator, used by
// the CLIs (and by tests as a fake process). Connect over TCP, answer the
// Challenge with a Hello that proves the job secret, then exchange frames.
// Every failure leaves a one-line message in error().
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ckpt/byte_codec.h"
#include "ckpt/protocol.h"
#include "common/frame.h"
#include "common/job_secret.h"
#include "common/scoped_fd.h"
#include "common/settings.h"

namespace ckpt {

enum class LinkStatus {
  kOk,
  kUnreachable,  // nothing accepted a TCP connection (or the host is unknown)
  kRejected,     // a coordinator answered and refused us (Reject)
  kBroken,       // connected, but the peer closed, timed out or spoke garbage
};

class CoordinatorLink {
 public:
  CoordinatorLink() = default;

  // connect() + handshake().
  LinkStatus open(const Settings& settings, const Secret& secret, proto::Role role,
                  const proto::ProcessInfo* process = nullptr);
  // TCP connection only (getaddrinfo, every address in turn).
  LinkStatus connect(const std::string& host, uint16_t port);
  // Reads the Challenge, sends Hello, waits for Welcome (kOk) or Reject.
  LinkStatus handshake(const Secret& secret, proto::Role role,
                       const proto::ProcessInfo* process = nullptr);

  bool send(proto::Msg type, const ByteWriter& payload);
  bool send(proto::Msg type);  // empty payload
  template <typename Body>
  bool send_message(proto::Msg type, const Body& body) {
    ByteWriter w;
    body.encode(w);
    return send(type, w);
  }
  // Next frame; nullopt on EOF, timeout or a bad frame (see error()).
  std::optional<Frame> recv();

  // Limit for each recv() in milliseconds; -1 waits forever (the default
  // after the handshake, which itself uses 10 s).
  void set_timeout_ms(int ms) { timeout_ms_ = ms; }
  void close() { fd_.reset(); }
  bool connected() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }

  const std::string& error() const { return error_; }
  const std::string& where() const { return where_; }  // "host:port"
  // From Welcome: last committed generation and the coordinator's dir.
  uint64_t generation() const { return generation_; }
  const std::string& ckpt_dir() const { return ckpt_dir_; }

 private:
  enum class ReadResult { kOk, kEof, kTimeout, kError };
  ReadResult read_exact(void* buf, size_t n);
  LinkStatus fail(LinkStatus status, std::string message);

  ScopedFd fd_;
  int timeout_ms_ = -1;
  std::string error_;
  std::string where_;
  uint64_t generation_ = 0;
  std::string ckpt_dir_;
};

}  // namespace ckpt
