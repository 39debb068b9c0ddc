// The fd plugin, checkpoint side (see fd_capture.h).
#include "fd_capture.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "../../runtime/common/image_writer.h"
#include "../../runtime/core/proc_files.h"
#include "ckpt/image_format.h"
#include "ckpt/sys.h"
#include "fd_kinds_capture.h"
#include "fd_owner.h"
#include "fdinfo.h"
#include "fifo_capture.h"
#include "host_local_path.h"
#include "inotify_capture.h"
#include "pipe_content.h"
#include "pty_capture.h"
#include "socket_capture.h"

namespace ckpt {
namespace {

bool is_tty_major(unsigned major) {
  return major == 4 || major == 5 || (major >= 136 && major <= 143);
}

image::FdKind classify(const struct stat& st, std::string_view target) {
  if (S_ISREG(st.st_mode))
    return st.st_nlink == 0 || target.ends_with(" (deleted)") ? image::FdKind::kUnlinked
                                                              : image::FdKind::kRegular;
  if (S_ISDIR(st.st_mode)) return image::FdKind::kDirectory;
  if (pty_kind(st) != image::FdKind::kOther) return pty_kind(st);
  if (S_ISCHR(st.st_mode))
    return is_tty_major(major(st.st_rdev)) ? image::FdKind::kTty : image::FdKind::kDevice;
  if (is_named_fifo(st, target)) return image::FdKind::kFifo;
  if (S_ISFIFO(st.st_mode)) return image::FdKind::kPipe;
  if (is_inotify(target)) return image::FdKind::kInotify;
  if (S_ISSOCK(st.st_mode)) return image::FdKind::kSocket;
  return anon_inode_kind(target);
}

// Fds listed in /proc/self/fd, ascending.
int list_fds(int* out, int max) {
  int n = 0;
  bool ok = for_each_numbered_entry("/proc/self/fd", [&](long fd, int dir) {
    if (fd != dir && n < max) out[n++] = static_cast<int>(fd);
  });
  if (!ok) return -1;
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

// What pass 1 learns of each descriptor.
struct FdFacts {
  int fd;
  struct stat st;
  uint32_t flags;
  int64_t pos;
  image::FdKind kind;
  PathString target;
};

FdFacts g_facts[kMaxFds];
FdOwner g_owners[kMaxFds];

int index_of(int fd, int n) {
  for (int i = 0; i < n; i++)
    if (g_facts[i].fd == fd) return i;
  return 0;
}

bool same_pipe(const FdFacts& a, const FdFacts& b) {
  return S_ISFIFO(a.st.st_mode) && S_ISFIFO(b.st.st_mode) && a.st.st_ino == b.st.st_ino &&
         a.st.st_dev == b.st.st_dev;
}

bool is_read_end(const FdFacts& f) { return (f.flags & O_ACCMODE) == O_RDONLY; }

// A pipe is inside the process when both of its ends are.
bool pipe_inside(const FdFacts* facts, int n, int i) {
  if (!facts[i].target.view().starts_with("pipe:")) return false;
  for (int j = 0; j < n; j++)
    if (same_pipe(facts[i], facts[j]) && is_read_end(facts[i]) != is_read_end(facts[j]))
      return true;
  return false;
}

// A pipe end: its inode, which end, and (read ends) the bytes in flight,
// copied with tee(2) so that nothing is consumed: several processes may
// hold the read end and capture at once.
void capture_pipe(const FdFacts& f, ByteWriter& extra) {
  extra.put_u64(f.st.st_ino);
  extra.put_u8(is_read_end(f));
  tee_pipe_content(f.fd, is_read_end(f), extra);
}

int gather_facts(const int* skip, int n_skip, FdFacts* facts) {
  static int fds[kMaxFds];
  int listed = list_fds(fds, kMaxFds);
  int n = 0;
  static char info[16384];
  for (int i = 0; i < listed; i++) {
    bool skipped = false;
    for (int s = 0; s < n_skip; s++) skipped |= skip[s] == fds[i];
    if (skipped) continue;
    FdFacts& f = facts[n];
    f.fd = fds[i];
    FixedString<64> link;
    link.append("/proc/self/fd/").append_int(f.fd);
    if (!read_link(link.c_str(), f.target)) continue;  // closed meanwhile
    if (sys::call2(SYS_fstat, f.fd, reinterpret_cast<long>(&f.st)) < 0) continue;
    std::string_view text = read_fdinfo_text(f.fd, info, sizeof(info));
    uint64_t pos = 0, flags = 0;
    fdinfo_number(text, "pos:", 10, pos);
    fdinfo_number(text, "flags:", 8, flags);
    f.pos = static_cast<int64_t>(pos);
    f.flags = static_cast<uint32_t>(flags);
    f.kind = classify(f.st, f.target.view());
    n++;
  }
  for (int i = 0; i < n; i++)
    if (facts[i].kind == image::FdKind::kPipe && pipe_inside(facts, n, i))
      facts[i].kind = image::FdKind::kPipeInside;
  return n;
}

int32_t shared_with(const FdFacts* facts, int i) {
  long pid = sys::getpid();
  for (int j = 0; j < i; j++) {
    if (facts[j].st.st_ino != facts[i].st.st_ino || facts[j].st.st_dev != facts[i].st.st_dev)
      continue;
    if (sys::call5(sys::kKcmp, pid, pid, KCMP_FILE, facts[j].fd, facts[i].fd) == 0)
      return facts[j].fd;
  }
  return -1;
}

// A small regular file in a directory each host has its own of
// (host_local_path.h): its content is saved too, so that a restart on another
// host can put it back (an MPI launcher's session directory, e.g. hwloc.sm).
bool is_host_local_file(const image::FdRecord& r) {
  constexpr int64_t kMaxHostLocal = 16 << 20;
  return r.kind == image::FdKind::kRegular && r.size <= kMaxHostLocal && is_host_local_path(r.path);
}

}  // namespace

bool capture_fds(const int* skip, int n_skip, FdCapture& cap, ByteWriter& out, MessageString& err) {
  int n = gather_facts(skip, n_skip, g_facts);
  if (n < 0) {
    err.append("cannot list /proc/self/fd");
    return false;
  }
  find_ancestors();
  size_t count_at = out.reserve(4);
  cap.count = 0;
  cap.n_unlinked = 0;
  static char info[16384];
  ByteWriter extra;
  for (int i = 0; i < n; i++) {
    const FdFacts& f = g_facts[i];
    if (f.kind == image::FdKind::kOther) return unsupported(f.fd, f.target.view(), err);
    image::FdRecord r;
    r.fd = f.fd;
    r.kind = f.kind;
    r.open_flags = f.flags & ~(O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY);
    r.fd_flags = static_cast<uint32_t>(sys::fcntl(f.fd, F_GETFD));
    r.pos = f.pos;
    r.mode = f.st.st_mode;
    r.dev = f.st.st_dev;
    r.ino = f.st.st_ino;
    r.size = f.st.st_size;
    std::string_view path = f.target.view();
    if (path.ends_with(" (deleted)")) path.remove_suffix(10);
    r.path = path;
    r.shares_with = shared_with(g_facts, i);
    extra.clear();
    FdOwner owner = r.shares_with < 0 ? fd_owner(f.fd, f.st) : g_owners[index_of(r.shares_with, n)];
    g_owners[i] = owner;
    r.owner_pid = owner.pid;
    r.owner_fd = owner.fd;
    if ((r.kind == image::FdKind::kPipeInside || r.kind == image::FdKind::kPipe) &&
        f.target.view().starts_with("pipe:"))
      capture_pipe(f, extra);
    else if ((r.kind == image::FdKind::kPtyMaster || r.kind == image::FdKind::kPtySlave) &&
             r.shares_with < 0)
      capture_pty(r.kind, f.fd, f.st, extra);
    else if (r.kind == image::FdKind::kInotify && r.shares_with < 0) {
      if (!capture_inotify(f.fd, extra, err)) return false;
    } else if (r.kind == image::FdKind::kSocket && r.shares_with < 0) {
      if (!capture_socket(f.fd, f.st, extra, err, cap.addresses)) return false;
    } else if (r.kind == image::FdKind::kFifo && r.shares_with < 0) {
      if (!capture_fifo(f.fd, f.st, f.flags, f.target.view(), extra, err)) return false;
    } else if (r.shares_with < 0)
      capture_event_fd(r.kind, read_fdinfo_text(f.fd, info, sizeof(info)), extra);
    r.extra = std::string_view(reinterpret_cast<const char*>(extra.data()), extra.size());
    bool host_local = is_host_local_file(r) && cap.n_unlinked < 64;  // else reopened by path
    if ((r.kind == image::FdKind::kUnlinked || host_local) && r.shares_with < 0) {
      if (cap.n_unlinked == 64) return unsupported(f.fd, f.target.view(), err);
      r.file_data = cap.n_unlinked;
      cap.unlinked_fds[cap.n_unlinked++] = f.fd;
    }
    r.encode(out);
    cap.count++;
  }
  out.patch_u32(count_at, static_cast<uint32_t>(cap.count));
  return !out.overflow();
}

bool save_unlinked_files(FdCapture& cap, MessageString& err) {
  cap.file_data.clear();
  for (int i = 0; i < cap.n_unlinked; i++) {
    int fd = cap.unlinked_fds[i];
    struct stat st;
    if (sys::call2(SYS_fstat, fd, reinterpret_cast<long>(&st)) < 0) st.st_size = 0;
    size_t size_at = cap.file_data.reserve(8);
    size_t start = cap.file_data.size();
    image::FileDataHeader h;
    h.index = static_cast<uint32_t>(i);
    h.size = static_cast<uint64_t>(st.st_size);
    h.encode(cap.file_data);
    size_t at = cap.file_data.reserve(h.size);
    if (cap.file_data.overflow()) {
      err.append("out of memory saving the unlinked file on fd ").append_int(fd);
      return false;
    }
    for (uint64_t done = 0; done < h.size;) {
      long got = sys::pread(fd, cap.file_data.mutable_data() + at + done, h.size - done,
                            static_cast<long>(done));
      if (got <= 0) break;
      done += static_cast<uint64_t>(got);
    }
    cap.file_data.patch_u64(size_at, cap.file_data.size() - start);
  }
  return true;
}

bool write_unlinked_files(const FdCapture& cap, image::ImageWriter& writer, MessageString& err) {
  ByteReader in(cap.file_data.data(), cap.file_data.size());
  for (int i = 0; i < cap.n_unlinked; i++) {
    uint64_t size = in.u64();
    const uint8_t* payload = in.bytes(size);
    if (!payload || !writer.add_section(image::Tag::kFileData, payload, size)) {
      err.append("cannot write image: ").append(errno_name(-writer.error()));
      return false;
    }
  }
  return true;
}

}  // namespace ckpt
