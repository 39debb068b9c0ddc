// The fd plugin, checkpoint side: describes every open file descriptor as an
// FdRecord (Fds section) and saves the content of files that were unlinked
// while open, of small job-private files (job_files.h) and of small files
// open read-write (FileData sections), with the directories the job made for
// them (JobDirs section). Descriptors it cannot restore make the checkpoint
// fail with a message that names them.
#pragma once

#include "ckpt/address_map.h"
#include "ckpt/byte_codec.h"
#include "file_locks.h"
#include "runtime/core/fixed_string.h"

namespace ckpt::image {
class ImageWriter;
}

namespace ckpt {

inline constexpr int kMaxFds = 4096;
inline constexpr int kMaxSavedFiles = 256;  // FileData sections per image

struct FdCapture {
  // A read-write file up to this size is saved by content (fd_capture.cc),
  // up to kMaxContentTotal bytes of such files per process.
  static constexpr int64_t kMaxContentBytes = 64 << 20;
  // A write-only file (not append-only) up to this size, in the same total.
  static constexpr int64_t kMaxWriteOnlyBytes = 8 << 20;
  static constexpr int64_t kMaxContentTotal = 256 << 20;
  int count = 0;
  // fds whose content goes into FileData: unlinked, job-private and
  // read-write files
  int unlinked_fds[kMaxSavedFiles];
  int n_unlinked = 0;
  int64_t content_bytes = 0;  // of read-write files saved by content
  // The FileData payloads, each preceded by its u64 size: read while the
  // application is stopped, written to the image later (maybe by a child).
  ByteWriter file_data;
  // The file locks the process holds (file_locks.h): kept in the runtime's
  // memory, which the image carries, and taken again after a restart.
  static constexpr int kMaxLocks = 256;
  HeldLock locks[kMaxLocks];
  int n_locks = 0;
  // The process's virtual address map (net_addresses.h): sockets' addresses
  // are saved in their virtual form. nullptr: as they are.
  const AddressMap* addresses = nullptr;
};

// `skip`: the runtime's own descriptors. Appends the Fds payload to `out`.
bool capture_fds(const int* skip, int n_skip, FdCapture& cap, ByteWriter& out, MessageString& err);
// Reads the content of unlinked and job-private files into cap.file_data.
bool save_unlinked_files(FdCapture& cap, MessageString& err);
// The FileData sections, then the JobDirs section if the job made any.
bool write_unlinked_files(const FdCapture& cap, image::ImageWriter& writer, MessageString& err);

}  // namespace ckpt
