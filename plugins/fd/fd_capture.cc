// The fd plugin, checkpoint side (see fd_capture.h).
#include "fd_capture.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "../../runtime/common/image_writer.h"
#include "../../runtime/core/proc_files.h"
#include "ckpt/image_format.h"
#include "ckpt/sys.h"

namespace ckpt {
namespace {

struct FdInfo {
  int64_t pos = 0;
  uint32_t flags = 0;
};

bool read_fdinfo(int fd, FdInfo& info) {
  FixedString<64> path;
  path.append("/proc/self/fdinfo/").append_int(fd);
  char buf[1024];
  ByteWriter text(buf, sizeof(buf));
  read_whole_file(path.c_str(), text);
  std::string_view s(buf, text.size());
  auto field = [&](std::string_view name, int base, uint64_t& out) {
    size_t at = s.find(name);
    if (at == std::string_view::npos) return false;
    uint64_t v = 0;
    for (size_t i = at + name.size(); i < s.size(); i++) {
      char c = s[i];
      if (c == ' ' || c == '\t') continue;
      if (c < '0' || c > '9') break;
      v = v * base + (c - '0');
    }
    out = v;
    return true;
  };
  uint64_t pos = 0, flags = 0;
  if (!field("pos:", 10, pos) || !field("flags:", 8, flags)) return false;
  info.pos = static_cast<int64_t>(pos);
  info.flags = static_cast<uint32_t>(flags);
  return true;
}

bool is_tty_major(unsigned major) {
  return major == 4 || major == 5 || (major >= 136 && major <= 143);
}

image::FdKind classify(const struct stat& st, std::string_view target) {
  if (S_ISREG(st.st_mode))
    return st.st_nlink == 0 || target.ends_with(" (deleted)") ? image::FdKind::kUnlinked
                                                              : image::FdKind::kRegular;
  if (S_ISDIR(st.st_mode)) return image::FdKind::kDirectory;
  if (S_ISCHR(st.st_mode))
    return is_tty_major(major(st.st_rdev)) ? image::FdKind::kTty : image::FdKind::kDevice;
  if (S_ISFIFO(st.st_mode)) return image::FdKind::kPipe;
  if (S_ISSOCK(st.st_mode)) return image::FdKind::kSocket;
  return image::FdKind::kOther;
}

// Fds listed in /proc/self/fd, ascending.
int list_fds(int* out, int max) {
  int dir = static_cast<int>(sys::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir < 0) return -1;
  alignas(8) char buf[8192];
  int n = 0;
  for (;;) {
    long got = sys::getdents64(dir, buf, sizeof(buf));
    if (got <= 0) break;
    for (long off = 0; off < got;) {
      auto reclen = *reinterpret_cast<uint16_t*>(buf + off + 16);
      const char* name = buf + off + 19;
      off += reclen;
      if (name[0] < '0' || name[0] > '9') continue;
      int fd = 0;
      for (const char* p = name; *p; p++) fd = fd * 10 + (*p - '0');
      if (fd != dir && n < max) out[n++] = fd;
    }
  }
  sys::close(dir);
  for (int i = 1; i < n; i++)  // insertion sort: n is small
    for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
      int t = out[j];
      out[j] = out[j - 1];
      out[j - 1] = t;
    }
  return n;
}

bool unsupported(int fd, std::string_view target, MessageString& err) {
  err.append("fd ").append_int(fd).append(" (").append(target);
  err.append(") is a resource ckpt cannot checkpoint yet");
  return false;
}

}  // namespace

bool capture_fds(const int* skip, int n_skip, FdCapture& cap, ByteWriter& out, MessageString& err) {
  static int fds[kMaxFds];
  static struct stat stats[kMaxFds];
  int n = list_fds(fds, kMaxFds);
  if (n < 0) {
    err.append("cannot list /proc/self/fd");
    return false;
  }
  size_t count_at = out.reserve(4);
  cap.count = 0;
  cap.n_unlinked = 0;
  for (int i = 0; i < n; i++) {
    int fd = fds[i];
    bool skipped = false;
    for (int s = 0; s < n_skip; s++) skipped |= skip[s] == fd;
    if (skipped) continue;
    FixedString<64> link;
    link.append("/proc/self/fd/").append_int(fd);
    PathString target;
    if (!read_link(link.c_str(), target)) continue;  // closed meanwhile
    struct stat& st = stats[i];
    if (sys::call2(SYS_fstat, fd, reinterpret_cast<long>(&st)) < 0) continue;
    image::FdRecord r;
    r.fd = fd;
    r.kind = classify(st, target.view());
    if (r.kind == image::FdKind::kSocket || r.kind == image::FdKind::kOther)
      return unsupported(fd, target.view(), err);
    FdInfo info;
    read_fdinfo(fd, info);
    r.open_flags = info.flags & ~(O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY);
    r.fd_flags = static_cast<uint32_t>(sys::fcntl(fd, F_GETFD));
    r.pos = info.pos;
    r.mode = st.st_mode;
    r.dev = st.st_dev;
    r.ino = st.st_ino;
    r.size = st.st_size;
    std::string_view path = target.view();
    if (path.ends_with(" (deleted)")) path.remove_suffix(10);
    r.path = path;
    for (int j = 0; j < i && r.shares_with < 0; j++) {
      if (stats[j].st_ino != st.st_ino || stats[j].st_dev != st.st_dev) continue;
      long pid = sys::getpid();
      if (sys::call5(sys::kKcmp, pid, pid, KCMP_FILE, fds[j], fd) == 0) r.shares_with = fds[j];
    }
    if (r.kind == image::FdKind::kUnlinked && r.shares_with < 0) {
      if (cap.n_unlinked == 64) return unsupported(fd, target.view(), err);
      r.file_data = cap.n_unlinked;
      cap.unlinked_fds[cap.n_unlinked++] = fd;
    }
    r.encode(out);
    cap.count++;
  }
  out.patch_u32(count_at, static_cast<uint32_t>(cap.count));
  return !out.overflow();
}

bool write_unlinked_files(const FdCapture& cap, image::ImageWriter& writer, MessageString& err) {
  for (int i = 0; i < cap.n_unlinked; i++) {
    int fd = cap.unlinked_fds[i];
    struct stat st;
    if (sys::call2(SYS_fstat, fd, reinterpret_cast<long>(&st)) < 0) continue;
    ByteWriter payload;
    image::FileDataHeader h;
    h.index = static_cast<uint32_t>(i);
    h.size = static_cast<uint64_t>(st.st_size);
    h.encode(payload);
    size_t at = payload.reserve(h.size);
    if (payload.overflow()) {
      err.append("out of memory saving unlinked file on fd ").append_int(fd);
      return false;
    }
    uint64_t done = 0;
    while (done < h.size) {
      long got = sys::pread(fd, payload.mutable_data() + at + done, h.size - done,
                            static_cast<long>(done));
      if (got <= 0) break;
      done += static_cast<uint64_t>(got);
    }
    if (!writer.add_section(image::Tag::kFileData, payload)) {
      err.append("cannot write image: ").append(errno_name(-writer.error()));
      return false;
    }
  }
  return true;
}

}  // namespace ckpt
