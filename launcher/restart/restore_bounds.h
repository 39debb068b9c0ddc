// Copying ckpt_restart's lists into RestoreArgs's fixed arrays: every list
// has its own bound, and one that does not fit fails the restart with a
// message naming what overflowed, instead of dropping the entries past it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ckpt/restore_args.h"

namespace ckpt {

// The message of a list of `count` `what` past its bound `cap`.
inline std::string overflow_message(size_t count, const char* what, uint32_t cap) {
  return std::to_string(count) + " " + what + ": ckpt_restart can pass on " + std::to_string(cap) +
         " at most";
}

// Copies `items` into `out[0..cap)` and sets `n`; false, naming `what`, when
// they do not fit (then `n` is 0).
template <typename T, typename U>
bool fill_bounded(T* out, uint32_t& n, uint32_t cap, const std::vector<U>& items, const char* what,
                  std::string* err) {
  n = 0;
  if (items.size() > cap) {
    *err = overflow_message(items.size(), what, cap);
    return false;
  }
  for (const U& item : items) out[n++] = item;
  return true;
}

// Copies the (virtual, real) pairs of `ids` into one of RestoreArgs's id
// maps; false, naming `what`, when they do not fit.
template <uint32_t N>
bool fill_id_map(RestoreIdMap<N>& map, const std::vector<std::pair<int32_t, int32_t>>& ids,
                 const char* what, std::string* err) {
  map.n = 0;
  if (ids.size() > N) {
    *err = overflow_message(ids.size(), what, N);
    return false;
  }
  for (const auto& [virt, real] : ids) {
    map.virt[map.n] = virt;
    map.real[map.n++] = real;
  }
  return true;
}

}  // namespace ckpt
