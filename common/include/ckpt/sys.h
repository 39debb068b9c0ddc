// Raw Linux x86-64 system calls, header-only and libc-free.
//
// Used wherever libc must not be entered: the checkpoint path of the runtime
// (a stopped thread may hold a libc lock), the freestanding restorer, and raw
// worker threads that share another thread's TLS. Every call returns the
// kernel's result: >= 0 on success, -errno on failure. errno is never touched.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ckpt::sys {

inline long call0(long nr) {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
  return ret;
}
inline long call1(long nr, long a) {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a) : "rcx", "r11", "memory");
  return ret;
}
inline long call2(long nr, long a, long b) {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
  return ret;
}
inline long call3(long nr, long a, long b, long c) {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}
inline long call4(long nr, long a, long b, long c, long d) {
  long ret;
  register long r10 asm("r10") = d;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
               : "rcx", "r11", "memory");
  return ret;
}
inline long call5(long nr, long a, long b, long c, long d, long e) {
  long ret;
  register long r10 asm("r10") = d;
  register long r8 asm("r8") = e;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
               : "rcx", "r11", "memory");
  return ret;
}
inline long call6(long nr, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 asm("r10") = d;
  register long r8 asm("r8") = e;
  register long r9 asm("r9") = f;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return ret;
}

// System call numbers used by the project (x86-64).
enum Nr : long {
  kRead = 0,
  kWrite = 1,
  kOpen = 2,
  kClose = 3,
  kFstat = 5,
  kLseek = 8,
  kMmap = 9,
  kMprotect = 10,
  kMunmap = 11,
  kRtSigaction = 13,
  kRtSigprocmask = 14,
  kPread64 = 17,
  kPwrite64 = 18,
  kMremap = 25,
  kMadvise = 28,
  kDup2 = 33,
  kNanosleep = 35,
  kGetpid = 39,
  kSocket = 41,
  kConnect = 42,
  kSendto = 44,
  kRecvfrom = 45,
  kShutdown = 48,
  kClone = 56,
  kFork = 57,
  kExit = 60,
  kWait4 = 61,
  kKill = 62,
  kFcntl = 72,
  kFsync = 74,
  kFtruncate = 77,
  kGetdents64 = 217,
  kRename = 82,
  kMkdir = 83,
  kUnlink = 87,
  kReadlink = 89,
  kUmask = 95,
  kGetrlimit = 97,
  kGetppid = 110,
  kSetrlimit = 160,
  kPrctl = 157,
  kArchPrctl = 158,
  kGettid = 186,
  kFutex = 202,
  kClockGettime = 228,
  kExitGroup = 231,
  kTgkill = 234,
  kWaitid = 247,
  kOpenat = 257,
  kNewfstatat = 262,
  kTee = 276,
  kPipe2 = 293,
  kSetRobustList = 273,
  kPrlimit64 = 302,
  kKcmp = 312,
};

inline long read(int fd, void* buf, size_t n) { return call3(kRead, fd, (long)buf, (long)n); }
inline long write(int fd, const void* buf, size_t n) {
  return call3(kWrite, fd, (long)buf, (long)n);
}
inline long pread(int fd, void* buf, size_t n, long off) {
  return call4(kPread64, fd, (long)buf, (long)n, off);
}
inline long pwrite(int fd, const void* buf, size_t n, long off) {
  return call4(kPwrite64, fd, (long)buf, (long)n, off);
}
inline long open(const char* path, int flags, int mode = 0) {
  return call4(kOpenat, -100 /* AT_FDCWD */, (long)path, flags, mode);
}
inline long close(int fd) { return call1(kClose, fd); }
inline long lseek(int fd, long off, int whence) { return call3(kLseek, fd, off, whence); }
inline long fsync(int fd) { return call1(kFsync, fd); }
inline long ftruncate(int fd, long len) { return call2(kFtruncate, fd, len); }
inline long fcntl(int fd, int cmd, long arg = 0) { return call3(kFcntl, fd, cmd, arg); }
inline long mmap(void* addr, size_t len, int prot, int flags, int fd, long off) {
  return call6(kMmap, (long)addr, (long)len, prot, flags, fd, off);
}
inline long munmap(void* addr, size_t len) { return call2(kMunmap, (long)addr, (long)len); }
inline long mprotect(void* addr, size_t len, int prot) {
  return call3(kMprotect, (long)addr, (long)len, prot);
}
inline long mremap(void* old_addr, size_t old_len, size_t new_len, int flags, void* new_addr) {
  return call5(kMremap, (long)old_addr, (long)old_len, (long)new_len, flags, (long)new_addr);
}
inline long readlink(const char* path, char* buf, size_t n) {
  return call3(kReadlink, (long)path, (long)buf, (long)n);
}
inline long getpid() { return call0(kGetpid); }
inline long getppid() { return call0(kGetppid); }
inline long gettid() { return call0(kGettid); }
inline long tgkill(long tgid, long tid, int sig) { return call3(kTgkill, tgid, tid, sig); }
inline long kill(long pid, int sig) { return call2(kKill, pid, sig); }
inline long futex(void* addr, int op, int val, const void* timeout = nullptr) {
  return call6(kFutex, (long)addr, op, val, (long)timeout, 0, 0);
}
inline long getdents64(int fd, void* buf, size_t n) {
  return call3(kGetdents64, fd, (long)buf, (long)n);
}
inline long mkdir(const char* path, int mode) { return call2(kMkdir, (long)path, mode); }
inline long rename(const char* from, const char* to) {
  return call2(kRename, (long)from, (long)to);
}
inline long unlink(const char* path) { return call1(kUnlink, (long)path); }
inline long arch_prctl(int code, unsigned long addr) { return call2(kArchPrctl, code, (long)addr); }
inline long prctl(int option, long a, long b, long c, long d) {
  return call5(kPrctl, option, a, b, c, d);
}
[[noreturn]] inline void exit_thread(int status) {
  for (;;) call1(kExit, status);
}
[[noreturn]] inline void exit_group(int status) {
  for (;;) call1(kExitGroup, status);
}

}  // namespace ckpt::sys
