// Job-private files, checkpoint side (see job_files.h).
#include "job_files.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "ckpt/image_format.h"
#include "ckpt/sys.h"

namespace ckpt {
namespace {

constexpr int kMaxDirs = 256;
constexpr size_t kPoolBytes = 64 * 1024;

struct NotedDir {
  uint32_t mode, uid, gid;
  uint32_t off, len;  // in g_pool
};

NotedDir g_dirs[kMaxDirs];
int g_n_dirs = 0;
char g_pool[kPoolBytes];
size_t g_pool_used = 0;
uint8_t g_payload[kPoolBytes + kMaxDirs * 16 + 4];
size_t g_payload_size = 0;
uint64_t g_bytes = 0;     // content saved so far by this capture
uint64_t g_start_ns = 0;  // the job's start; 0: unknown, nothing is private

constexpr int kMaxRoots = 6;
std::string_view g_roots[kMaxRoots];
int g_n_roots = 0;

uint64_t parse_u64(const char* s) {
  uint64_t v = 0;
  for (; s && *s >= '0' && *s <= '9'; s++) v = v * 10 + static_cast<uint64_t>(*s - '0');
  return v;
}

void add_root(const char* root) {
  if (!root || root[0] != '/' || g_n_roots == kMaxRoots) return;
  std::string_view r(root);
  while (r.size() > 1 && r.back() == '/') r.remove_suffix(1);
  if (r.size() > 1) g_roots[g_n_roots++] = r;
}

// `path` lies under a temporary root (or is one, when `or_equal`).
bool under_root(std::string_view path, bool or_equal) {
  for (int i = 0; i < g_n_roots; i++) {
    std::string_view r = g_roots[i];
    if (!path.starts_with(r)) continue;
    if (path.size() == r.size() ? or_equal : path[r.size()] == '/') return true;
  }
  return false;
}

// statx of `path` (fd < 0) or of `fd` itself; false if the kernel gave no birth time.
bool stat_birth(int fd, std::string_view path, struct statx& stx) {
  char buf[4096];
  const char* name = "";
  if (fd < 0) {
    if (path.size() >= sizeof(buf)) return false;
    __builtin_memcpy(buf, path.data(), path.size());
    buf[path.size()] = 0;
    name = buf;
  }
  int flags = fd < 0 ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH;
  long r = sys::call5(SYS_statx, fd < 0 ? AT_FDCWD : fd, reinterpret_cast<long>(name), flags,
                      STATX_BASIC_STATS | STATX_BTIME, reinterpret_cast<long>(&stx));
  return r == 0 && (stx.stx_mask & STATX_BTIME);
}

bool born_in_job(const struct statx& stx) {
  uint64_t born =
      static_cast<uint64_t>(stx.stx_btime.tv_sec) * 1000000000ull + stx.stx_btime.tv_nsec;
  return g_start_ns != 0 && born >= g_start_ns;
}

void add_dir(std::string_view path, const struct statx& stx) {
  for (int i = 0; i < g_n_dirs; i++)
    if (std::string_view(g_pool + g_dirs[i].off, g_dirs[i].len) == path) return;
  if (g_n_dirs == kMaxDirs || g_pool_used + path.size() > kPoolBytes) return;
  __builtin_memcpy(g_pool + g_pool_used, path.data(), path.size());
  g_dirs[g_n_dirs++] = {stx.stx_mode & 07777u, stx.stx_uid, stx.stx_gid,
                        static_cast<uint32_t>(g_pool_used), static_cast<uint32_t>(path.size())};
  g_pool_used += path.size();
}

std::string_view parent_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos || slash == 0 ? std::string_view() : path.substr(0, slash);
}

}  // namespace

void job_files_begin() {
  g_n_dirs = 0;
  g_pool_used = 0;
  g_payload_size = 0;
  g_bytes = 0;
  g_start_ns = parse_u64(getenv("CKPT_JOB_START_NS"));
  g_n_roots = 0;
  add_root("/tmp");
  add_root("/var/tmp");
  add_root("/dev/shm");
  add_root(getenv("TMPDIR"));
  add_root(getenv("OMPI_MCA_orte_tmpdir_base"));
  add_root(getenv("OMPI_MCA_prte_tmpdir_base"));
}

bool take_job_file(int fd, std::string_view path, const struct stat& st) {
  if (!S_ISREG(st.st_mode) || st.st_uid != static_cast<uid_t>(sys::call0(SYS_geteuid)))
    return false;
  auto size = static_cast<uint64_t>(st.st_size);
  if (size > kJobFileMaxBytes || g_bytes + size > kJobFilesMaxBytes) return false;
  struct statx stx;
  if (!under_root(path, false) || !stat_birth(fd, path, stx) || !born_in_job(stx)) return false;
  g_bytes += size;
  note_job_dirs(path, false);
  return true;
}

void note_job_dirs(std::string_view path, bool is_dir) {
  if (g_start_ns == 0) return;
  for (std::string_view dir = is_dir ? path : parent_of(path); under_root(dir, true);
       dir = parent_of(dir)) {
    struct statx stx;
    if (!stat_birth(-1, dir, stx) || !S_ISDIR(stx.stx_mode) || !born_in_job(stx)) return;
    add_dir(dir, stx);
  }
}

void note_socket_dirs(int fd) {
  sockaddr_un addr = {};
  socklen_t len = sizeof(addr);
  if (sys::call3(SYS_getsockname, fd, reinterpret_cast<long>(&addr),
                 reinterpret_cast<long>(&len)) != 0 ||
      addr.sun_family != AF_UNIX || len <= offsetof(sockaddr_un, sun_path) ||
      addr.sun_path[0] != '/')
    return;
  size_t n = 0;
  size_t max = len - offsetof(sockaddr_un, sun_path);
  while (n < max && n < sizeof(addr.sun_path) && addr.sun_path[n]) n++;
  note_job_dirs(std::string_view(addr.sun_path, n), false);
}

std::string_view job_dirs_payload() {
  if (g_n_dirs == 0) return {};
  ByteWriter out(g_payload, sizeof(g_payload));
  out.put_u32(static_cast<uint32_t>(g_n_dirs));
  for (int i = 0; i < g_n_dirs; i++) {
    image::JobDirRecord r;
    r.mode = g_dirs[i].mode;
    r.uid = g_dirs[i].uid;
    r.gid = g_dirs[i].gid;
    r.path = std::string_view(g_pool + g_dirs[i].off, g_dirs[i].len);
    r.encode(out);
  }
  g_payload_size = out.overflow() ? 0 : out.size();
  return std::string_view(reinterpret_cast<const char*>(g_payload), g_payload_size);
}

}  // namespace ckpt
