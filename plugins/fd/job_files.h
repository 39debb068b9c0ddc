// Job-private files, checkpoint side: which open regular files are saved by
// content, and which directories the job made on the way to the files,
// sockets and FIFOs it holds (the JobDirs section).
//
// A file is private to the job, and saved whole in a FileData section, when
//  - it lies under a temporary root: $TMPDIR, /tmp, /var/tmp, /dev/shm, or
//    Open MPI's session base ($OMPI_MCA_orte_tmpdir_base,
//    $OMPI_MCA_prte_tmpdir_base), where Open MPI and MPICH keep their session
//    directories;
//  - it was born (statx btime) after the job started ($CKPT_JOB_START_NS,
//    set by ckpt_launch), and belongs to the process's effective uid;
//  - it is at most kJobFileMaxBytes, and the process's saved files stay
//    within kJobFilesMaxBytes.
// Anything else (shared, older than the job, big, or on a file system
// without birth times) is reopened by path at restart, as before, with
// rollback. A directory is recorded when it lies under a temporary root
// (or is one of $TMPDIR & co.) and was born after the job started.
// Malloc-free: runs while the application is stopped.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string_view>

#include "ckpt/byte_codec.h"

namespace ckpt {

inline constexpr uint64_t kJobFileMaxBytes = uint64_t{8} << 20;
inline constexpr uint64_t kJobFilesMaxBytes = uint64_t{64} << 20;

// Starts a capture: forgets the directories and the bytes noted before.
void job_files_begin();
// Whether the regular file `path` open on `fd` is saved by content (and
// then counts towards the process's budget and notes its directories).
bool take_job_file(int fd, std::string_view path, const struct stat& st);
// Notes the directories the job made on the way to `path`, and `path`
// itself when it is a directory.
void note_job_dirs(std::string_view path, bool is_dir);
// A UNIX socket bound to a path: its directories.
void note_socket_dirs(int fd);
// The JobDirs payload (u32 count + JobDirRecords), empty if none.
std::string_view job_dirs_payload();

}  // namespace ckpt
