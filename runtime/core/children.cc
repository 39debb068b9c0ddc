// The process's children at a checkpoint (see children.h).
#include "children.h"

#include <elf.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "ckpt/image_format.h"
#include "coordinator_client.h"
#include "fixed_string.h"
#include "on_demand_server.h"
#include "proc_files.h"
#include "thread_local_state.h"

namespace ckpt {
namespace {

constexpr int kMaxChildren = 1024;
constexpr long kSettleTimeoutMs = 5000;
constexpr long kExitWaitMs = 1000;  // for a child in exit() to become a zombie

enum class Kind { kStarting, kMember, kZombie, kOutside };

struct Child {
  int32_t pid;
  Kind kind;
  const char* reason;  // kOutside
};

Child g_children[kMaxChildren];
int g_n_children = 0;
int32_t g_reported[kMaxChildren];  // outside children already reported
int g_n_reported = 0;

void list_children() {
  g_n_children = 0;
  for_each_numbered_entry("/proc/self/task", [](long tid, int) {
    FixedString<64> path;
    path.append("/proc/self/task/").append_int(tid).append("/children");
    char buf[8192];
    ByteWriter text(buf, sizeof(buf));
    read_whole_file(path.c_str(), text);
    long pid = 0;
    for (size_t i = 0; i <= text.size(); i++) {
      char c = i < text.size() ? buf[i] : ' ';
      if (c >= '0' && c <= '9') {
        pid = pid * 10 + (c - '0');
      } else if (pid > 0) {
        if (g_n_children < kMaxChildren)
          g_children[g_n_children++] = {static_cast<int32_t>(pid), Kind::kStarting, nullptr};
        pid = 0;
      }
    }
  });
}

// /proc/PID/<name>, as much as fits in buf (empty when it cannot be read).
std::string_view read_proc_file(int32_t pid, const char* name, char* buf, size_t size) {
  FixedString<64> path;
  path.append("/proc/").append_int(pid).append('/').append(name);
  ByteWriter text(buf, size);
  read_whole_file(path.c_str(), text);
  return std::string_view(buf, text.size());
}

constexpr uint64_t kPfExiting = 0x4;  // the kernel's PF_EXITING: in exit(), not yet a zombie

struct ProcStat {
  char state = 'X';  // 'X': gone (or unreadable)
  uint64_t flags = 0;
};

// State and flags of /proc/PID/stat (fields 3 and 9).
ProcStat proc_stat(int32_t pid) {
  FixedString<64> path;
  path.append("/proc/").append_int(pid).append("/stat");
  char buf[512];
  ByteWriter text(buf, sizeof(buf));
  ProcStat st;
  if (!read_whole_file(path.c_str(), text)) return st;
  std::string_view s(buf, text.size());
  size_t paren = s.rfind(')');
  if (paren == std::string_view::npos || paren + 2 >= s.size()) return st;
  st.state = s[paren + 2];
  int field = 3;  // the state's
  for (size_t i = paren + 3; i < s.size() && field <= 9; i++) {
    if (s[i] == ' ') {
      field++;
    } else if (field == 9 && s[i] >= '0' && s[i] <= '9') {
      st.flags = st.flags * 10 + static_cast<uint64_t>(s[i] - '0');
    }
  }
  return st;
}

char proc_state(int32_t pid) { return proc_stat(pid).state; }

// A child in the middle of exit() has lost its memory (its environment and
// exe read empty) but is not a zombie yet: it is neither a member nor outside.
bool exiting(int32_t pid) {
  ProcStat st = proc_stat(pid);
  return st.state != 'Z' && st.state != 'X' && (st.flags & kPfExiting);
}

// A zombie this process can reap, with its exit status in *si. /proc says
// 'Z' as soon as the main thread has exited, but the process becomes
// reapable only once its other threads (the runtime's own) are gone too.
bool reapable(int32_t pid, siginfo_t* si) {
  *si = {};
  long r = sys::call5(SYS_waitid, P_PID, pid, reinterpret_cast<long>(si),
                      WEXITED | WNOHANG | WNOWAIT, 0);
  return r == 0 && si->si_pid == pid;
}

}  // namespace

namespace {

// An on-demand process (on_demand_server.h) has no runtime thread between
// checkpoints: it is registered once it catches kServeSignal (SigCgt in
// /proc/PID/status; the handler is installed after registration, ignored
// across fork() and reset by exec).
bool catches_serve_signal(int32_t pid) {
  char buf[2048];
  std::string_view all = read_proc_file(pid, "status", buf, sizeof(buf));
  size_t at = all.find("SigCgt:");
  if (at == std::string_view::npos) return false;
  uint64_t mask = 0;
  for (size_t i = at + 7; i < all.size() && all[i] != '\n'; i++) {
    char c = all[i];
    if (c >= '0' && c <= '9') mask = mask << 4 | static_cast<uint64_t>(c - '0');
    if (c >= 'a' && c <= 'f') mask = mask << 4 | static_cast<uint64_t>(c - 'a' + 10);
  }
  return mask & (1ull << (kServeSignal - 1));
}

}  // namespace

bool is_member_process(int32_t pid) {
  if (catches_serve_signal(pid)) return true;
  FixedString<64> dir;
  dir.append("/proc/").append_int(pid).append("/task");
  bool found = false;
  for_each_numbered_entry(dir.c_str(), [&](long tid, int) {
    if (found) return;
    FixedString<96> path;
    path.append(dir.view()).append('/').append_int(tid).append("/comm");
    char buf[32];
    ByteWriter text(buf, sizeof(buf));
    read_whole_file(path.c_str(), text);
    std::string_view comm(buf, text.size());
    found = comm.starts_with(kControlThreadName);
  });
  return found;
}

namespace {

bool same_exe(int32_t pid) {
  FixedString<64> path;
  path.append("/proc/").append_int(pid).append("/exe");
  PathString mine, theirs;
  return read_link("/proc/self/exe", mine) && read_link(path.c_str(), theirs) &&
         mine.view() == theirs.view();
}

// Why a child that runs another program cannot carry the runtime, or null.
const char* outside_reason(int32_t pid) {
  FixedString<64> path;
  path.append("/proc/").append_int(pid).append("/exe");
  struct stat st;
  if (sys::call2(SYS_stat, reinterpret_cast<long>(path.c_str()), reinterpret_cast<long>(&st)) ==
          0 &&
      (st.st_mode & (S_ISUID | S_ISGID)))
    return "setuid or setgid program";
  long fd = sys::open(path.c_str(), 02000000 /* O_CLOEXEC */);
  if (fd >= 0) {
    alignas(8) char head[4096];
    long got = sys::pread(static_cast<int>(fd), head, sizeof(head), 0);
    sys::close(static_cast<int>(fd));
    auto* eh = reinterpret_cast<const Elf64_Ehdr*>(head);
    if (got >= static_cast<long>(sizeof(Elf64_Ehdr)) && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
        eh->e_phoff + static_cast<uint64_t>(eh->e_phnum) * sizeof(Elf64_Phdr) <=
            static_cast<uint64_t>(got)) {
      bool interp = false;
      for (int i = 0; i < eh->e_phnum; i++)
        interp |= reinterpret_cast<const Elf64_Phdr*>(head + eh->e_phoff)[i].p_type == PT_INTERP;
      if (!interp) return "statically linked program";
    }
  }
  char env[16384];
  std::string_view all = read_proc_file(pid, "environ", env, sizeof(env));
  // In the middle of execve() the new program is mapped (exe says so) but
  // its arguments and environment are not placed yet: both read empty.
  char args[64];
  if (all.empty() && read_proc_file(pid, "cmdline", args, sizeof(args)).empty()) return nullptr;
  size_t at = all.find("LD_PRELOAD=");
  if (at == std::string_view::npos ||
      all.substr(at).substr(0, all.find('\0', at) - at).find("libckpt") == std::string_view::npos)
    return "started without the checkpoint runtime";
  return nullptr;
}

Kind classify(Child& c) {
  char state = proc_state(c.pid);
  siginfo_t si;
  if (state == 'Z') return reapable(c.pid, &si) ? Kind::kZombie : Kind::kStarting;
  if (state == 'X') return Kind::kOutside;     // gone meanwhile: nothing to keep
  if (exiting(c.pid)) return Kind::kStarting;  // a zombie in a moment
  if (is_member_process(c.pid)) return Kind::kMember;
  if (same_exe(c.pid)) return Kind::kStarting;  // forking or before exec
  c.reason = outside_reason(c.pid);
  return c.reason ? Kind::kOutside : Kind::kStarting;
}

void report_outside(Runtime& rt, const Child& c) {
  for (int i = 0; i < g_n_reported; i++)
    if (g_reported[i] == c.pid) return;
  if (g_n_reported < kMaxChildren) g_reported[g_n_reported++] = c.pid;
  FixedString<64> path;
  path.append("/proc/").append_int(c.pid).append("/comm");
  char comm[32];
  ByteWriter text(comm, sizeof(comm));
  read_whole_file(path.c_str(), text);
  std::string_view name(comm, text.size());
  while (!name.empty() && name.back() == '\n') name.remove_suffix(1);
  uint8_t buf[512];
  ByteWriter out(buf, sizeof(buf));
  proto::Outside msg;
  msg.real_pid = c.pid;
  msg.parent_vpid = rt.vpid;
  msg.program = name;
  msg.reason = c.reason ? c.reason : "did not join the computation";
  msg.encode(out);
  coordinator_send(rt, proto::Msg::kOutside, out);
}

}  // namespace

void settle_children(Runtime& rt) {
  list_children();
  int64_t deadline = monotonic_ns() + kSettleTimeoutMs * 1000000;
  for (;;) {
    bool starting = false;
    for (int i = 0; i < g_n_children; i++) {
      Child& c = g_children[i];
      if (c.kind == Kind::kStarting) c.kind = classify(c);
      starting |= c.kind == Kind::kStarting;
    }
    if (!starting || monotonic_ns() > deadline) break;
    timespec pause{0, 2000000};
    sys::call2(SYS_nanosleep, reinterpret_cast<long>(&pause), 0);
  }
  for (int i = 0; i < g_n_children; i++) {
    Child& c = g_children[i];
    if (c.kind == Kind::kStarting) c.kind = Kind::kOutside;
    if (c.kind == Kind::kOutside && proc_state(c.pid) != 'X') report_outside(rt, c);
  }
}

uint8_t g_records[kMaxChildren * image::ChildRecord::kSize];
size_t g_records_size = 0;

// A child that ended since settle_children (a member that exited before it
// was suspended) is a zombie now or in a moment: this process, stopped, has
// not reaped it, and after a restart it must still be able to.
void update_ended(Child& c) {
  if (c.kind == Kind::kZombie) return;
  int64_t deadline = monotonic_ns() + kExitWaitMs * 1000000;
  siginfo_t si;
  auto ending = [&] {
    return exiting(c.pid) || (proc_state(c.pid) == 'Z' && !reapable(c.pid, &si));
  };
  while (ending() && monotonic_ns() < deadline) {
    timespec pause{0, 1000000};
    sys::call2(SYS_nanosleep, reinterpret_cast<long>(&pause), 0);
  }
  if (reapable(c.pid, &si)) c.kind = Kind::kZombie;
}

void snapshot_children(const Runtime& rt) {
  ByteWriter out(g_records, sizeof(g_records));
  for (int i = 0; i < g_n_children; i++) {
    Child& c = g_children[i];
    update_ended(c);
    image::ChildRecord r;
    r.real_pid = c.pid;
    r.vpid = rt.pids.to_virtual(c.pid);
    r.state = c.kind == Kind::kMember   ? image::ChildState::kMember
              : c.kind == Kind::kZombie ? image::ChildState::kZombie
                                        : image::ChildState::kOutside;
    siginfo_t si;
    if (c.kind == Kind::kZombie && reapable(c.pid, &si)) {
      r.wait_code = si.si_code;
      r.wait_status = si.si_status;
    }
    r.encode(out);
  }
  g_records_size = out.size();
}

std::string_view children_records() {
  return std::string_view(reinterpret_cast<const char*>(g_records), g_records_size);
}

}  // namespace ckpt
