// Job-private files, restart side (the checkpoint side: job_files.h).
//
// Before any description is created, ckpt_restart makes again what the job
// kept in temporary directories and may be gone (the job ended, an epilog
// cleaned /tmp, the node rebooted, the restart runs on another node):
//  - the directories of the JobDirs sections, parents first, with their
//    modes (and, as root, their owners), when they are missing;
//  - the regular files saved by content (FdRecord::file_data on a regular
//    file), once per path: created with their mode and content when
//    missing; when present, given their checkpoint content back unless
//    rollback is off.
// Files then reopen by path as any other; UNIX sockets bind their paths
// again in those directories (socket_restore.h), FIFOs are made again
// there (fifo_restore.h), shared memory objects in /dev/shm are made by
// shm_restore.h.
#pragma once

#include <string>
#include <vector>

#include "common/image_reader.h"

namespace ckpt {

// Whether restore_job_files() makes the file or directory of `r` (the
// check that it exists is then skipped).
bool made_at_restart(const image::LoadedImage& img, const image::FdRecord& r);

bool restore_job_files(const std::vector<image::LoadedImage>& images, bool rollback,
                       std::string* err);

}  // namespace ckpt
