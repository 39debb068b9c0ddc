// File locks (see file_locks.h). fdinfo lines look like
//   lock:\t1: POSIX  ADVISORY  WRITE 32041 fe:00:10954057 120 127
//   lock:\t2: FLOCK  ADVISORY  READ 32041 fe:00:10954062 0 EOF
#include "file_locks.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/syscall.h>

#include "ckpt/sys.h"
#include "runtime/core/proc_files.h"

namespace ckpt {
namespace {

// The next space-separated word of `s` from `at`; empty at the end.
std::string_view next_word(std::string_view s, size_t& at) {
  while (at < s.size() && (s[at] == ' ' || s[at] == '\t')) at++;
  size_t start = at;
  while (at < s.size() && s[at] != ' ' && s[at] != '\t') at++;
  return s.substr(start, at - start);
}

bool parse_u64(std::string_view w, uint64_t& out) {
  if (w.empty()) return false;
  out = 0;
  for (char c : w) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

bool parse_kind(std::string_view type, LockKind& kind) {
  if (type == "POSIX")
    kind = LockKind::kPosix;
  else if (type == "FLOCK")
    kind = LockKind::kFlock;
  else if (type == "OFDLCK")
    kind = LockKind::kOfd;
  else
    return false;
  return true;
}

// One "lock:" line (after the prefix); false if it is not a held lock kept
// across a restart.
bool parse_lock(std::string_view line, HeldLock& l) {
  size_t at = 0;
  std::string_view id = next_word(line, at);
  if (id.empty() || id.back() != ':') return false;  // "->" marks a waiter
  if (!parse_kind(next_word(line, at), l.kind)) return false;
  next_word(line, at);  // ADVISORY / MANDATORY
  std::string_view access = next_word(line, at);
  l.write = access == "WRITE";
  if (!l.write && access != "READ") return false;
  next_word(line, at);  // pid
  next_word(line, at);  // dev:ino
  std::string_view from = next_word(line, at), to = next_word(line, at);
  if (!parse_u64(from, l.start)) return false;
  if (to == "EOF") {
    l.end = kLockToEof;
    return true;
  }
  return parse_u64(to, l.end);
}

long take(const HeldLock& l) {
  if (l.kind == LockKind::kFlock)
    return sys::call2(SYS_flock, l.fd, (l.write ? LOCK_EX : LOCK_SH) | LOCK_NB);
  struct flock fl = {};
  fl.l_type = l.write ? F_WRLCK : F_RDLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(l.start);
  fl.l_len = l.end == kLockToEof ? 0 : static_cast<off_t>(l.end - l.start + 1);
  return sys::fcntl(l.fd, l.kind == LockKind::kOfd ? F_OFD_SETLK : F_SETLK,
                    reinterpret_cast<long>(&fl));
}

}  // namespace

bool parse_file_locks(int fd, std::string_view fdinfo, HeldLock* out, int max, int* n) {
  constexpr std::string_view kPrefix = "lock:";
  while (!fdinfo.empty()) {
    size_t nl = fdinfo.find('\n');
    std::string_view line = fdinfo.substr(0, nl);
    fdinfo = nl == std::string_view::npos ? std::string_view() : fdinfo.substr(nl + 1);
    HeldLock l{fd, LockKind::kPosix, false, 0, 0};
    if (!line.starts_with(kPrefix) || !parse_lock(line.substr(kPrefix.size()), l)) continue;
    if (*n == max) return false;
    out[(*n)++] = l;
  }
  return true;
}

bool retake_file_locks(const HeldLock* locks, int n, MessageString& err) {
  for (int i = 0; i < n; i++) {
    long r = take(locks[i]);
    if (r < 0) {
      err.append("cannot take back a ").append(locks[i].write ? "write" : "read");
      err.append(" lock on fd ").append_int(locks[i].fd).append(" from byte ");
      err.append_int(static_cast<long>(locks[i].start)).append(": ").append(errno_name(-r));
      return false;
    }
  }
  return true;
}

}  // namespace ckpt
