// Recreating the process tree. ckpt_restart becomes the main root and forks
// every other process of the computation at its place in the tree, under
// its old pid when the kernel allows it (clone3 with set_tid: needs
// CAP_CHECKPOINT_RESTORE and the pid free), else under a new one that the
// pid table maps. Before forking its children each process puts its
// descriptors in place (so they inherit what they share with it); zombies
// come back as children that exit at once with their saved status; sessions
// and process groups are formed again. The processes meet at barriers in a
// shared mapping; the first failure ends them all, and the main root
// reports it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "plugins/fd/fd_restore.h"
#include "process_tree.h"

namespace ckpt {

struct SpawnControl;  // the shared mapping

class TreeSpawner {
 public:
  TreeSpawner(const ProcessTree& tree, FdRestorer& fds);
  // Returns in every process of the tree with the node it restores; in the
  // main root -1 with err when the tree could not be built (every other
  // process is gone by then).
  int spawn(std::string* err);
  // Virtual -> real pid of every process and zombie whose pid changed.
  std::vector<std::pair<int32_t, int32_t>> pid_map() const;
  // The last barrier: every process is ready to jump. False in the main
  // root (err set) if another process failed.
  bool all_ready(std::string* err);
  // A process failed: the main root returns (err describes it, the others
  // are killed); any other process exits.
  void fail(const std::string& msg, std::string* err);
  bool is_main_root() const { return node_ == tree_.main_root; }

 private:
  enum Step { kCreated, kOwnGroups, kJoinedGroups, kReady, kSteps };
  bool barrier(Step step, std::string* err);
  void become(int node);
  void join_groups(bool leaders);
  void abort_all();
  int32_t real_of(int32_t vpid) const;  // a node's real pid now
  bool fork_node(int node, std::string* err);
  int32_t orphan_session(int node) const;
  int spawn_session(int32_t sid, const std::vector<int>& kids, std::string* err);

  const ProcessTree& tree_;
  FdRestorer& fds_;
  SpawnControl* ctl_ = nullptr;
  int node_ = -1;
  bool orphan_ = false;           // a daemon: its parent (a session helper) exits
  std::vector<int32_t> zombies_;  // real pids of this process's zombie children
};

}  // namespace ckpt
