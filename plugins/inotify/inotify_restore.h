// inotify instances, restart side: a new instance with every saved watch at
// its saved watch descriptor (encoding in inotify_capture.h). Events queued
// but not read at the checkpoint are not restored.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ckpt/image_format.h"

namespace ckpt {

struct InotifyWatch {
  int32_t wd = 0;
  uint32_t mask = 0;
  std::string path;
};

// The watches of a kInotify record, sorted by wd; false if malformed.
bool decode_inotify(const image::FdRecord& r, std::vector<InotifyWatch>* out);
// A new descriptor (any number, O_CLOEXEC, the record's O_NONBLOCK) for a
// kInotify record, or -1 with err.
int create_inotify(const image::FdRecord& r, std::string* err);

}  // namespace ckpt
