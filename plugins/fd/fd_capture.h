// The fd plugin, checkpoint side: describes every open file descriptor as an
// FdRecord (Fds section) and saves the content of files that were unlinked
// while open (FileData sections). Descriptors it cannot restore make the
// checkpoint fail with a message that names them.
#pragma once

#include "ckpt/address_map.h"
#include "ckpt/byte_codec.h"
#include "runtime/core/fixed_string.h"

namespace ckpt::image {
class ImageWriter;
}

namespace ckpt {

inline constexpr int kMaxFds = 4096;

struct FdCapture {
  int count = 0;
  int unlinked_fds[64];  // fds whose content goes into FileData
  int n_unlinked = 0;
  // The FileData payloads, each preceded by its u64 size: read while the
  // application is stopped, written to the image later (maybe by a child).
  ByteWriter file_data;
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
