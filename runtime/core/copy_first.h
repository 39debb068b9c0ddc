// Copy-first checkpoints (write mode "copy", see write_mode_policy.h): while
// the application's threads are stopped, the resident pages of its large
// private anonymous mappings are copied into one buffer and those mappings
// are marked MADV_WIPEONFORK, so the forked writer gets them empty and
// the application's pages are not shared copy-on-write with it. The writer
// reads such pages from the buffer instead (copied_pages). Right after the
// fork the parent clears the mark. The buffer is kept for the next
// checkpoint (CKPT_COPY_KEEP=0: unmapped after each fork), never inherited
// by the application's children, and left out of the image. The image is
// the same as with a plain fork.
//
// Runs on the checkpoint path: malloc-free, raw system calls, memory from mmap.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ckpt {

// Smallest mapping copied; smaller ones stay copy-on-write.
inline constexpr uint64_t kMinCopiedRegion = 1ull << 20;
inline constexpr int kMaxCopiedRegions = 256;

// Before the pause, while the application runs: maps and populates the
// buffer the next copy_before_fork will need (the first touch of new memory
// costs 0.5-0.8 s per GiB here, more under load).
void prepare_copy_buffer(uint64_t budget);
// Copies what fits in `budget` bytes of resident pages. False if nothing was
// copied (the writer then forks as usual). Memory holding the calling
// thread's stack or the runtime's data is never copied.
bool copy_before_fork(uint64_t budget, uint64_t* copied_bytes);
// In the parent, after the fork (or instead of it): clears the marks (and
// unmaps the buffer if it is not kept). Idempotent.
void release_copy();
// Whether [start, end) is this process's copy buffer (not the application's).
bool is_copy_buffer(uint64_t start, uint64_t end);
// Where the copy of [addr, addr + len) is, or nullptr if not copied. Sets
// *broken when the range straddles a copied mapping's edge.
const uint8_t* copied_pages(uint64_t addr, uint64_t len, bool* broken);
// In the writer: whether some memory is read from a copy.
bool copy_in_use();
// In the writer, before reading: maps the copy's pages in one call.
void map_copy_in_writer();
// After a restart: the buffer was the writer's, not the application's.
void forget_copy();

}  // namespace ckpt
