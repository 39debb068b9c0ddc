// Recreating the process tree (see tree_spawn.h).
#include "tree_spawn.h"

#include <linux/futex.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace ckpt {

constexpr int kMaxPids = 8192;
constexpr int kBarrierTimeoutS = 300;

struct SpawnControl {
  std::atomic<int32_t> arrived[8];
  std::atomic<int32_t> failed;
  char error[1024];
  std::atomic<int32_t> n_pids;
  int32_t vpid[kMaxPids];
  int32_t real[kMaxPids];
  int32_t node_real[kMaxPids];  // real pid of each node
};

namespace {

void wake(std::atomic<int32_t>& word) {
  syscall(SYS_futex, &word, FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
}

void wait_on(std::atomic<int32_t>& word, int32_t seen) {
  timespec ts{0, 100 * 1000000};
  syscall(SYS_futex, &word, FUTEX_WAIT, seen, &ts, nullptr, 0);
}

// fork(), but under pid `want` when the kernel lets us.
pid_t fork_as(int32_t want) {
  clone_args args = {};
  pid_t tid = want;
  args.exit_signal = SIGCHLD;
  args.set_tid = reinterpret_cast<uint64_t>(&tid);
  args.set_tid_size = 1;
  long r = syscall(SYS_clone3, &args, sizeof(args));
  if (r >= 0) return static_cast<pid_t>(r);
  return fork();
}

// A zombie child: ends at once the way the original did.
[[noreturn]] void die_like(const image::ChildRecord& z) {
  if (z.wait_code != CLD_KILLED && z.wait_code != CLD_DUMPED) _exit(z.wait_status);
  rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  signal(z.wait_status, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, z.wait_status);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  kill(getpid(), z.wait_status);
  _exit(128 + z.wait_status);
}

void add_pid(SpawnControl* ctl, int32_t vpid, int32_t real) {
  int32_t i = ctl->n_pids.fetch_add(1);
  if (i < kMaxPids) {
    ctl->vpid[i] = vpid;
    ctl->real[i] = real;
  }
}

}  // namespace

TreeSpawner::TreeSpawner(const ProcessTree& tree, FdRestorer& fds) : tree_(tree), fds_(fds) {}

void TreeSpawner::fail(const std::string& msg, std::string* err) {
  if (ctl_ && ctl_->failed.exchange(1) == 0) {
    std::strncpy(ctl_->error, msg.c_str(), sizeof(ctl_->error) - 1);
    for (auto& a : ctl_->arrived) wake(a);
  }
  if (!is_main_root()) _exit(1);
  *err = ctl_ && ctl_->error[0] ? ctl_->error : msg;
  abort_all();
}

void TreeSpawner::abort_all() {
  if (!ctl_) return;
  for (size_t i = 0; i < tree_.nodes.size(); i++)
    if (ctl_->node_real[i] > 0 && ctl_->node_real[i] != getpid()) kill(ctl_->node_real[i], SIGKILL);
  while (waitpid(-1, nullptr, __WALL) > 0) {
  }
}

bool TreeSpawner::barrier(Step step, std::string* err) {
  auto n = static_cast<int32_t>(tree_.nodes.size());
  std::atomic<int32_t>& word = ctl_->arrived[step];
  // Only the last to arrive wakes the others: a wake per arrival woke every
  // waiter n times (n^2 wake-ups, ~1 s for 256 processes on 2 cores). A
  // failure wakes them too (fail()).
  if (word.fetch_add(1) + 1 == n) wake(word);
  time_t give_up = time(nullptr) + kBarrierTimeoutS;
  for (int32_t seen; (seen = word.load()) < n;) {
    if (ctl_->failed.load()) {
      fail(ctl_->error, err);
      return false;
    }
    if (time(nullptr) > give_up) {
      fail("the restored processes did not all come up within " + std::to_string(kBarrierTimeoutS) +
               " s",
           err);
      return false;
    }
    wait_on(word, seen);
  }
  return !ctl_->failed.load() || (fail(ctl_->error, err), false);
}

// Runs in the new process of `node`, and in the main root for itself.
void TreeSpawner::become(int node) {
  node_ = node;
  zombies_.clear();  // the parent's, inherited by this fork
  const TreeNode& n = tree_.nodes[node];
  bool orphan = orphan_;
  orphan_ = false;
  // ckpt_restart gone: do not linger (a daemon's parent exits on purpose).
  if (!is_main_root() && !orphan) prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (!is_main_root() && n.vsid == n.vpid) setsid();
  std::string err;
  if (!fds_.place(static_cast<size_t>(node), &err)) return fail(err, &err);
  if (!is_main_root() && n.vsid == n.vpid) fds_.take_terminal(static_cast<size_t>(node));
  std::vector<int> kids = n.children;
  if (is_main_root()) kids.insert(kids.end(), tree_.other_roots.begin(), tree_.other_roots.end());
  std::vector<int32_t> done_sessions;
  for (int kid : kids) {
    int32_t sid = orphan_session(kid);
    if (sid == 0) {
      if (!fork_node(kid, &err)) return become(kid);
      if (!err.empty()) return fail(err, &err);
    } else if (std::find(done_sessions.begin(), done_sessions.end(), sid) == done_sessions.end()) {
      done_sessions.push_back(sid);
      int child = spawn_session(sid, kids, &err);
      if (child >= 0) return become(child);
      if (!err.empty()) return fail(err, &err);
    }
  }
  for (const image::ChildRecord& z : n.zombies) {
    pid_t pid = fork_as(z.vpid);
    if (pid == 0) die_like(z);
    if (pid < 0) return fail("cannot fork: " + std::string(std::strerror(errno)), &err);
    zombies_.push_back(pid);
    if (pid != z.vpid) add_pid(ctl_, z.vpid, pid);
  }
  fds_.finish(static_cast<size_t>(node));
}

// Forks the process of `node`: false in the child, true in the parent (err
// set if the fork failed).
bool TreeSpawner::fork_node(int node, std::string* err) {
  pid_t pid = fork_as(tree_.nodes[node].vpid);
  if (pid == 0) return false;
  if (pid < 0) {
    *err = "cannot fork: " + std::string(std::strerror(errno));
    return true;
  }
  ctl_->node_real[node] = pid;
  if (pid != tree_.nodes[node].vpid) add_pid(ctl_, tree_.nodes[node].vpid, pid);
  return true;
}

// The session of a daemon (setsid, then fork again) whose leader is gone:
// its sid, or 0 when the process's session needs no helper.
int32_t TreeSpawner::orphan_session(int node) const {
  const TreeNode& n = tree_.nodes[node];
  const TreeNode& root = tree_.nodes[tree_.main_root];
  if (n.parent >= 0 || n.vsid == n.vpid || n.vsid == root.vsid || tree_.find(n.vsid) >= 0) return 0;
  return n.vsid;
}

// A short-lived session leader under the old sid (as the daemon's first
// fork was) starts a new session and forks the daemons of that session,
// then exits, leaving them orphaned as they were. Returns the node to become
// in a daemon, -1 in the caller (err set on failure).
int TreeSpawner::spawn_session(int32_t sid, const std::vector<int>& kids, std::string* err) {
  pid_t leader = fork_as(sid);
  if (leader < 0) {
    *err = "cannot fork: " + std::string(std::strerror(errno));
    return -1;
  }
  if (leader == 0) {
    setsid();
    for (int kid : kids) {
      if (orphan_session(kid) != sid) continue;
      if (!fork_node(kid, err)) {
        orphan_ = true;
        return kid;
      }
      if (!err->empty()) fail(*err, err);
    }
    _exit(0);
  }
  if (leader != sid) add_pid(ctl_, sid, leader);
  int status = 0;
  waitpid(leader, &status, 0);
  return -1;
}

// Process groups: first each leader makes its own, then the others join.
void TreeSpawner::join_groups(bool leaders) {
  if (is_main_root()) return;  // it keeps the group it was started in
  const TreeNode& n = tree_.nodes[node_];
  if (n.vsid == n.vpid) return;  // a session leader leads its group already
  if (leaders) {
    if (n.vpgid == n.vpid) setpgid(0, 0);
    return;
  }
  if (n.vpgid == n.vpid) return;
  const TreeNode& root = tree_.nodes[tree_.main_root];
  int leader = tree_.find(n.vpgid);
  pid_t root_real = ctl_->node_real[tree_.main_root];
  if (leader == tree_.main_root || n.vpgid == root.vpgid)
    setpgid(0, getpgid(root_real));
  else if (leader >= 0)
    setpgid(0, ctl_->node_real[leader]);
}

int TreeSpawner::spawn(std::string* err) {
  void* mem = mmap(nullptr, sizeof(SpawnControl), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    *err = std::string("cannot map the restart's control area: ") + std::strerror(errno);
    return -1;
  }
  ctl_ = new (mem) SpawnControl();
  // Zombies' SIGCHLD must not reach the restored application.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  ctl_->node_real[tree_.main_root] = getpid();
  node_ = tree_.main_root;
  become(tree_.main_root);
  if (ctl_->failed.load() && is_main_root()) {
    *err = ctl_->error;
    abort_all();
    return -1;
  }
  if (!barrier(kCreated, err)) return -1;
  join_groups(true);
  if (!barrier(kOwnGroups, err)) return -1;
  join_groups(false);
  if (!barrier(kJoinedGroups, err)) return -1;
  const TreeNode& me = tree_.nodes[node_];
  if (!is_main_root() && me.vsid == me.vpid)
    fds_.set_foreground(static_cast<size_t>(node_), [&](int32_t pid) { return real_of(pid); });
  for (pid_t z : zombies_) {
    siginfo_t si;
    waitid(P_PID, static_cast<id_t>(z), &si, WEXITED | WNOWAIT);
  }
  return node_;
}

int32_t TreeSpawner::real_of(int32_t vpid) const {
  int node = tree_.find(vpid);
  return node >= 0 && ctl_->node_real[node] > 0 ? ctl_->node_real[node] : vpid;
}

std::vector<std::pair<int32_t, int32_t>> TreeSpawner::pid_map() const {
  std::vector<std::pair<int32_t, int32_t>> out;
  int32_t n = std::min(ctl_->n_pids.load(), kMaxPids);
  for (int32_t i = 0; i < n; i++) out.emplace_back(ctl_->vpid[i], ctl_->real[i]);
  return out;
}

bool TreeSpawner::all_ready(std::string* err) {
  if (!barrier(kReady, err)) return false;
  if (!is_main_root()) prctl(PR_SET_PDEATHSIG, 0);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  timespec zero = {0, 0};
  while (sigtimedwait(&chld, nullptr, &zero) == SIGCHLD) {
  }
  return true;
}

}  // namespace ckpt
