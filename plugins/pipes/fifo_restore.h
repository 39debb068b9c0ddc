// Named FIFOs, restart side. A FifoTable opens each saved FIFO once as an
// anchor (read-write, so that no later open blocks and the content survives
// until every end exists), puts its saved bytes back once per FIFO, and
// opens each record's end on it. A FIFO whose path is gone is created again
// (with a warning); one that was deleted while open comes back deleted.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "ckpt/image_format.h"

namespace ckpt {

struct FifoState {
  uint64_t ino = 0;
  bool deleted = false;
  uint32_t pipe_size = 0;
  std::string_view data;  // points into the record
};

// The state of a kFifo record (false if it carries none or is malformed).
bool decode_fifo(const image::FdRecord& r, FifoState* out);

class FifoTable {
 public:
  FifoTable() = default;
  ~FifoTable() { release(); }
  FifoTable(const FifoTable&) = delete;
  FifoTable& operator=(const FifoTable&) = delete;

  // A new descriptor (caller owns it, O_CLOEXEC) on the record's FIFO with
  // the record's access mode and status flags, or -1 with err. Records are
  // grouped by their saved (dev, ino): the same FIFO in several images is
  // one FIFO.
  int open_for(const image::FdRecord& r, std::string* err);
  // Closes the anchors: call once every end of every FIFO is open.
  void release();

 private:
  struct Fifo {
    int anchor = -1;
    bool filled = false;
  };
  bool open_anchor(const image::FdRecord& r, const FifoState& s, Fifo& f, std::string* err);

  std::map<std::pair<uint64_t, uint64_t>, Fifo> fifos_;
};

}  // namespace ckpt
