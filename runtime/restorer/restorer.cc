// FREESTANDING. The restorer: see README.md in this directory for its rules
// (no libc, no globals, raw syscalls, position independent) and its steps.
#include <stddef.h>
#include <stdint.h>

#include "ckpt/restore_args.h"
#include "ckpt/sys.h"

namespace {

using ckpt::RestoreArgs;
namespace sys = ckpt::sys;

constexpr long kMremapMaymove = 1, kMremapFixed = 2;
constexpr long kMapShared = 0x01, kMapFixed = 0x10;
constexpr long kArchSetFs = 0x1002;
constexpr long kPrSetMm = 35, kPrSetMmMap = 14;
constexpr long kRseq = 334, kRseqUnregister = 1;
constexpr long kShmat = 30, kShmdt = 67;
constexpr long kShmRdonly = 010000, kShmRemap = 040000, kShmExec = 0100000;
constexpr long kProtWrite = 2, kProtExec = 4;

struct PrctlMmMap {
  uint64_t start_code, end_code, start_data, end_data, start_brk, brk, start_stack;
  uint64_t arg_start, arg_end, env_start, env_end;
  uint64_t auxv;
  uint32_t auxv_size;
  uint32_t exe_fd;
};

size_t length(const char* s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

[[noreturn]] void fail(const char* what, long err) {
  const char* prefix = "ckpt_restart: restore failed: ";
  sys::write(2, prefix, length(prefix));
  sys::write(2, what, length(what));
  char num[24];
  int n = 0;
  unsigned long v = static_cast<unsigned long>(err < 0 ? -err : err);
  do num[n++] = static_cast<char>('0' + v % 10), v /= 10;
  while (v);
  sys::write(2, " (errno ", 8);
  while (n) sys::write(2, &num[--n], 1);
  sys::write(2, ")\n", 2);
  sys::exit_group(70);
}

bool failed(long r) { return r < 0 && r > -4096; }

void move(uint64_t from, uint64_t len, uint64_t to, const char* what) {
  if (from == to) return;
  long r = sys::mremap(reinterpret_cast<void*>(from), len, len, kMremapMaymove | kMremapFixed,
                       reinterpret_cast<void*>(to));
  if (failed(r)) fail(what, r);
}

void move_specials(RestoreArgs* a) {
  uint64_t park = a->parking;
  for (uint32_t i = 0; i < a->n_specials; i++) {
    move(a->specials[i].from, a->specials[i].len, park, "cannot park the vdso");
    a->specials[i].from = park;
    park += a->specials[i].len;
  }
  for (uint32_t i = 0; i < a->n_specials; i++)
    move(a->specials[i].from, a->specials[i].len, a->specials[i].to, "cannot move the vdso");
}

// A System V segment: attached whole at the mapping of offset 0, then each
// of its mappings gets its protection.
void attach_sysv(const ckpt::RestoreFileMap& m) {
  if (m.offset == 0) {
    long flags = kShmRemap | ((m.prot & kProtWrite) ? 0 : kShmRdonly) |
                 ((m.prot & kProtExec) ? kShmExec : 0);
    long r = sys::call3(kShmat, m.id, static_cast<long>(m.addr), flags);
    if (failed(r)) fail("cannot attach a System V shared memory segment", r);
  }
  long r = sys::mprotect(reinterpret_cast<void*>(m.addr), m.len, static_cast<int>(m.prot));
  if (failed(r)) fail("cannot protect a System V shared memory segment", r);
}

void map_files(RestoreArgs* a) {
  for (uint32_t i = 0; i < a->n_file_maps; i++) {
    const ckpt::RestoreFileMap& m = a->file_maps[i];
    if (m.how == ckpt::kMapSysV) {
      attach_sysv(m);
      continue;
    }
    long fd = m.id;
    if (m.how == ckpt::kMapByPath) {
      fd = sys::open(reinterpret_cast<const char*>(m.path), static_cast<int>(m.open_flags));
      if (failed(fd)) fail("cannot open a shared file mapping", fd);
    }
    long r = sys::mmap(reinterpret_cast<void*>(m.addr), m.len, static_cast<int>(m.prot),
                       kMapShared | kMapFixed, static_cast<int>(fd), static_cast<long>(m.offset));
    if (m.how == ckpt::kMapByPath) sys::close(static_cast<int>(fd));
    if (failed(r)) fail("cannot map a shared file or shared memory object", r);
  }
  // Every process holds each SysV segment attached at all times (inherited
  // temporary, then its own), so a removed one never reaches zero attaches.
  for (uint32_t i = 0; i < a->n_shm_fds && i < ckpt::kMaxRestoreShm; i++) sys::close(a->shm_fds[i]);
  for (uint32_t i = 0; i < a->n_shm_detach && i < ckpt::kMaxRestoreShm; i++)
    sys::call1(kShmdt, static_cast<long>(a->shm_detach[i]));
}

// Lazy restart: the regions just moved into place are still empty; register
// them with the filler's userfaultfd (missing mode) so that a first touch
// waits for the filler, then tell the filler it may start.
void register_lazy(RestoreArgs* a) {
  if (!a->n_lazy) return;
  constexpr long kIoctl = 16;
  constexpr unsigned long kUffdioRegister = 0xc020aa00;  // _IOWR(0xAA, 0, uffdio_register)
  constexpr uint64_t kModeMissing = 1;
  struct {
    uint64_t start, len, mode, ioctls;
  } reg;
  for (uint32_t i = 0; i < a->n_lazy && i < ckpt::kMaxLazyRanges; i++) {
    reg = {a->lazy_ranges[i].start, a->lazy_ranges[i].len, kModeMissing, 0};
    long r = sys::call3(kIoctl, a->lazy_uffd, static_cast<long>(kUffdioRegister),
                        reinterpret_cast<long>(&reg));
    if (failed(r)) fail("cannot register memory for the lazy restart", r);
  }
  // The userfaultfd stays open: the restored runtime holds it until the
  // filler is done (lazy_fill.h), so that the registration outlives a filler
  // that dies. The filler may start.
  char go = 'G';
  sys::write(a->lazy_go_fd, &go, 1);
  sys::close(a->lazy_go_fd);
}

void set_mm_layout(RestoreArgs* a) {
  PrctlMmMap map = {a->mm.start_code,  a->mm.end_code,
                    a->mm.start_data,  a->mm.end_data,
                    a->mm.start_brk,   a->mm.brk,
                    a->mm.start_stack, a->mm.arg_start,
                    a->mm.arg_end,     a->mm.env_start,
                    a->mm.env_end,     a->auxv,
                    a->auxv_size,      static_cast<uint32_t>(a->exe_fd)};
  // Needs CAP_CHECKPOINT_RESTORE; without it the kernel keeps ckpt_restart's
  // values, which the runtime tolerates (see docs/architecture.md, "brk").
  sys::prctl(kPrSetMm, kPrSetMmMap, reinterpret_cast<long>(&map), sizeof(map), 0);
  if (a->exe_fd >= 0) sys::close(a->exe_fd);
}

[[noreturn]] void jump(RestoreArgs* a) {
  *reinterpret_cast<RestoreArgs**>(a->restart_hook) = a;
  long r = sys::arch_prctl(kArchSetFs, a->ckpt_fs_base);
  if (failed(r)) fail("cannot set the thread pointer", r);
  const ckpt::image::JumpContext* c = &a->ckpt_ctx;
  asm volatile(
      "movq 0(%0), %%rbx\n\t"
      "movq 8(%0), %%rbp\n\t"
      "movq 16(%0), %%r12\n\t"
      "movq 24(%0), %%r13\n\t"
      "movq 32(%0), %%r14\n\t"
      "movq 40(%0), %%r15\n\t"
      "movq 48(%0), %%rsp\n\t"
      "movl $1, %%eax\n\t"
      "jmpq *56(%0)\n\t"
      :
      : "D"(c)
      : "memory");
  __builtin_unreachable();
}

}  // namespace

extern "C" [[noreturn]] __attribute__((section(".text.entry"), used)) void restorer_main(
    RestoreArgs* a) {
  if (a->version != ckpt::kRestoreArgsVersion) fail("restore args version mismatch", 0);
  // 0. ckpt_restart's rseq area is about to disappear with its TLS.
  if (a->rseq_len) {
    long r = sys::call4(kRseq, static_cast<long>(a->rseq_addr), a->rseq_len, kRseqUnregister,
                        a->rseq_sig);
    if (failed(r))
      sys::call4(kRseq, static_cast<long>(a->rseq_addr), 32, kRseqUnregister, a->rseq_sig);
  }
  // 1. Everything of ckpt_restart outside the hole.
  for (uint32_t i = 0; i < a->n_unmap; i++)
    sys::munmap(reinterpret_cast<void*>(a->unmap[i].start), a->unmap[i].len);
  // With an empty brk area of its own, the kernel can neither shrink into
  // restored memory nor grow over it when the application calls sbrk.
  if (a->own_start_brk) sys::call1(12 /* brk */, static_cast<long>(a->own_start_brk));
  // 2. vvar/vdso to the image's addresses (glibc cached pointers into them).
  move_specials(a);
  // 3. Memory, already filled, to its final place.
  for (uint32_t i = 0; i < a->n_moves; i++) {
    const ckpt::RestoreMove& m = a->moves[i];
    move(m.from, m.len, m.to, "cannot move a memory region");
    long r = sys::mprotect(reinterpret_cast<void*>(m.to), m.len, static_cast<int>(m.prot));
    if (failed(r)) fail("cannot protect a memory region", r);
  }
  sys::munmap(reinterpret_cast<void*>(a->temp_area.start), a->temp_area.len);
  register_lazy(a);
  // 4. Shared file mappings and shared memory objects.
  map_files(a);
  // 5. Signal dispositions (handlers point into the memory just restored).
  for (int s = 1; s <= 64; s++)
    if (a->sig_set & (1ull << (s - 1)))
      sys::call4(sys::kRtSigaction, s, reinterpret_cast<long>(&a->sigactions[s - 1]), 0, 8);
  // 6. brk, arg/env and /proc/self/exe, where permitted.
  set_mm_layout(a);
  // 7. Into the restored checkpoint thread.
  jump(a);
}
