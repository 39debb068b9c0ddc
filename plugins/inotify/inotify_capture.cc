// inotify watches, checkpoint side (see inotify_capture.h).
//
// fdinfo describes each watch as
//   inotify wd:%x ino:%lx sdev:%x mask:%x ignored_mask:%x fhandle-bytes:%x
//   fhandle-type:%x f_handle:%s
// The handle is opened with open_by_handle_at (needs CAP_DAC_READ_SEARCH)
// through a mount of the device `sdev`, found in /proc/self/mountinfo, and
// the path read back from /proc/self/fd.
#include "inotify_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "ckpt/sys.h"
#include "common/hex.h"
#include "plugins/fd/fd_capture_ops.h"
#include "plugins/fd/fdinfo.h"
#include "runtime/core/proc_files.h"

namespace ckpt {
namespace {

inline constexpr uint32_t kInDontFollow = 0x02000000;  // IN_DONT_FOLLOW
inline constexpr int kMaxHandle = 128;                 // MAX_HANDLE_SZ

struct Handle {
  uint32_t bytes;
  int32_t type;
  uint8_t data[kMaxHandle];
};

// One watch line of fdinfo.
struct Watch {
  uint64_t wd = 0, ino = 0, sdev = 0, mask = 0, type = 0, bytes = 0;
  Handle handle = {};

  bool parse(std::string_view line) {
    if (!fdinfo_number(line, "wd:", 16, wd) || !fdinfo_number(line, "ino:", 16, ino) ||
        !fdinfo_number(line, "sdev:", 16, sdev) || !fdinfo_number(line, "mask:", 16, mask) ||
        !fdinfo_number(line, "fhandle-bytes:", 16, bytes) ||
        !fdinfo_number(line, "fhandle-type:", 16, type) || bytes > kMaxHandle)
      return false;
    size_t at = line.find("f_handle:");
    if (at == std::string_view::npos) return false;
    std::string_view hex = line.substr(at + 9);
    if (!decode_hex(hex, handle.data, bytes)) return false;
    handle.bytes = static_cast<uint32_t>(bytes);
    handle.type = static_cast<int32_t>(type);
    return true;
  }
};

// A mount point from mountinfo, with its \ooo escapes decoded.
void unescape(std::string_view s, PathString& out) {
  out.clear();
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
      out.append(static_cast<char>(v));
      i += 3;
    } else {
      out.append(s[i]);
    }
  }
}

// Field `n` (0-based, space separated) of a mountinfo line.
std::string_view field(std::string_view line, int n) {
  for (int i = 0; i < n; i++) {
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return {};
    line.remove_prefix(sp + 1);
  }
  return line.substr(0, line.find(' '));
}

// Opens the watched inode through a mount of its device, whole-filesystem
// mounts first; returns the fd (O_PATH) or -errno.
long open_watched(const Watch& w, std::string_view mountinfo) {
  FixedString<32> dev;
  dev.append_uint(w.sdev >> 20).append(':').append_uint(w.sdev & 0xfffff);
  long last = -ENODEV;
  for (int pass = 0; pass < 2; pass++) {
    for (size_t at = 0; at < mountinfo.size();) {
      size_t nl = mountinfo.find('\n', at);
      if (nl == std::string_view::npos) nl = mountinfo.size();
      std::string_view line = mountinfo.substr(at, nl - at);
      at = nl + 1;
      if (field(line, 2) != dev.view() || (field(line, 3) == "/") != (pass == 0)) continue;
      PathString point;
      unescape(field(line, 4), point);
      // Not O_PATH: open_by_handle_at refuses such a mount fd (EBADF).
      long mnt = sys::open(point.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (mnt < 0) continue;
      long fd = sys::call3(SYS_open_by_handle_at, mnt, reinterpret_cast<long>(&w.handle),
                           O_PATH | O_NOFOLLOW | O_CLOEXEC);
      sys::close(static_cast<int>(mnt));
      if (fd >= 0) return fd;
      last = fd;
    }
  }
  return last;
}

bool watch_error(int fd, const Watch& w, std::string_view why, MessageString& err) {
  err.append("fd ").append_int(fd).append(" (inotify): cannot find the path of watch wd ");
  err.append_uint(w.wd).append(" (inode ").append_uint(w.ino).append(" on device ");
  err.append_uint(w.sdev >> 20).append(':').append_uint(w.sdev & 0xfffff).append("): ");
  err.append(why);
  return false;
}

}  // namespace

bool is_inotify(std::string_view target) { return target == "anon_inode:inotify"; }

bool capture_inotify(int fd, ByteWriter& out, MessageString& err) {
  FixedString<64> path;
  path.append("/proc/self/fdinfo/").append_int(fd);
  ByteWriter info, mounts;  // growable (mmap): an instance may have many watches
  if (!read_whole_file(path.c_str(), info) || !read_whole_file("/proc/self/mountinfo", mounts)) {
    err.append("fd ").append_int(fd).append(" (inotify): cannot read its fdinfo or mountinfo");
    return false;
  }
  std::string_view text(reinterpret_cast<const char*>(info.data()), info.size());
  std::string_view mountinfo(reinterpret_cast<const char*>(mounts.data()), mounts.size());
  size_t count_at = out.reserve(4);
  uint32_t n = 0;
  for (size_t at = text.find("inotify wd:"); at != std::string_view::npos;
       at = text.find("inotify wd:", at + 1)) {
    std::string_view line = text.substr(at, text.find('\n', at) - at);
    Watch w;
    if (!w.parse(line))
      return watch_error(fd, w, "no file handle (filesystem not exportable)", err);
    long opened = open_watched(w, mountinfo);
    if (opened < 0) return watch_error(fd, w, errno_name(-opened), err);
    FixedString<64> link;
    link.append("/proc/self/fd/").append_int(opened);
    PathString target;
    struct stat st;
    bool named = read_link(link.c_str(), target) && target.view().starts_with("/") &&
                 !target.view().ends_with(" (deleted)");
    bool stated = sys::call2(SYS_fstat, opened, reinterpret_cast<long>(&st)) == 0;
    sys::close(static_cast<int>(opened));
    if (!named || !stated || st.st_ino != w.ino)
      return watch_error(fd, w, "the inode has no path any more", err);
    out.put_u32(static_cast<uint32_t>(w.wd));
    out.put_u32(static_cast<uint32_t>(w.mask) | (S_ISLNK(st.st_mode) ? kInDontFollow : 0));
    out.put_str(target.view());
    n++;
  }
  out.patch_u32(count_at, n);
  return !out.overflow();
}

// The inotify family's capture table (see plugins/fd/fd_capture_ops.h).
namespace {

image::FdKind classify_inotify(const struct stat&, std::string_view target) {
  return is_inotify(target) ? image::FdKind::kInotify : image::FdKind::kOther;
}

bool capture_inotify_fd(const FdFacts& f, const AddressMap*, ByteWriter& extra,
                        MessageString& err) {
  return capture_inotify(f.fd, extra, err);
}

}  // namespace

extern const FdCaptureOps kInotifyCaptureOps{
    .family = "inotify", .classify = classify_inotify, .capture = capture_inotify_fd};

}  // namespace ckpt
