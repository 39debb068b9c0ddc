// Event descriptor state from fdinfo (see fd_kinds_capture.h). Encodings:
//   eventfd : u64 count, u8 semaphore
//   timerfd : u32 clockid, u32 settime flags, u64 ticks, u64 value s, ns, interval s, ns
//   signalfd: u64 mask
//   epoll   : u32 n, then n x {u32 fd, u32 events, u64 data}
#include "event_fd_capture.h"

#include "plugins/fd/fd_capture_ops.h"
#include "plugins/fd/fdinfo.h"

namespace ckpt {

using image::FdKind;

FdKind anon_inode_kind(std::string_view t) {
  if (t == "anon_inode:[eventfd]") return FdKind::kEventfd;
  if (t == "anon_inode:[timerfd]") return FdKind::kTimerfd;
  if (t == "anon_inode:[signalfd]") return FdKind::kSignalfd;
  if (t == "anon_inode:[eventpoll]") return FdKind::kEpoll;
  return FdKind::kOther;
}

void capture_event_fd(FdKind kind, std::string_view info, ByteWriter& out) {
  uint64_t a = 0, b = 0;
  switch (kind) {
    case FdKind::kEventfd:
      fdinfo_number(info, "eventfd-count:", 16, a);
      fdinfo_number(info, "eventfd-semaphore:", 10, b);
      out.put_u64(a);
      out.put_u8(static_cast<uint8_t>(b));
      break;
    case FdKind::kTimerfd: {
      fdinfo_number(info, "clockid:", 10, a);
      out.put_u32(static_cast<uint32_t>(a));
      fdinfo_number(info, "settime flags:", 8, a);
      out.put_u32(static_cast<uint32_t>(a));
      fdinfo_number(info, "ticks:", 10, a);
      out.put_u64(a);
      fdinfo_pair(info, "it_value:", a, b);
      out.put_u64(a);
      out.put_u64(b);
      a = b = 0;
      fdinfo_pair(info, "it_interval:", a, b);
      out.put_u64(a);
      out.put_u64(b);
      break;
    }
    case FdKind::kSignalfd:
      fdinfo_number(info, "sigmask:", 16, a);
      out.put_u64(a);
      break;
    case FdKind::kEpoll: {
      size_t count_at = out.reserve(4);
      uint32_t n = 0;
      for (size_t at = info.find("tfd:"); at != std::string_view::npos;
           at = info.find("tfd:", at + 4)) {
        std::string_view entry = info.substr(at);
        uint64_t fd = 0, events = 0, data = 0;
        fdinfo_number(entry, "tfd:", 10, fd);
        fdinfo_number(entry, "events:", 16, events);
        fdinfo_number(entry, "data:", 16, data);
        out.put_u32(static_cast<uint32_t>(fd));
        out.put_u32(static_cast<uint32_t>(events));
        out.put_u64(data);
        n++;
      }
      out.patch_u32(count_at, n);
      break;
    }
    default:
      break;
  }
}

// The event descriptors' capture table (see plugins/fd/fd_capture_ops.h).
namespace {

FdKind classify_event_fd(const struct stat&, std::string_view target) {
  return anon_inode_kind(target);
}

bool capture_event_fd_state(const FdFacts& f, const AddressMap*, ByteWriter& extra,
                            MessageString&) {
  static char info[16384];
  capture_event_fd(f.kind, read_fdinfo_text(f.fd, info, sizeof(info)), extra);
  return true;
}

}  // namespace

extern const FdCaptureOps kEventFdCaptureOps{
    .family = "event fds", .classify = classify_event_fd, .capture = capture_event_fd_state};

}  // namespace ckpt
