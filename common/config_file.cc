// The site and user configuration files (see config_file.h).
#include "config_file.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>

namespace ckpt {
namespace {

// How a key's value is checked.
enum class Kind { kPath, kText, kSeconds, kPositive, kLevel };

struct KeySpec {
  const char* key;
  const char* env;
  Kind kind;
};

constexpr KeySpec kKeys[] = {
    {"dir", "CKPT_DIR", Kind::kPath},
    {"compress", "CKPT_COMPRESS_LEVEL", Kind::kLevel},
    {"interval", "CKPT_INTERVAL", Kind::kSeconds},
    {"keep", "CKPT_KEEP", Kind::kPositive},
    {"remote_shell", "CKPT_RSH", Kind::kText},
    {"timeout", "CKPT_TIMEOUT", Kind::kPositive},
};

const KeySpec* find_key(std::string_view key) {
  for (const KeySpec& k : kKeys)
    if (key == k.key) return &k;
  return nullptr;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool is_name_char(char c, bool first) {
  return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (!first && c >= '0' && c <= '9');
}

// $NAME and ${NAME} replaced by the environment; "" with *error on a bad ${.
std::string expand(std::string_view v, std::string* error) {
  std::string out;
  for (size_t i = 0; i < v.size(); i++) {
    if (v[i] != '$') {
      out += v[i];
      continue;
    }
    size_t start = i + 1, end;
    bool braced = start < v.size() && v[start] == '{';
    if (braced) {
      end = v.find('}', ++start);
      if (end == std::string_view::npos) {
        *error = "unterminated ${ in value";
        return "";
      }
    } else {
      end = start;
      while (end < v.size() && is_name_char(v[end], end == start)) end++;
    }
    std::string name(v.substr(start, end - start));
    if (name.empty() || !is_name_char(name[0], true)) {
      *error = "'$' not followed by a variable name (write ${NAME})";
      return "";
    }
    if (const char* value = std::getenv(name.c_str())) out += value;
    i = braced ? end : end - 1;
  }
  return out;
}

bool is_integer(const std::string& s, long min, long max) {
  long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size() && v >= min && v <= max;
}

// "" if `value` suits `kind`, else why not.
std::string check_value(Kind kind, const std::string& value) {
  switch (kind) {
    case Kind::kPath:
      return value.empty() ? "empty path" : "";
    case Kind::kText:
      return value.empty() ? "empty value" : "";
    case Kind::kSeconds:
      return is_integer(value, 0, 1L << 31) ? "" : "'" + value + "' is not a number of seconds";
    case Kind::kPositive:
      return is_integer(value, 1, 1L << 31) ? "" : "'" + value + "' is not a positive number";
    case Kind::kLevel:
      return is_integer(value, -7, 19) ? "" : "'" + value + "' is not a zstd level (-7 to 19)";
  }
  return "";
}

// One line; false with *why if it is bad. Blank and comment lines give no entry.
bool parse_line(std::string_view raw, std::vector<ConfigEntry>* out, int number, std::string* why) {
  std::string_view line = trim(raw);
  if (line.empty() || line[0] == '#') return true;
  size_t eq = line.find('=');
  if (eq == std::string_view::npos) {
    *why = "expected 'key = value', got '" + std::string(line) + "'";
    return false;
  }
  std::string key(trim(line.substr(0, eq)));
  std::string_view raw_value = trim(line.substr(eq + 1));
  if (size_t hash = raw_value.find(" #"); hash != std::string_view::npos)
    raw_value = trim(raw_value.substr(0, hash));
  if (raw_value.size() >= 2 && raw_value.front() == '"' && raw_value.back() == '"')
    raw_value = raw_value.substr(1, raw_value.size() - 2);
  const KeySpec* spec = find_key(key);
  if (!spec) {
    *why =
        "unknown key '" + key + "' (known: dir, compress, interval, keep, remote_shell, timeout)";
    return false;
  }
  std::string value = expand(raw_value, why);
  if (!why->empty()) return false;
  if (*why = check_value(spec->kind, value); !why->empty()) {
    *why = key + ": " + *why;
    return false;
  }
  out->push_back(ConfigEntry{key, spec->env, value, number});
  return true;
}

}  // namespace

std::vector<ConfigEntry> parse_config(std::string_view text, const std::string& file,
                                      std::vector<std::string>* errors) {
  std::vector<ConfigEntry> out;
  int number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    number++;
    std::string why;
    if (!parse_line(text.substr(pos, end - pos), &out, number, &why))
      errors->push_back(file + ":" + std::to_string(number) + ": " + why);
    pos = end + 1;
  }
  return out;
}

std::vector<std::string> config_paths() {
  std::vector<std::string> out;
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  if (xdg && *xdg == '/')
    out.push_back(std::string(xdg) + "/ckpt/ckpt.conf");
  else if (home && *home)
    out.push_back(std::string(home) + "/.config/ckpt/ckpt.conf");
  const char* site = std::getenv("CKPT_SITE_CONFIG");
  out.push_back(site && *site ? site : "/etc/ckpt/ckpt.conf");
  return out;
}

// The whole file, or nullopt (absent: no error; unreadable: one in *errors).
static std::optional<std::string> read_config_file(const std::string& path,
                                                   std::vector<std::string>* errors) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) {
    if (errno != ENOENT) errors->push_back(path + ": cannot read: " + std::strerror(errno));
    return std::nullopt;
  }
  std::string text;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof(buf), f)) text.append(buf, n);
  std::fclose(f);
  return text;
}

std::vector<std::string> apply_config_files(std::vector<std::string>* errors) {
  std::map<std::string, std::string> chosen;  // env -> value; the first file wins
  for (const std::string& path : config_paths()) {
    std::optional<std::string> text = read_config_file(path, errors);
    if (!text) continue;
    std::map<std::string, std::string> file;  // within a file, the last line wins
    for (ConfigEntry& e : parse_config(*text, path, errors)) file[e.env] = e.value;
    chosen.merge(file);
  }
  std::vector<std::string> set;
  if (!errors->empty()) return set;
  for (const auto& [env, value] : chosen) {
    const char* now = std::getenv(env.c_str());
    if (now && *now) continue;
    setenv(env.c_str(), value.c_str(), 1);
    set.push_back(env);
  }
  return set;
}

bool load_config_or_complain(const char* program, std::vector<std::string>* set) {
  std::vector<std::string> errors;
  std::vector<std::string> applied = apply_config_files(&errors);
  for (const std::string& e : errors) std::fprintf(stderr, "%s: %s\n", program, e.c_str());
  if (set) *set = std::move(applied);
  return errors.empty();
}

}  // namespace ckpt
