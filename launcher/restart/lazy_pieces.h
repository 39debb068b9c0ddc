// Where the memory of a lazy restart is now. The filler knows each page by
// its address in the image; the application may move ranges of it (mremap)
// or unmap them while they are being filled. LazyPieces follows those
// changes (the userfaultfd's remap and unmap events) as a list of pieces,
// each an address now, its address in the image and a length.
#pragma once

#include <cstdint>
#include <vector>

namespace ckpt {

class LazyPieces {
 public:
  // A lazy region, where the image has it.
  void add(uint64_t start, uint64_t len);

  // The image address of what is at `now`, or 0 when it is no lazy memory.
  uint64_t orig_of(uint64_t now) const;
  // Where the image address `orig` is now, or 0 when it was unmapped.
  uint64_t now_of(uint64_t orig) const;

  // munmap(start, end - start).
  void unmap(uint64_t start, uint64_t end);
  // mremap of [from, from + len) to `to` (what was at the target is gone).
  void remap(uint64_t from, uint64_t to, uint64_t len);

  // f(orig_start, orig_end) for each part of [start, end) (addresses now)
  // that is lazy memory.
  template <typename F>
  void for_each_orig(uint64_t start, uint64_t end, F f) const {
    for (const auto& p : pieces_) {
      uint64_t s = start > p.now ? start : p.now;
      uint64_t e = end < p.now + p.len ? end : p.now + p.len;
      if (s < e) f(p.orig + (s - p.now), p.orig + (e - p.now));
    }
  }

 private:
  struct Piece {
    uint64_t now, orig, len;
  };
  void split_at(uint64_t now);
  void erase(uint64_t start, uint64_t end);

  std::vector<Piece> pieces_;
};

}  // namespace ckpt
