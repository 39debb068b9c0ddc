// Pipes at restart, across every image: each pipe (by inode) is created once
// and each of its ends handed to the descriptions that hold it; the bytes in
// flight go back in once. A pipe whose far end was closed everywhere at the
// checkpoint comes back the same way: a reader gets the saved bytes, then
// end of file; a writer gets EPIPE. A pipe with only one end in the
// computation otherwise leads outside: the end is ckpt_restart's own
// descriptor of the same number if
// that is a pipe (its stdout to a reader that is still there), else a fresh
// pipe whose far end is gone (the reader sees end-of-file after the saved
// bytes; a writer's end becomes /dev/null so that it gets no SIGPIPE).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "ckpt/image_format.h"

namespace ckpt {

struct PipeEnd {
  uint64_t ino = 0;
  bool read_end = false;
  std::string_view data;  // in-flight bytes (read ends)
  bool far_end_closed = false;
};

// Decodes a pipe record's extra; false if malformed.
bool decode_pipe_end(const image::FdRecord& r, PipeEnd* out);

class PipeTable {
 public:
  // First pass: every pipe record of every image.
  void note(const PipeEnd& end);
  // A new descriptor for the description of `r` (its end), or -1 with err.
  int open_end(const image::FdRecord& r, const PipeEnd& end, std::string* err);
  // Puts the saved bytes back and closes the table's own ends.
  bool finish(std::string* err);

 private:
  struct Pipe {
    bool has_read = false, has_write = false, far_end_closed = false;
    std::string data;
    int read = -1, write = -1;
  };
  std::map<uint64_t, Pipe> pipes_;
};

}  // namespace ckpt
