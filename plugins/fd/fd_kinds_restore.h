// Recreating event descriptors (eventfd, timerfd, signalfd, epoll) and pipes
// whose both ends are in the process, from FdRecord::extra. Restart side.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "ckpt/image_format.h"

namespace ckpt {

// A new descriptor (any number) for an eventfd/timerfd/signalfd record, or
// -1 with err.
int create_event_fd(const image::FdRecord& r, std::string* err);
// An epoll instance with the record's registrations (call once every other
// descriptor is in place).
int create_epoll(const image::FdRecord& r, std::string* err);

// Pipes are created when their first end is met; the other end waits above
// every descriptor number the image uses.
class PipeTable {
 public:
  explicit PipeTable(int first_free) : first_free_(first_free) {}
  // The temporary descriptor of this record's end, or -1 with err.
  int end_for(const image::FdRecord& r, std::string* err);
  // Writes the drained bytes back, through the write ends now in place.
  bool refill(std::string* err);

 private:
  struct Pipe {
    int read = -1, write = -1;  // temporaries, until placed
    int placed_write = -1;      // final number of the write end
    std::string data;
  };
  std::map<uint64_t, Pipe> pipes_;
  int first_free_;
};

}  // namespace ckpt
