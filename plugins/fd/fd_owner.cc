// Owners of open file descriptions (see fd_owner.h).
#include "fd_owner.h"

#include <linux/kcmp.h>
#include <sys/syscall.h>

#include "ckpt/sys.h"
#include "runtime/core/children.h"
#include "runtime/core/proc_files.h"

namespace ckpt {
namespace {

constexpr int kMaxAncestors = 64;
int32_t g_ancestors[kMaxAncestors];  // nearest first
int g_n_ancestors = 0;

int32_t parent_of(int32_t pid) {
  FixedString<64> path;
  path.append("/proc/").append_int(pid).append("/stat");
  char buf[512];
  ByteWriter text(buf, sizeof(buf));
  if (!read_whole_file(path.c_str(), text)) return 0;
  std::string_view s(buf, text.size());
  size_t paren = s.rfind(')');
  if (paren == std::string_view::npos || paren + 4 >= s.size()) return 0;
  int32_t ppid = 0;
  for (size_t i = paren + 4; i < s.size() && s[i] >= '0' && s[i] <= '9'; i++)
    ppid = ppid * 10 + (s[i] - '0');
  return ppid;
}

bool same_description(int32_t other, int fd, int other_fd) {
  long self = sys::getpid();
  return sys::call5(sys::kKcmp, self, other, KCMP_FILE, fd, other_fd) == 0;
}

// The lowest fd of `pid` sharing the description of our `fd`, or -1. The
// lowest, as `pid` keys its own descriptions by their first fd (a child's
// fd 3 inherited from a parent's `exec 3>&1` is the parent's fd 1).
int find_in(int32_t pid, int fd, const struct stat& st) {
  int found = same_description(pid, fd, fd) ? fd : -1;  // inherited: same number
  FixedString<64> dir;
  dir.append("/proc/").append_int(pid).append("/fd");
  for_each_numbered_entry(dir.c_str(), [&](long other_fd, int dir_fd) {
    if (found >= 0 && other_fd >= found) return;
    FixedString<32> name;
    name.append_int(other_fd);
    struct stat ost;
    if (sys::call4(sys::kNewfstatat, dir_fd, reinterpret_cast<long>(name.c_str()),
                   reinterpret_cast<long>(&ost), 0) != 0)
      return;
    if (ost.st_ino != st.st_ino || ost.st_dev != st.st_dev) return;
    if (same_description(pid, fd, static_cast<int>(other_fd))) found = static_cast<int>(other_fd);
  });
  return found;
}

}  // namespace

void find_ancestors() {
  g_n_ancestors = 0;
  int32_t pid = static_cast<int32_t>(sys::getppid());
  while (pid > 1 && g_n_ancestors < kMaxAncestors && is_member_process(pid)) {
    g_ancestors[g_n_ancestors++] = pid;
    pid = parent_of(pid);
  }
}

FdOwner fd_owner(int fd, const struct stat& st) {
  FdOwner owner{static_cast<int32_t>(sys::getpid()), fd};
  for (int i = 0; i < g_n_ancestors; i++) {
    int other = find_in(g_ancestors[i], fd, st);
    if (other >= 0) owner = {g_ancestors[i], other};
  }
  return owner;
}

}  // namespace ckpt
