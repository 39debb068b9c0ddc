// /proc/self/fdinfo parsing (see fdinfo.h).
#include "fdinfo.h"

#include "common/hex.h"
#include "runtime/core/fixed_string.h"
#include "runtime/core/proc_files.h"

namespace ckpt {
namespace {

int digit(char c, int base) {
  int d = hex_digit(c);
  return d >= 0 && d < base ? d : -1;
}

// Parses a number at the start of s (after blanks); advances s.
bool number(std::string_view& s, int base, uint64_t& out) {
  while (!s.empty() && (s[0] == ' ' || s[0] == '\t' || s[0] == '(')) s.remove_prefix(1);
  uint64_t v = 0;
  size_t i = 0;
  for (; i < s.size() && digit(s[i], base) >= 0; i++) v = v * base + digit(s[i], base);
  if (i == 0) return false;
  s.remove_prefix(i);
  out = v;
  return true;
}

}  // namespace

std::string_view read_fdinfo_text(int fd, char* buf, size_t size) {
  FixedString<64> path;
  path.append("/proc/self/fdinfo/").append_int(fd);
  ByteWriter text(buf, size);
  read_whole_file(path.c_str(), text);
  return {buf, text.size()};
}

bool fdinfo_number(std::string_view text, std::string_view name, int base, uint64_t& out) {
  size_t at = text.find(name);
  if (at == std::string_view::npos) return false;
  std::string_view s = text.substr(at + name.size());
  return number(s, base, out);
}

bool fdinfo_pair(std::string_view text, std::string_view name, uint64_t& a, uint64_t& b) {
  size_t at = text.find(name);
  if (at == std::string_view::npos) return false;
  std::string_view s = text.substr(at + name.size());
  if (!number(s, 10, a)) return false;
  if (!s.empty() && s[0] == ',') s.remove_prefix(1);
  return number(s, 10, b);
}

}  // namespace ckpt
