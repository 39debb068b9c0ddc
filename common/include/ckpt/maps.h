// Parser of /proc/<pid>/maps lines. Malloc-free: paths are views into the
// caller's text, so the runtime can use it while application threads are
// stopped.
#pragma once

#include <cstdint>
#include <string_view>

namespace ckpt {

struct MapEntry {
  uint64_t start = 0, end = 0;
  uint32_t prot = 0;  // PROT_READ | PROT_WRITE | PROT_EXEC
  bool shared = false;
  uint64_t offset = 0;
  uint32_t dev_major = 0, dev_minor = 0;
  uint64_t inode = 0;
  std::string_view path;  // "" for anonymous; "[heap]", "[stack]", "[vdso]" ...
  bool deleted = false;   // path ended in " (deleted)", which is stripped

  uint64_t size() const { return end - start; }
};

// Parse one line (without its newline). Returns false if it is malformed.
bool parse_maps_line(std::string_view line, MapEntry& out);

// Call f(const MapEntry&) for each well-formed line of a maps file's text.
// Returns false if any line was malformed.
template <typename F>
bool for_each_map(std::string_view text, F&& f) {
  bool all_ok = true;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty()) continue;
    MapEntry e;
    if (parse_maps_line(line, e))
      f(e);
    else
      all_ok = false;
  }
  return all_ok;
}

}  // namespace ckpt
