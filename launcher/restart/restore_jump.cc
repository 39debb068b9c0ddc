// Building the restorer's arguments and jumping into it (see restore_jump.h).
#include "restore_jump.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "ckpt/maps.h"
#include "ckpt/sys.h"
#include "plugins/sockets/network_plan.h"
#include "restore_bounds.h"

extern "C" {
extern const uint8_t ckpt_restorer_blob[];
extern const uint8_t ckpt_restorer_blob_end[];
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));
}

namespace ckpt {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint32_t kMaxUnmap = 8192;
constexpr uint64_t kMapsBuffer = 4u << 20;
constexpr uint64_t kStackSize = 256 * 1024;
constexpr uint64_t kSchedulerEnvSize = 64 * 1024;

uint64_t round_up(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

uint64_t blob_size() { return round_up(ckpt_restorer_blob_end - ckpt_restorer_blob); }

// Carves the hole: [args | unmap | moves | file maps + paths | maps text | blob | parking | stack]
struct HoleLayout {
  uint64_t args, unmap, moves, file_maps, paths, sched_env, maps_text, blob, parking, stack_top;
};

HoleLayout g_layout;  // of the current restart, set by prepare_restore_args

HoleLayout layout(const image::LoadedImage& img, uint64_t base, uint64_t parking_len) {
  HoleLayout h;
  h.args = base;
  h.unmap = round_up(h.args + sizeof(RestoreArgs));
  h.moves = round_up(h.unmap + kMaxUnmap * sizeof(RestoreRange));
  h.file_maps = round_up(h.moves + (img.regions.size() + 8) * sizeof(RestoreMove));
  h.paths = round_up(h.file_maps + 2 * img.regions.size() * sizeof(RestoreFileMap));
  h.sched_env = round_up(h.paths + img.regions.size() * 4096);
  h.maps_text = round_up(h.sched_env + kSchedulerEnvSize);
  h.blob = h.maps_text + kMapsBuffer;
  h.parking = h.blob + blob_size();
  h.stack_top = round_up(h.parking + parking_len) + kStackSize;
  return h;
}

// Mappings of shared memory objects: from the descriptor every process
// inherited, or the SysV segment; then the descriptors closed and the
// temporary attachments detached.
bool fill_shm_ops(const image::LoadedImage& img, const MemoryPlan& plan, const ShmRestorer& shm,
                  RestoreArgs* a, std::string* err) {
  for (uint32_t index : plan.shm_regions) {
    const auto& r = img.regions[index];
    const ShmObject* o = shm.find(r.dev, r.ino);
    if (!o) {
      *err = "internal error: no shared memory object for the region at " + std::to_string(r.start);
      return false;
    }
    bool sysv = o->record.kind == image::ShmKind::kSysV;
    if (sysv && r.offset == 0 && r.end - r.start < o->record.size) {
      // shmat maps the whole segment: each of its pieces must be there.
      uint64_t covered = 0;
      for (uint32_t other : plan.shm_regions) {
        const auto& q = img.regions[other];
        if (q.dev == r.dev && q.ino == r.ino && q.start - q.offset == r.start)
          covered += q.end - q.start;
      }
      if (covered < ((o->record.size + 4095) & ~4095ull)) {
        *err = "System V shared memory segment " + std::to_string(o->record.shmid) +
               " was partly detached at the checkpoint: not supported";
        return false;
      }
    }
    a->file_maps[a->n_file_maps++] = {r.start,
                                      r.end - r.start,
                                      r.offset,
                                      r.prot,
                                      0,
                                      0,
                                      sysv ? kMapSysV : kMapByFd,
                                      sysv ? o->shmid : o->fd};
  }
  return fill_bounded(a->shm_fds, a->n_shm_fds, kMaxRestoreShm, shm.fds(),
                      "shared memory objects to map by descriptor", err) &&
         fill_bounded(a->shm_detach, a->n_shm_detach, kMaxRestoreShm, shm.temp_attachments(),
                      "temporary System V attachments to detach", err) &&
         fill_id_map(a->shmids, shm.shmid_map(), "System V shared memory segments whose id changed",
                     err);
}

void fill_memory_ops(const image::LoadedImage& img, const MemoryPlan& plan, RestoreArgs* a,
                     const HoleLayout& h) {
  a->moves = reinterpret_cast<RestoreMove*>(h.moves);
  for (const auto& t : plan.temps) {
    if (t.kind == image::RegionKind::kFileShared) continue;  // written back, not moved
    a->moves[a->n_moves++] = {t.temp, t.target, t.len, t.prot, 0};
  }
  a->temp_area = {plan.temp_start, plan.temp_len};
  a->file_maps = reinterpret_cast<RestoreFileMap*>(h.file_maps);
  auto* path = reinterpret_cast<char*>(h.paths);
  for (uint32_t index : plan.shared_files) {
    const auto& r = img.regions[index];
    size_t n = std::min<size_t>(r.path.size(), 4095);
    std::memcpy(path, r.path.data(), n);
    path[n] = 0;
    int flags = (r.prot & PROT_WRITE) ? O_RDWR : O_RDONLY;
    a->file_maps[a->n_file_maps++] = {r.start,
                                      r.end - r.start,
                                      r.offset,
                                      r.prot,
                                      static_cast<uint32_t>(flags | O_CLOEXEC),
                                      reinterpret_cast<uint64_t>(path),
                                      kMapByPath,
                                      -1};
    path += 4096;
  }
  a->n_specials = static_cast<uint32_t>(plan.specials.size());
  for (uint32_t i = 0; i < a->n_specials; i++) a->specials[i] = plan.specials[i];
  a->parking = h.parking;
}

// Field 47 of /proc/self/stat.
uint64_t own_start_brk() {
  FILE* f = std::fopen("/proc/self/stat", "r");
  if (!f) return 0;
  char buf[2048] = {};
  size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[n] = 0;
  char* p = std::strrchr(buf, ')');
  if (!p) return 0;
  int field = 2;
  for (; *p && field < 47; p++)
    if (*p == ' ') field++;
  return std::strtoull(p, nullptr, 10);
}

void fill_process_ops(const image::LoadedImage& img, RestoreArgs* a) {
  for (const auto& s : img.signals) {
    if (s.signo < 1 || s.signo > 64 || s.signo == 9 || s.signo == 19) continue;
    a->sigactions[s.signo - 1] = {s.handler, s.flags, s.restorer, s.mask};
    a->sig_set |= 1ull << (s.signo - 1);
  }
  a->mm = img.process.mm;
  a->own_start_brk = own_start_brk();
  a->exe_fd = -1;
  std::string exe(img.process.exe);
  int fd = open(exe.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    a->exe_fd = fcntl(fd, F_DUPFD_CLOEXEC, 1000);
    close(fd);
  }
  a->restart_hook = img.process.restart_hook;
  for (const auto& t : img.threads) {
    if (!t.is_ckpt_thread) continue;
    a->ckpt_fs_base = t.fs_base;
    a->ckpt_ctx = t.ctx;
  }
  uint64_t tp;
  asm volatile("mov %%fs:0, %0" : "=r"(tp));
  if (&__rseq_size && __rseq_size > 0) {
    a->rseq_addr = tp + __rseq_offset;
    a->rseq_len = __rseq_size < 32 ? 32 : __rseq_size;
    a->rseq_sig = 0x53053053;
  }
}

// The scheduler's variables of this allocation, for the restored process;
// false when they do not fit in kSchedulerEnvSize.
bool fill_scheduler_env(RestoreArgs* a, const HoleLayout& h, std::string* err) {
  auto* out = reinterpret_cast<char*>(h.sched_env);
  size_t used = 0;
  for (char** e = environ; *e; e++) {
    std::string_view v(*e);
    if (!v.starts_with("SLURM_") && !v.starts_with("PBS_") && !v.starts_with("LSB_")) continue;
    if (used + v.size() + 1 > kSchedulerEnvSize) {
      *err = "the batch scheduler's variables exceed " + std::to_string(kSchedulerEnvSize) +
             " bytes: ckpt_restart cannot pass them on";
      return false;
    }
    std::memcpy(out + used, v.data(), v.size());
    out[used + v.size()] = 0;
    used += v.size() + 1;
  }
  a->scheduler_env = h.sched_env;
  a->scheduler_env_size = static_cast<uint32_t>(used);
  return true;
}

// ckpt_restart's own mappings must all fit in the unmap list (each may be
// split in two around the reservation) and /proc/self/maps in its buffer;
// checked here, where an error can still stop every process, with room for
// the few mappings made between now and the jump.
bool check_own_mappings(std::string* err) {
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (!f) {
    *err = std::string("cannot read /proc/self/maps: ") + std::strerror(errno);
    return false;
  }
  uint64_t lines = 0, bytes = 0;
  for (int c; (c = std::fgetc(f)) != EOF; bytes++) lines += c == '\n';
  std::fclose(f);
  if (2 * lines + 256 > kMaxUnmap || bytes + 64 * 1024 > kMapsBuffer) {
    *err = overflow_message(lines, "mappings in ckpt_restart", kMaxUnmap / 2 - 128);
    return false;
  }
  return true;
}

// Past the point of no return nothing can be sent back: one line and exit.
char g_image_path[512];  // of the process being restored, for die_raw

[[noreturn]] void die_raw(const char* msg) {
  for (const char* part : {"ckpt_restart: ", static_cast<const char*>(g_image_path), ": ", msg})
    sys::write(2, part, std::strlen(part));
  sys::exit_group(70);
}

}  // namespace

uint64_t hole_size_for(const image::LoadedImage& img) {
  HoleLayout h = layout(img, 0, 0);
  return h.stack_top;
}

bool prepare_restore_args(const image::LoadedImage& img, const MemoryPlan& plan,
                          const JumpSettings& settings, RestoreArgs** out, std::string* err) {
  HoleLayout h = layout(img, plan.hole_start, plan.parking_len);
  g_layout = h;
  std::strncpy(g_image_path, img.path.c_str(), sizeof(g_image_path) - 1);
  if (h.stack_top > plan.hole_start + plan.hole_len) {
    *err = "internal error: the restore hole is too small";
    return false;
  }
  if (mmap(reinterpret_cast<void*>(plan.hole_start), plan.hole_len, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
    *err = std::string("cannot map the restore hole: ") + std::strerror(errno);
    return false;
  }
  auto* a = reinterpret_cast<RestoreArgs*>(h.args);
  std::memset(static_cast<void*>(a), 0, sizeof(*a));  // AddressMap: zero is empty
  a->version = kRestoreArgsVersion;
  a->hole_start = plan.hole_start;
  a->hole_len = plan.hole_len;
  a->unmap = reinterpret_cast<RestoreRange*>(h.unmap);
  fill_memory_ops(img, plan, a, h);
  if (settings.shm && !fill_shm_ops(img, plan, *settings.shm, a, err)) return false;
  if (!fill_id_map(a->semids, settings.semid_map, "System V semaphore sets whose id changed",
                   err) ||
      !fill_id_map(a->msgids, settings.msgid_map, "System V message queues whose id changed",
                   err) ||
      !fill_id_map(a->pids, settings.pid_map, "processes whose pid changed", err))
    return false;
  fill_process_ops(img, a);
  a->real_pid = getpid();
  a->real_ppid = getppid();
  a->coord_port = settings.coord_port;
  std::memcpy(a->secret, settings.secret, 16);
  std::strncpy(a->coord_host, settings.coord_host.c_str(), sizeof(a->coord_host) - 1);
  std::strncpy(a->ckpt_dir, settings.ckpt_dir.c_str(), sizeof(a->ckpt_dir) - 1);
  if (!settings.file_rollback) a->restart_flags |= kRestartNoRollback;
  if (!fill_scheduler_env(a, h, err) || !check_own_mappings(err)) return false;
  if (settings.addresses) {
    if (settings.addresses->n > kMaxAddressMoves) {
      *err = overflow_message(settings.addresses->n, "address moves", kMaxAddressMoves);
      return false;
    }
    a->addresses.n = settings.addresses->n;
    std::memcpy(a->addresses.moves, settings.addresses->moves,
                a->addresses.n * sizeof(AddressMove));
    // Its own old address, where old hosts share this host's (address_map.h).
    if (!add_own_addresses(image_host_ips(img), &a->addresses)) {
      *err = overflow_message(a->addresses.n + 1, "address moves", kMaxAddressMoves);
      return false;
    }
  }
  std::memcpy(reinterpret_cast<void*>(h.blob), ckpt_restorer_blob,
              ckpt_restorer_blob_end - ckpt_restorer_blob);
  if (mprotect(reinterpret_cast<void*>(h.blob), blob_size(), PROT_READ | PROT_EXEC) != 0) {
    *err = std::string("cannot make the restorer executable: ") + std::strerror(errno);
    return false;
  }
  *out = a;
  return true;
}

void jump_to_restorer(RestoreArgs* a, const MemoryPlan& plan) {
  // Read our own maps with raw syscalls into the hole: no allocation from here on.
  char* buf = reinterpret_cast<char*>(g_layout.maps_text);
  long fd = sys::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  size_t len = 0;
  for (long n;
       fd >= 0 && (n = sys::read(static_cast<int>(fd), buf + len, kMapsBuffer - len - 1)) > 0;)
    len += static_cast<size_t>(n);
  if (fd >= 0) sys::close(static_cast<int>(fd));
  if (fd < 0 || len + 1 >= kMapsBuffer) die_raw("cannot list its own mappings for the restorer\n");
  uint64_t keep_start = plan.reserve_start, keep_end = plan.reserve_start + plan.reserve_len;
  auto add = [&](uint64_t s, uint64_t e) {
    if (s >= e) return;
    if (a->n_unmap == kMaxUnmap) die_raw("more mappings to unmap than the restorer's list holds\n");
    a->unmap[a->n_unmap++] = {s, e - s};
  };
  for_each_map(std::string_view(buf, len), [&](const MapEntry& e) {
    if (e.path == "[vdso]" || e.path == "[vvar]" || e.path == "[vvar_vclock]" ||
        e.path == "[vsyscall]")
      return;
    for (uint32_t i = 0; i < a->n_shm_detach; i++)
      if (e.start == a->shm_detach[i]) return;  // detached by the restorer, after its own
    add(e.start, std::min(e.end, keep_start));  // the parts outside the reservation
    add(std::max(e.start, keep_end), e.end);
  });
  uint64_t stack_top = g_layout.stack_top;
  uint64_t entry = g_layout.blob;
  asm volatile(
      "movq %0, %%rsp\n\t"
      "xorl %%ebp, %%ebp\n\t"
      "callq *%1\n\t"
      "ud2\n\t"
      :
      : "r"(stack_top), "r"(entry), "D"(a)
      : "memory");
  __builtin_unreachable();
}

}  // namespace ckpt
