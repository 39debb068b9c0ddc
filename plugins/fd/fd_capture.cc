// The fd plugin, checkpoint side (see fd_capture.h): lists the descriptors,
// finds shared descriptions and owners, and hands each descriptor to its
// family's FdCaptureOps (fd_capture_ops.h).
#include "fd_capture.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <new>

#include "ckpt/image_format.h"
#include "ckpt/sys.h"
#include "common/image_writer.h"
#include "fd_capture_ops.h"
#include "fd_owner.h"
#include "fdinfo.h"
#include "file_locks.h"
#include "job_files.h"
#include "runtime/core/proc_files.h"

namespace ckpt {
namespace {

// The family of a descriptor (the first whose classify knows it), or null.
const FdCaptureOps* family_of(const struct stat& st, std::string_view target, image::FdKind* kind) {
  for (const FdCaptureOps* ops : fd_capture_families()) {
    *kind = ops->classify(st, target);
    if (*kind != image::FdKind::kOther) return ops;
  }
  return nullptr;
}

constexpr int kListFailed = -1, kTooManyFds = -2;

// Fds listed in /proc/self/fd, ascending; kTooManyFds past `max`.
int list_fds(int* out, int max) {
  int n = 0;
  bool more = false;
  bool ok = for_each_numbered_entry("/proc/self/fd", [&](long fd, int dir) {
    if (fd == dir) return;
    if (n == max) more = true;
    if (n < max) out[n++] = static_cast<int>(fd);
  });
  if (!ok) return kListFailed;
  if (more) return kTooManyFds;
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

// Raw storage, each entry constructed when gather_facts fills it: an array
// of FdFacts constructed at load time would write to all of its 17 MiB, so
// every process would carry it resident (and each checkpoint would scan it).
alignas(FdFacts) unsigned char g_facts_storage[kMaxFds * sizeof(FdFacts)];
FdFacts* const g_facts = reinterpret_cast<FdFacts*>(g_facts_storage);
const FdCaptureOps* g_ops[kMaxFds];  // each descriptor's family (null: none)
FdOwner g_owners[kMaxFds];

int index_of(int fd, int n) {
  for (int i = 0; i < n; i++)
    if (g_facts[i].fd == fd) return i;
  return 0;
}

int gather_facts(const int* skip, int n_skip, FdFacts* facts) {
  static int fds[kMaxFds];
  int listed = list_fds(fds, kMaxFds);
  if (listed < 0) return listed;
  int n = 0;
  static char info[16384];
  for (int i = 0; i < listed; i++) {
    bool skipped = false;
    for (int s = 0; s < n_skip; s++) skipped |= skip[s] == fds[i];
    if (skipped) continue;
    FdFacts& f = *new (&facts[n]) FdFacts();
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
    g_ops[n] = family_of(f.st, f.target.view(), &f.kind);
    n++;
  }
  for (const FdCaptureOps* ops : fd_capture_families())
    if (ops->refine) ops->refine(facts, n);
  return n;
}

// The directories the job made on the way to what `fd` names (job_files.h).
void note_dirs_of(const image::FdRecord& r, int fd) {
  if (r.kind == image::FdKind::kDirectory) note_job_dirs(r.path, true);
  if (r.kind == image::FdKind::kFifo) note_job_dirs(r.path, false);
  if (r.kind == image::FdKind::kSocket && r.shares_with < 0) note_socket_dirs(fd);
}

// A descriptor to read the content of `fd` from: itself, or (opened
// write-only) the same file opened again for reading; -1 if neither.
int readable_fd(int fd) {
  if ((sys::fcntl(fd, F_GETFL) & O_ACCMODE) != O_WRONLY) return fd;
  FixedString<64> link;
  link.append("/proc/self/fd/").append_int(fd);
  return static_cast<int>(sys::open(link.c_str(), O_RDONLY | O_CLOEXEC));
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

// A regular file open read-write (not append-only) may be changed in place,
// as databases do (SQLite's database and -wal files): its content is saved
// so that the restart puts it back as it was (rollback). A small write-only
// file too: programs write a temporary file and rename it over the real one
// once complete, so the path it had at the checkpoint may be gone at the
// restart, which makes it again. Size rollback is enough for append-only
// files. /dev/shm files are shared memory (shm_capture). Files past
// kMaxContentBytes (kMaxWriteOnlyBytes) get size rollback only.
bool saved_by_content(const FdFacts& f, FdCapture& cap) {
  int mode = f.flags & O_ACCMODE;
  int64_t limit = mode == O_RDWR     ? FdCapture::kMaxContentBytes
                  : mode == O_WRONLY ? FdCapture::kMaxWriteOnlyBytes
                                     : -1;
  bool take = !(f.flags & O_APPEND) && f.st.st_size <= limit &&
              cap.content_bytes + f.st.st_size <= FdCapture::kMaxContentTotal &&
              !f.target.view().starts_with("/dev/shm/");
  if (take) cap.content_bytes += f.st.st_size;
  return take;
}

// The file locks held through a regular file's descriptor (file_locks.h).
bool capture_locks(const FdFacts& f, FdCapture& cap, MessageString& err) {
  static char info[16384];
  if (parse_file_locks(f.fd, read_fdinfo_text(f.fd, info, sizeof(info)), cap.locks,
                       FdCapture::kMaxLocks, &cap.n_locks))
    return true;
  err.append("fd ").append_int(f.fd).append(" (").append(f.target.view());
  err.append("): the process holds more file locks than ckpt keeps (");
  err.append_int(FdCapture::kMaxLocks).append(")");
  return false;
}

}  // namespace

bool capture_fds(const int* skip, int n_skip, FdCapture& cap, ByteWriter& out, MessageString& err) {
  int n = gather_facts(skip, n_skip, g_facts);
  if (n == kTooManyFds) {
    err.append("more than ").append_int(kMaxFds).append(" open descriptors: not supported");
    return false;
  }
  if (n < 0) {
    err.append("cannot list /proc/self/fd");
    return false;
  }
  find_ancestors();
  job_files_begin();
  size_t count_at = out.reserve(4);
  cap.count = 0;
  cap.n_unlinked = 0;
  cap.n_locks = 0;
  cap.content_bytes = 0;
  ByteWriter extra;
  for (int i = 0; i < n; i++) {
    const FdFacts& f = g_facts[i];
    if (!g_ops[i]) return unsupported(f.fd, f.target.view(), err);
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
    const FdCaptureOps* ops = g_ops[i];
    if (ops->capture && (r.shares_with < 0 || ops->every_fd) &&
        !ops->capture(f, cap.addresses, extra, err))
      return false;
    if (r.kind == image::FdKind::kRegular && r.shares_with < 0 && !capture_locks(f, cap, err))
      return false;
    r.extra = std::string_view(reinterpret_cast<const char*>(extra.data()), extra.size());
    if (r.kind == image::FdKind::kUnlinked && r.shares_with < 0) {
      if (cap.n_unlinked == kMaxSavedFiles) return unsupported(f.fd, f.target.view(), err);
      r.file_data = cap.n_unlinked;
      cap.unlinked_fds[cap.n_unlinked++] = f.fd;
    } else if (r.kind == image::FdKind::kRegular && r.shares_with < 0 &&
               cap.n_unlinked < kMaxSavedFiles &&
               (take_job_file(f.fd, path, f.st) || saved_by_content(f, cap))) {
      // Job-private (job_files.h) or changed in place: saved by content, put
      // back (or made again) by the restart's job_files_restore.
      r.file_data = cap.n_unlinked;
      cap.unlinked_fds[cap.n_unlinked++] = f.fd;
    }
    note_dirs_of(r, f.fd);
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
    int from = readable_fd(fd);
    for (uint64_t done = 0; from >= 0 && done < h.size;) {
      long got = sys::pread(from, cap.file_data.mutable_data() + at + done, h.size - done,
                            static_cast<long>(done));
      if (got <= 0) break;
      done += static_cast<uint64_t>(got);
    }
    if (from != fd && from >= 0) sys::close(from);
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
  std::string_view dirs = job_dirs_payload();
  if (!dirs.empty() && !writer.add_section(image::Tag::kJobDirs, dirs.data(), dirs.size())) {
    err.append("cannot write image: ").append(errno_name(-writer.error()));
    return false;
  }
  return true;
}

}  // namespace ckpt
