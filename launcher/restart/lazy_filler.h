// The lazy restart's filler: a process of its own that owns the restored
// process's userfaultfd and puts the memory left empty back (lazy_restart.h).
//
// It waits for the restorer's go (the regions are registered), then answers
// faults first (the faulting page's chunk is read, checked and copied in with
// UFFDIO_COPY; a page the image does not store gets UFFDIO_ZEROPAGE), and
// between faults copies in the next chunk in address order, decoded ahead by
// worker threads (chunk_prefetch.h). It follows the application's munmap,
// mremap and madvise(DONTNEED) of those regions (userfaultfd events,
// lazy_pieces.h), so that a page is never filled where the application has
// since moved or dropped it. Once every chunk is in it writes 'D' to the
// restored process's "done" socket and answers faults until the restored
// runtime has closed its copy of the userfaultfd and its end of the socket
// (runtime/core/lazy_fill.h); then it exits, and the registration ends.
//
// A chunk that fails its checksum (or cannot be read) kills the restored
// process, with one line on ckpt_restart's stderr naming the process, the
// region and the generation: never a wrong page.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "common/image_reader.h"

namespace ckpt {

struct FillerSetup {
  const image::LoadedImage* img;
  const std::vector<uint8_t>* lazy;  // per region: 1 = to fill
  int image_fd;
  int uffd;
  int go_fd;    // one byte from the restorer once the regions are registered
  int done_fd;  // socket: 'D' once every page is in; end of file: released
  int report_fd;
  pid_t target;   // the restored process
  uint32_t mbps;  // CKPT_LAZY_MBPS: background fill rate limit in MiB/s, 0 = none
  bool verbose;   // CKPT_VERBOSE: one line when done
  int threads;    // CKPT_LAZY_THREADS: decoding threads (default: CPUs, at most 4)
};

[[noreturn]] void run_filler(const FillerSetup& setup);

}  // namespace ckpt
