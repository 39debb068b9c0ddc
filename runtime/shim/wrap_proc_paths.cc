// /proc/<pid>/... paths name processes by their real pids: a virtual pid
// that runs under another real pid is translated in every call that opens,
// lists, stats or checks a path (readlink: wrap_proc.cc). Only absolute
// paths; the contents of /proc files are not rewritten (docs/supported.md).

// Both the plain and the *64 names are defined here: without this the
// project's _FILE_OFFSET_BITS=64 would give `open` the symbol name open64.
#undef _FILE_OFFSET_BITS
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc_path.h"
#include "real_functions.h"

using ckpt::real;
using ckpt::with_real_proc_path;

namespace {

// open(2)'s third argument is there only when the flags create a file.
mode_t mode_arg(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

}  // namespace

#define CKPT_OPEN_WRAPPER(name)                                                                   \
  CKPT_WRAPPER int name(const char* path, int flags, ...) {                                       \
    va_list ap;                                                                                   \
    va_start(ap, flags);                                                                          \
    mode_t mode = mode_arg(flags, ap);                                                            \
    va_end(ap);                                                                                   \
    return with_real_proc_path(path, [&](const char* p) { return real().name(p, flags, mode); }); \
  }
#define CKPT_OPENAT_WRAPPER(name)                                                                  \
  CKPT_WRAPPER int name(int dirfd, const char* path, int flags, ...) {                             \
    va_list ap;                                                                                    \
    va_start(ap, flags);                                                                           \
    mode_t mode = mode_arg(flags, ap);                                                             \
    va_end(ap);                                                                                    \
    return with_real_proc_path(path,                                                               \
                               [&](const char* p) { return real().name(dirfd, p, flags, mode); }); \
  }
CKPT_OPEN_WRAPPER(open)
CKPT_OPEN_WRAPPER(open64)
CKPT_OPENAT_WRAPPER(openat)
CKPT_OPENAT_WRAPPER(openat64)
#undef CKPT_OPEN_WRAPPER
#undef CKPT_OPENAT_WRAPPER

// The fortified forms (_FORTIFY_SOURCE) of open without a mode.
CKPT_WRAPPER int __open_2(const char* path, int flags) {
  return with_real_proc_path(path, [&](const char* p) { return real().open_2(p, flags); });
}
CKPT_WRAPPER int __open64_2(const char* path, int flags) {
  return with_real_proc_path(path, [&](const char* p) { return real().open64_2(p, flags); });
}
CKPT_WRAPPER int __openat_2(int dirfd, const char* path, int flags) {
  return with_real_proc_path(path, [&](const char* p) { return real().openat_2(dirfd, p, flags); });
}
CKPT_WRAPPER int __openat64_2(int dirfd, const char* path, int flags) {
  return with_real_proc_path(path,
                             [&](const char* p) { return real().openat64_2(dirfd, p, flags); });
}

CKPT_WRAPPER FILE* fopen(const char* path, const char* mode) {
  return with_real_proc_path(path, [&](const char* p) { return real().fopen(p, mode); });
}
CKPT_WRAPPER FILE* fopen64(const char* path, const char* mode) {
  return with_real_proc_path(path, [&](const char* p) { return real().fopen64(p, mode); });
}

CKPT_WRAPPER DIR* opendir(const char* path) {
  return with_real_proc_path(path, [&](const char* p) { return real().opendir(p); });
}

CKPT_WRAPPER int stat(const char* path, struct stat* st) {
  return with_real_proc_path(path, [&](const char* p) { return real().stat(p, st); });
}
CKPT_WRAPPER int stat64(const char* path, struct stat64* st) {
  return with_real_proc_path(path, [&](const char* p) { return real().stat64(p, st); });
}
CKPT_WRAPPER int lstat(const char* path, struct stat* st) {
  return with_real_proc_path(path, [&](const char* p) { return real().lstat(p, st); });
}
CKPT_WRAPPER int lstat64(const char* path, struct stat64* st) {
  return with_real_proc_path(path, [&](const char* p) { return real().lstat64(p, st); });
}
CKPT_WRAPPER int fstatat(int dirfd, const char* path, struct stat* st, int flags) {
  return with_real_proc_path(path,
                             [&](const char* p) { return real().fstatat(dirfd, p, st, flags); });
}
CKPT_WRAPPER int fstatat64(int dirfd, const char* path, struct stat64* st, int flags) {
  return with_real_proc_path(path,
                             [&](const char* p) { return real().fstatat64(dirfd, p, st, flags); });
}
CKPT_WRAPPER int statx(int dirfd, const char* path, int flags, unsigned int mask,
                       struct statx* st) {
  return with_real_proc_path(
      path, [&](const char* p) { return real().statx(dirfd, p, flags, mask, st); });
}

CKPT_WRAPPER int access(const char* path, int mode) {
  return with_real_proc_path(path, [&](const char* p) { return real().access(p, mode); });
}
CKPT_WRAPPER int faccessat(int dirfd, const char* path, int mode, int flags) {
  return with_real_proc_path(
      path, [&](const char* p) { return real().faccessat(dirfd, p, mode, flags); });
}
