// This process's image for one generation, in two steps:
//   prepare_image(): while the application's threads are stopped — what
//     must be read at that instant and may change once they run again
//     (descriptors, in-flight pipe data, unlinked files' content), and the
//     image's temporary file;
//   write_image(): everything else (memory above all), which reads a frozen
//     address space: either still stopped, or in a child forked from that
//     instant (copy-on-write) while the application runs on.
#pragma once

#include <string_view>

#include "fixed_string.h"
#include "incremental_image.h"
#include "plugins/fd/fd_capture.h"
#include "runtime.h"

namespace ckpt {

struct WrittenImage {
  FixedString<256> name;  // file name inside the generation directory
  uint64_t bytes = 0;
  ImageIdentity identity;  // the file as written (incremental_image.h)
};

struct ImageJob {
  uint64_t generation = 0;
  bool name_host = false;  // the image name carries the host (Suspend::name_host)
  int32_t stopped_threads = 0;
  int fd = -1;  // the open temporary file
  PathString path, tmp;
  ByteWriter fds_section;
  ByteWriter sysv_section;  // semaphore sets and message queues (sysv_capture.h)
  FdCapture fds;
  bool fork_safe = true;  // no writable shared mapping that the application could change
  WrittenImage out;
};

bool prepare_image(Runtime& rt, ImageJob& job, std::string_view dir, MessageString& err);
// Writes, fsyncs, renames. On failure nothing is left behind.
bool write_image(Runtime& rt, ImageJob& job, MessageString& err);
// Closes and removes the temporary file (a checkpoint given up).
void abandon_image(ImageJob& job);
// After a restart: the job's buffers were the runtime's, not in the image.
void forget_image_job(ImageJob& job);

}  // namespace ckpt
