// Lazy restart (ckpt_restart --lazy, CKPT_LAZY=1): the process resumes as
// soon as its registers, small state and stacks are back; its large private
// anonymous regions are moved into place empty, registered by the restorer
// with a userfaultfd (missing mode), and filled by a filler process
// (lazy_filler.h): a first touch waits for that page's chunk, the rest
// streams in in address order in the background.
//
// What stays eager: stacks and any region holding a thread's stack pointer,
// regions under kLazyMinBytes, file mappings (private ones with modified
// pages included: missing mode needs anonymous memory), shared memory of
// any kind, and regions past RestoreArgs's kMaxLazyRanges.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ckpt/restore_args.h"
#include "common/image_reader.h"

namespace ckpt {

inline constexpr uint64_t kLazyMinBytes = 1ull << 20;

struct LazyPlan {
  std::vector<uint8_t> lazy;  // per region of the image: 1 = filled by the filler
  uint64_t lazy_bytes = 0;    // their stored bytes
  int uffd = -1;              // the userfaultfd, created by open_lazy
  bool any() const { return lazy_bytes > 0; }
};

// True when --lazy or CKPT_LAZY=1 asked for it (CKPT_LAZY=0 overrides nothing
// given on the command line).
bool lazy_requested(bool option);

// Chooses the lazy regions and creates the userfaultfd. Without userfaultfd
// (an old kernel, vm.unprivileged_userfaultfd=0 for a user) the plan is
// empty and *warning says why: the restart is eager.
LazyPlan open_lazy(const image::LoadedImage& img, std::string* warning);

// Starts the filler (a process of its own session, not a child of the
// restored one) and fills RestoreArgs's lazy fields. Descriptors the filler
// keeps: the image, the userfaultfd, the go pipe, the done socket, report_fd (where its one-line
// errors go). min_fd: the lowest number the restored process's "done" socket
// may take (above every descriptor the application has). Error: one line.
bool start_lazy_filler(const image::LoadedImage& img, LazyPlan& plan, int report_fd, int min_fd,
                       RestoreArgs* args, std::string* err);

}  // namespace ckpt
