// Buffered, non-blocking frame I/O on one socket (see connection.h).
#include "connection.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace ckpt {
namespace {

constexpr size_t kKeptCapacity = 1 << 20;

}  // namespace

Connection::ReadStatus Connection::read_available() {
  if (in_used_ > 0) {  // drop frames already returned
    in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(in_used_));
    in_used_ = 0;
  }
  uint8_t buf[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
    if (n > 0) {
      in_.insert(in_.end(), buf, buf + n);
      // Do not let one peer make us buffer without bound.
      if (in_.size() - in_used_ > frame_limit_ + 2 * sizeof(proto::FrameHeader))
        return ReadStatus::kOpen;
      continue;
    }
    if (n == 0) return ReadStatus::kClosed;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadStatus::kOpen;
    return ReadStatus::kClosed;
  }
}

Connection::FrameStatus Connection::next_frame(Frame* out, bool* bad_version) {
  *bad_version = false;
  size_t avail = in_.size() - in_used_;
  if (avail < sizeof(proto::FrameHeader)) return FrameStatus::kNeedMore;
  proto::FrameHeader header;
  std::memcpy(&header, in_.data() + in_used_, sizeof(header));
  HeaderCheck check = check_header(header);
  if (check == HeaderCheck::kOk && header.size > frame_limit_) check = HeaderCheck::kTooLarge;
  if (check != HeaderCheck::kOk) {
    *bad_version = check == HeaderCheck::kBadVersion;
    return FrameStatus::kBad;
  }
  if (avail < sizeof(header) + header.size) return FrameStatus::kNeedMore;
  const uint8_t* body = in_.data() + in_used_ + sizeof(header);
  out->type = static_cast<proto::Msg>(header.type);
  out->payload.assign(body, body + header.size);
  in_used_ += sizeof(header) + header.size;
  if (in_used_ == in_.size()) discard_input();
  return FrameStatus::kFrame;
}

// A peer that once sent a large frame does not keep its buffer for good.
void Connection::discard_input() {
  in_.clear();
  in_used_ = 0;
  if (in_.capacity() > kKeptCapacity) in_.shrink_to_fit();
}

bool Connection::flush() {
  while (out_sent_ < out_.size()) {
    ssize_t n = ::send(fd_.get(), out_.data() + out_sent_, out_.size() - out_sent_,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      out_sent_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
  out_.clear();
  out_sent_ = 0;
  if (out_.capacity() > kKeptCapacity) out_.shrink_to_fit();
  return true;
}

void Connection::flush_blocking(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (has_output()) {
    if (!flush()) return;
    if (!has_output()) return;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd pfd{fd_.get(), POLLOUT, 0};
    ::poll(&pfd, 1, static_cast<int>(left.count()));
  }
}

}  // namespace ckpt
