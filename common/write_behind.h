// Write-behind for a file written sequentially and fsynced at the end (the
// checkpoint image): every kWriteBehindBytes written, the range just written
// is handed to the disk (sync_file_range SYNC_FILE_RANGE_WRITE), so the disk
// writes while the compressors keep working, and the final fsync only waits
// for the tail. The range two windows back is waited for, which keeps the
// dirty page cache of one image near two windows instead of the whole image.
//
// Malloc-free and libc-free (raw syscalls): it runs in the checkpoint path.
// Only a hint: errors are ignored (the final fsync reports them).
#pragma once

#include <cstdint>

namespace ckpt::image {

inline constexpr uint64_t kWriteBehindBytes = 8ull << 20;

class WriteBehind {
 public:
  explicit WriteBehind(int fd) : fd_(fd) {}
  // The file now holds `written` bytes from offset 0.
  void wrote_up_to(uint64_t written);

 private:
  int fd_;
  uint64_t started_ = 0;  // [0, started_) has been handed to the disk
  uint64_t waited_ = 0;   // [0, waited_) is on the disk
};

}  // namespace ckpt::image
