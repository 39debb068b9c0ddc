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
// Bytes of this process's buffer, mapped and populated (0: none yet).
uint64_t copy_buffer_ready_bytes();
// Copies what fits in `budget` bytes of resident pages. False if nothing was
// copied (the writer then forks as usual). Memory holding the calling
// thread's stack or the runtime's data is never copied.
bool copy_before_fork(uint64_t budget, uint64_t* copied_bytes);
// Dirty copy, for an incremental checkpoint written by a forked writer:
// only the pages written since the previous checkpoint are copied, packed
// one after the other in the buffer, and the tracked mappings they belong
// to are left out of the fork. The pause is then the copy of those pages
// (~0.05 s per GiB here) instead of the fork's copy of every page table
// (~25 ms per GiB), and the application takes no copy-on-write fault while
// the writer runs. Not when more than a quarter of those mappings was
// written (the fork is then cheaper, and the buffer, kept between
// checkpoints, would double the memory). CKPT_DIRTY_COPY=0 turns it off; unset, it is used by
// processes with at least kMinCopyBytes of anonymous memory; =1: by all.
enum class DirtyCopySetting { kOff, kAuto, kAlways };
DirtyCopySetting dirty_copy_setting();
// Before the pause: a populated buffer as large as the last dirty copy
// wanted (a copy that does not fit falls back to a plain fork once).
void prepare_dirty_copy(uint64_t budget);
// Pre-copy, just before the pause of checkpoint `generation` while the
// application still runs: a pre-scan (dirty_tracking.h) write-protects the
// pages written so far again, and those of the mappings the dirty copy
// takes are copied into the buffer (process_vm_readv, so that a mapping
// unmapped meanwhile fails the pre-copy instead of faulting). The pause then
// copies only the pages written after it. Needs a buffer made ready by an
// earlier dirty copy; CKPT_PRECOPY=0 turns it off.
void precopy_dirty_pages(uint64_t generation);
// During the pause, after the dirty-page scan of an incremental checkpoint
// `generation`. False if nothing was copied (the writer then forks as
// usual). *copied_bytes: copied now; *precopied_bytes: before the pause.
bool copy_dirty_before_fork(uint64_t budget, uint64_t generation, uint64_t* copied_bytes,
                            uint64_t* precopied_bytes);
// In the writer: when [addr, addr + pages) lies in a mapping of the dirty
// copy, copies its copied pages into `scratch` (one chunk) at their offsets
// and returns scratch, whose other pages must not be read; nullptr
// otherwise. Sets *broken when the range straddles such a mapping's edge.
const uint8_t* gather_dirty_pages(uint64_t addr, uint32_t pages, uint8_t* scratch, bool* broken);
// In the parent, after the fork (or instead of it): clears the marks (and
// unmaps the buffer if it is not kept). Idempotent.
void release_copy();
// Whether [start, end) is this process's copy buffer (not the application's).
bool is_copy_buffer(uint64_t start, uint64_t end);
// Where the copy of [addr, addr + len) is, or nullptr if not copied. Sets
// *broken when the range straddles a copied mapping's edge.
const uint8_t* copied_pages(uint64_t addr, uint64_t len, bool* broken);
// In the writer: whether some memory is read from a copy, from the full
// copy, from the dirty copy (only the written pages).
bool copy_in_use();
bool full_copy_in_use();
bool dirty_copy_in_use();
// In the writer, before reading: maps the copy's pages in one call.
void map_copy_in_writer();
// After a restart: the buffer was the writer's, not the application's.
void forget_copy();
// At the start of every image (after the exclusion list is cleared): the
// run table and the buffer are the runtime's and never in an image. An
// image that kept the run table while its parent had left it out said its
// pages were kept from a parent without them (e2e_cli_output, once: a
// copy-first checkpoint after a dirty copy).
void exclude_copy_buffers();

}  // namespace ckpt
