// The one flat struct passed from ckpt_restart to the freestanding restorer
// and then to the restored runtime (version kRestoreArgsVersion).
//
// ckpt_restart builds it inside a mapping placed where the image has nothing
// (the "hole"); the restorer reads it after everything else of ckpt_restart
// is gone; the restored checkpoint thread reads the connection settings from
// it and unmaps it. All pointers are absolute addresses inside the hole.
#pragma once

#include <cstdint>

#include "ckpt/address_map.h"
#include "ckpt/image_format.h"

namespace ckpt {

inline constexpr uint32_t kRestoreArgsVersion = 6;
inline constexpr uint32_t kMaxRestoreShm = 512;  // shared memory objects
// The bounds of the id maps, each its own; ckpt_restart refuses a restart
// that needs more (restore_jump.cc) rather than drop entries.
inline constexpr uint32_t kMaxRestorePidMap = 2048;
inline constexpr uint32_t kMaxRestoreShmIds = 512;
inline constexpr uint32_t kMaxRestoreSemIds = 512;
inline constexpr uint32_t kMaxRestoreMsgIds = 512;
// Lazy restart: the most ranges left empty for the filler (more stay eager).
inline constexpr uint32_t kMaxLazyRanges = 1024;

// Ids that changed at this restart: virtual (as the application knows them)
// -> real. Laid out as n, then N virtual ids, then N real ones.
template <uint32_t N>
struct RestoreIdMap {
  static constexpr uint32_t kCapacity = N;
  uint32_t n;
  int32_t virt[N];
  int32_t real[N];
};

struct RestoreRange {
  uint64_t start, len;
};

// Move a filled temporary mapping to its final address, then set prot.
struct RestoreMove {
  uint64_t from, to, len;
  uint32_t prot;
  uint32_t reserved;
};

// Map a shared object at its final address: a file by path, a descriptor
// that ckpt_restart created and every process inherited (a shared memory
// object), or a System V segment.
enum RestoreMapHow : uint32_t {
  kMapByPath = 0,  // open(path, open_flags), mmap MAP_SHARED|MAP_FIXED
  kMapByFd = 1,    // mmap(id) MAP_SHARED|MAP_FIXED
  kMapSysV = 2,    // offset 0: shmat(id, addr, SHM_REMAP); then mprotect(prot)
};

struct RestoreFileMap {
  uint64_t addr, len, offset;
  uint32_t prot;
  uint32_t open_flags;
  uint64_t path;  // kMapByPath: address of a NUL-terminated path inside the hole
  uint32_t how;   // RestoreMapHow
  int32_t id;     // kMapByFd: the descriptor; kMapSysV: the segment's shmid
};

struct KernelSigaction {
  uint64_t handler, flags, restorer, mask;
};

struct RestoreArgs {
  uint32_t version;
  uint32_t flags;
  uint64_t hole_start, hole_len;  // the whole hole (args, restorer, stack)

  // Phase 0: unregister ckpt_restart's rseq area before its TLS goes away.
  uint64_t rseq_addr;
  uint32_t rseq_len;
  uint32_t rseq_sig;
  // Phase 1: unmap what is left of ckpt_restart.
  RestoreRange* unmap;
  uint32_t n_unmap;
  uint64_t own_start_brk;  // ckpt_restart's heap start: its brk is shrunk to it
  // Phase 2: move [vvar]/[vvar_vclock]/[vdso] to where the image had them;
  // first all to a parking spot in the hole, then to their targets.
  uint32_t n_specials;
  RestoreMove specials[4];
  uint64_t parking;  // start of a free area in the hole for phase 2
  // Phase 3: private and shared-anonymous memory, already filled.
  RestoreMove* moves;
  uint32_t n_moves;
  RestoreRange temp_area;  // unmapped once every move is done
  // Phase 4: shared file mappings and shared memory objects; then the
  // objects' descriptors are closed and ckpt_restart's temporary SysV
  // attachments (left mapped by phase 1) detached.
  RestoreFileMap* file_maps;
  uint32_t n_file_maps;
  uint32_t n_shm_fds;
  uint32_t n_shm_detach;
  int32_t shm_fds[kMaxRestoreShm];
  uint64_t shm_detach[kMaxRestoreShm];
  // Phase 5: signal dispositions (bit s-1 of sig_set: entry s-1 is set).
  uint64_t sig_set;
  KernelSigaction sigactions[64];
  // Phase 6: the mm layout (best effort: PR_SET_MM_MAP needs privileges).
  image::MmLayout mm;
  uint64_t auxv;
  uint32_t auxv_size;
  int32_t exe_fd;
  // Phase 7: jump into the checkpoint thread of the restored runtime.
  uint64_t restart_hook;  // *restart_hook = this struct
  uint64_t ckpt_fs_base;
  image::JumpContext ckpt_ctx;

  // Read by the restored runtime.
  int32_t real_pid;
  int32_t real_ppid;
  uint16_t coord_port;
  uint16_t reserved16;
  uint32_t restart_flags;  // kRestart*
  uint8_t secret[16];
  char coord_host[256];
  char ckpt_dir[4096];
  // The batch scheduler's variables of the new allocation (SLURM_*, PBS_*,
  // LSB_*), "NAME=value" strings one after another, each NUL-terminated.
  uint64_t scheduler_env;
  uint32_t scheduler_env_size;
  // System V segments, semaphore sets and message queues whose id changed.
  RestoreIdMap<kMaxRestoreShmIds> shmids;
  RestoreIdMap<kMaxRestoreSemIds> semids;
  RestoreIdMap<kMaxRestoreMsgIds> msgids;
  // The computation's processes whose pid changed at this restart.
  RestoreIdMap<kMaxRestorePidMap> pids;
  // Virtual -> real network addresses (address_map.h); n = 0 when nothing
  // moved.
  AddressMap addresses;

  // Lazy restart (launcher/restart/lazy_restart.h); n_lazy = 0: eager. After
  // phase 3 the restorer registers lazy_ranges (moved there empty) with the
  // userfaultfd lazy_uffd in missing mode and writes one byte to lazy_go_fd
  // (then closed): the filler process starts filling. The restored runtime
  // keeps lazy_uffd and lazy_done_fd (a socket to the filler, which writes
  // 'D' once every page is in) until the fill is over (lazy_fill.h).
  uint32_t n_lazy;
  int32_t lazy_uffd;
  int32_t lazy_go_fd;
  int32_t lazy_done_fd;
  RestoreRange lazy_ranges[kMaxLazyRanges];
};

inline constexpr uint32_t kRestartNoRollback = 1;

// Entry point of the restorer blob (at offset 0), called on the hole's stack.
using RestorerEntry = void (*)(RestoreArgs*);

}  // namespace ckpt
