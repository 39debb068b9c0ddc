// Frames of the ckpt_rsh relay connection (see relay_stream.h).
#include "relay_stream.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ckpt::rsh {

bool send_frame(int fd, FrameType type, const void* data, size_t n) {
  uint8_t head[5] = {static_cast<uint8_t>(type), static_cast<uint8_t>(n),
                     static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n >> 16),
                     static_cast<uint8_t>(n >> 24)};
  return write_all(fd, head, sizeof(head)) && (n == 0 || write_all(fd, data, n));
}

bool recv_frame(int fd, FrameType* type, std::string* data) {
  uint8_t head[5];
  if (!read_all(fd, head, sizeof(head))) return false;
  size_t n = head[1] | head[2] << 8 | head[3] << 16 | static_cast<size_t>(head[4]) << 24;
  if (head[0] < static_cast<uint8_t>(FrameType::kHello) ||
      head[0] > static_cast<uint8_t>(FrameType::kExit) || n > kMaxFrame)
    return false;
  *type = static_cast<FrameType>(head[0]);
  data->resize(n);
  return n == 0 || read_all(fd, data->data(), n);
}

long forward_read(int from, int sock, FrameType type) {
  char buf[65536];
  ssize_t r;
  do {
    r = ::read(from, buf, sizeof(buf));
  } while (r < 0 && errno == EINTR);
  if (r <= 0) return r;
  return send_frame(sock, type, buf, static_cast<size_t>(r)) ? r : -1;
}

}  // namespace ckpt::rsh
