// Dirty-page tracking between checkpoints, from user space: userfaultfd
// write-protection in async mode (UFFD_FEATURE_WP_ASYNC: the kernel clears a
// page's write-protect bit on its first write, without a fault handler) read
// and re-armed with the PAGEMAP_SCAN ioctl on /proc/self/pagemap
// (PAGE_IS_WRITTEN, PM_SCAN_WP_MATCHING). Kernel >= 6.7; without it, no
// tracking and every checkpoint is full (tracking_note() says why).
//
// Only private anonymous mappings (anonymous, heap, stacks) are tracked;
// shared memory and file mappings are always written in full. A mapping
// that appears (mmap, a moved mremap, a child after fork, which inherits no
// registration) is registered at the next checkpoint's scan and written in
// full that time; from then on each scan, while the application's threads
// are stopped, lists its pages written since the previous scan and those
// that are now empty (never touched, or discarded by MADV_DONTNEED), and
// write-protects the written ones again. A pre-scan just before the pause
// (for the dirty copy's pre-copy) splits that list in two.
//
// Runs on the checkpoint path: malloc-free, raw system calls; its buffers
// come from mmap and are left out of the image (runtime_ranges.h).
#pragma once

#include <cstdint>

#include "ckpt/image_lineage.h"
#include "page_ranges.h"

namespace ckpt {

// One private anonymous mapping as the last scan saw it.
struct TrackedVma {
  uint64_t start, end;
  // Registered before this scan: `written` and `empty` are exact for the
  // time since the previous scan. Else the mapping is new to tracking.
  bool delta;
  uint32_t written, n_written;  // ranges in scan_ranges(), address order
  uint32_t empty, n_empty;      // pages neither present nor swapped
  // The pages this scan itself found written: `written` without those of
  // the pre-scan merged into it (prescan_dirty_pages).
  uint32_t fresh, n_fresh;
};

// Opens the userfaultfd on first use. The mode and, when it is kNone, why.
image::Tracking tracking_mode();
const char* tracking_note();
// The userfaultfd (-1 if none): the runtime's own, never saved.
int tracking_fd();

// During the pause: scans every private anonymous mapping (registering the
// new ones) and re-arms the write-protection. `generation`: the checkpoint
// taking place. False when tracking failed (the image must then be full,
// and the next one too).
bool scan_dirty_pages(uint64_t generation);
// Before the pause of checkpoint `generation`, while the application runs:
// scans as scan_dirty_pages does (write-protecting again what it found
// written) and keeps the result apart. That checkpoint's scan adds these
// pages to its own (less what is empty by then); a mapping whose bounds
// changed in between is written whole. A pre-scan that no scan of its
// generation takes (the checkpoint was given up) makes the next scan's
// mappings all whole. False when tracking is off or the scan failed.
bool prescan_dirty_pages(uint64_t generation);
// The pre-scan's results, until a scan takes them (0 mappings otherwise).
int prescanned_vmas(const TrackedVma** out);
const PageRange* prescan_ranges();

// Generation of the last complete scan (0 = none): pages written since then
// are the ones the last scan's lists miss.
uint64_t last_scan_generation();
// The last scan's results.
int scanned_vmas(const TrackedVma** out);
const PageRange* scan_ranges();
// The mapping of the last scan holding [start, end), or nullptr.
const TrackedVma* find_scanned(uint64_t start, uint64_t end);

// In a forked child of the application: the userfaultfd is the parent's.
// After a restart: it is gone. Forgets everything (no system call on the
// old fd after a restart: that number may be someone else's).
void forget_dirty_tracking(bool close_fd);

}  // namespace ckpt
