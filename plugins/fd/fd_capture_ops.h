// The operations a descriptor family offers the checkpoint side (libckpt.so,
// malloc-free): one table per family, on the model of CRIU's fdtype_ops.
// fd_capture.cc reaches the families only through fd_capture_families();
// a new family adds its table there (fd_capture_families.cc).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <span>
#include <string_view>

#include "ckpt/byte_codec.h"
#include "ckpt/image_format.h"
#include "runtime/core/fixed_string.h"

namespace ckpt {

struct AddressMap;

// What the fd plugin learns of one descriptor before its family captures it.
struct FdFacts {
  int fd;
  struct stat st;
  uint32_t flags;  // open flags, from fdinfo
  int64_t pos;
  image::FdKind kind;
  PathString target;  // the /proc/self/fd link
};

struct FdCaptureOps {
  const char* family;
  // The kind of a descriptor of this family, else kOther.
  image::FdKind (*classify)(const struct stat& st, std::string_view target);
  // Appends the family's state of `f` to FdRecord::extra; nullptr: none.
  // `addresses`: the process's virtual address map (nullptr: none).
  bool (*capture)(const FdFacts& f, const AddressMap* addresses, ByteWriter& extra,
                  MessageString& err) = nullptr;
  // Once every descriptor is classified: may refine the kinds (a pipe whose
  // two ends are in the process). nullptr: nothing to do.
  void (*refine)(FdFacts* facts, int n) = nullptr;
  // Captured for every fd of a shared description, not only the first.
  bool every_fd = false;
};

// The families' tables, in the order they classify a descriptor.
std::span<const FdCaptureOps* const> fd_capture_families();

}  // namespace ckpt
