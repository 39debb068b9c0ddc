// /proc/<pid>/maps line parser (see maps.h).
#include "ckpt/maps.h"

#include <sys/mman.h>

#include "common/hex.h"

namespace ckpt {
namespace {

bool hex(std::string_view& s, uint64_t& out, char stop) {
  uint64_t v = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] != stop; i++) {
    char c = s[i];
    int d = hex_digit(c);
    if (d < 0) return false;
    v = v * 16 + d;
  }
  if (i == 0 || i >= s.size()) return false;
  s.remove_prefix(i + 1);
  out = v;
  return true;
}

bool dec(std::string_view& s, uint64_t& out) {
  uint64_t v = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; i++) v = v * 10 + (s[i] - '0');
  if (i == 0) return false;
  s.remove_prefix(i);
  out = v;
  return true;
}

}  // namespace

bool parse_maps_line(std::string_view s, MapEntry& e) {
  e = MapEntry{};
  uint64_t major = 0, minor = 0;
  if (!hex(s, e.start, '-') || !hex(s, e.end, ' ')) return false;
  if (s.size() < 5 || s[4] != ' ') return false;
  if (s[0] == 'r') e.prot |= PROT_READ;
  if (s[1] == 'w') e.prot |= PROT_WRITE;
  if (s[2] == 'x') e.prot |= PROT_EXEC;
  e.shared = s[3] == 's';
  s.remove_prefix(5);
  if (!hex(s, e.offset, ' ') || !hex(s, major, ':') || !hex(s, minor, ' ')) return false;
  if (!dec(s, e.inode)) return false;
  e.dev_major = static_cast<uint32_t>(major);
  e.dev_minor = static_cast<uint32_t>(minor);
  size_t p = s.find_first_not_of(' ');
  e.path = p == std::string_view::npos ? std::string_view() : s.substr(p);
  constexpr std::string_view kDeleted = " (deleted)";
  if (e.path.size() > kDeleted.size() && e.path.ends_with(kDeleted)) {
    e.path.remove_suffix(kDeleted.size());
    e.deleted = true;
  }
  return e.start < e.end;
}

}  // namespace ckpt
