// The fd plugin, checkpoint side: describes every open file descriptor as an
// FdRecord (Fds section) and saves the content of files that were unlinked
// while open and of small files open read-write (FileData sections). Descriptors it cannot restore
// make the checkpoint fail with a message that names them.
#pragma once

#include "../../runtime/core/fixed_string.h"
#include "ckpt/address_map.h"
#include "ckpt/byte_codec.h"
#include "file_locks.h"

namespace ckpt::image {
class ImageWriter;
}

namespace ckpt {

inline constexpr int kMaxFds = 4096;

struct FdCapture {
  static constexpr int kMaxContentFds = 64;
  // A read-write file up to this size is saved by content (fd_capture.cc).
  static constexpr int64_t kMaxContentBytes = 64 << 20;
  int count = 0;
  // fds whose content goes into FileData: unlinked files, read-write files
  int unlinked_fds[kMaxContentFds];
  int n_unlinked = 0;
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
// Reads the content of unlinked files into cap.file_data.
bool save_unlinked_files(FdCapture& cap, MessageString& err);
bool write_unlinked_files(const FdCapture& cap, image::ImageWriter& writer, MessageString& err);

}  // namespace ckpt
