// Paths in the directories each host has its own of (/tmp, /dev/shm): a job
// restarted on another host does not find what its processes had there (an
// MPI launcher's session directory). Small regular files there are saved
// with their content (fd_capture.cc) and, with FIFOs, made again where
// missing, directories included (fd_restore.cc, fifo_restore.cc).
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

namespace ckpt {

inline bool is_host_local_path(std::string_view path) {
  return path.starts_with("/tmp/") || path.starts_with("/dev/shm/");
}

// mkdir of every directory above `path` (0700, as a session directory);
// existing ones are left alone.
inline void make_parent_dirs(const std::string& path) {
  for (size_t at = path.find('/', 1); at != std::string::npos; at = path.find('/', at + 1))
    ::mkdir(path.substr(0, at).c_str(), 0700);
}

}  // namespace ckpt
