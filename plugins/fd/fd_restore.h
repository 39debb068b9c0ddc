// The fd plugin, restart side, for a whole computation.
//
// Records of all images are grouped into open file descriptions by their
// owner (FdRecord::owner_pid/owner_fd). ckpt_restart creates each
// description once, before it forks the process tree, and parks it at a
// number above every number the images use; every process then dup2's the
// parked descriptions to its own numbers, so descriptions shared between
// processes (an inherited file with one offset, a pipe's end, a terminal)
// are shared again. Files are reopened by path at their offset and flags
// (and rolled back to their size at the checkpoint when written; job-private
// files that were gone are made again first, job_files_restore.h), unlinked
// files are recreated from their saved content, pipes are recreated with
// their bytes in flight (pipe_restore.h), pseudo-terminals with their
// settings (pty_restore.h), named FIFOs (fifo_restore.h), sockets with
// their peers, addresses and bytes in flight (socket_restore.h), inotify
// instances with their watches; terminals and pipes that lead outside become
// ckpt_restart's own. An epoll instance refers to fd numbers
// of one process, so it is created by its owner once that process's
// descriptors are in place, before it forks its children.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/image_reader.h"
#include "plugins/pipes/fifo_restore.h"
#include "plugins/pipes/pipe_restore.h"
#include "plugins/pty/pty_restore.h"
#include "plugins/sockets/socket_restore.h"

namespace ckpt {

struct FdRestoreOptions {
  bool file_rollback = true;
  // The images of the checkpoint another ckpt_restart restores (on other
  // hosts): their sockets are the far ends of connections across hosts.
  const std::vector<image::LoadedImage>* elsewhere = nullptr;
  SocketNetwork network;  // where addresses are now (socket_restore.h)
};

// Checks, before anything is changed, that every file can be reopened.
bool check_fds(const image::LoadedImage& img, std::string* err);

// The families' restart-wide state, which their FdRestoreOps share
// (fd_restore_ops.h).
struct FdTables {
  PipeTable pipes;
  PtyTable ptys;
  FifoTable fifos;
  SocketTable sockets;
};

class FdRestorer {
 public:
  FdRestorer(const std::vector<image::LoadedImage>& images, FdRestoreOptions opts);
  // In ckpt_restart, before any fork: creates and parks every description
  // but epolls.
  bool create_all(std::string* err);
  // In the process of image `i`, before it forks its children.
  bool place(size_t i, std::string* err);
  // In the process of image `i`, once its children exist: closes the rest
  // (but the descriptors of keep()).
  void finish(size_t i);
  // A descriptor finish() must leave open (a shared memory object's).
  void keep(int fd) { kept_.insert(fd); }
  // Consulted before a description is created: a new description on an
  // object made elsewhere (a shared memory object), or -1.
  void set_adopt(std::function<int(const image::FdRecord&)> adopt) { adopt_ = std::move(adopt); }
  // A number above every parked one (for a descriptor of ckpt_restart's own).
  int free_number() const { return park_end_; }
  // In a session leader: takes its pty back as controlling terminal.
  void take_terminal(size_t i);
  // In a session leader, once process groups exist: the terminal's
  // foreground group again (`to_real` maps a checkpoint-time pid).
  void set_foreground(size_t i, const std::function<int32_t(int32_t)>& to_real);

 private:
  struct Key {
    int32_t pid, fd;
    auto operator<=>(const Key&) const = default;
  };
  Key key_of(size_t image, const image::FdRecord& r) const;
  int create(size_t image, const image::FdRecord& r, std::string* err);
  const image::FdRecord* controlling_pty(size_t i, PtyState* st) const;
  bool park(const Key& key, int fd, std::string* err);

  const std::vector<image::LoadedImage>& images_;
  FdRestoreOptions opts_;
  std::map<Key, int> parked_;  // description -> parked number
  std::set<int> kept_;
  std::function<int(const image::FdRecord&)> adopt_;
  int park_base_ = 0;
  int park_end_ = 0;
  FdTables tables_;
};

}  // namespace ckpt
