// Settings from the environment and the shared --host/--port/--dir options.
#include "settings.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace ckpt {

std::optional<uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(value);
}

std::string absolute_dir(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p =
      path.empty() ? std::filesystem::current_path(ec) : std::filesystem::path(path);
  std::string out = std::filesystem::absolute(p, ec).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Settings settings_from_env() {
  Settings s;
  if (const char* host = std::getenv("CKPT_COORD_HOST"); host && *host) s.host = host;
  if (const char* port = std::getenv("CKPT_COORD_PORT"); port && *port) {
    if (auto p = parse_port(port)) {
      s.port = *p;
    } else {
      std::fprintf(stderr, "ckpt: ignoring CKPT_COORD_PORT=%s (not a port number), using %u\n",
                   port, s.port);
    }
  }
  const char* dir = std::getenv("CKPT_DIR");
  s.dir = absolute_dir(dir ? dir : "");
  return s;
}

OptionStatus take_option_value(int argc, char* const argv[], int* i, std::string_view name,
                               std::string* value, std::string* error) {
  std::string_view arg = argv[*i];
  if (arg.substr(0, name.size()) != name) return OptionStatus::kNotMine;
  std::string_view rest = arg.substr(name.size());
  if (!rest.empty() && rest[0] == '=') {
    *value = rest.substr(1);
    return OptionStatus::kTaken;
  }
  if (!rest.empty()) return OptionStatus::kNotMine;
  if (*i + 1 >= argc) {
    *error = std::string(name) + " needs a value";
    return OptionStatus::kBad;
  }
  *value = argv[++*i];
  return OptionStatus::kTaken;
}

OptionStatus take_settings_option(int argc, char* const argv[], int* i, Settings* settings,
                                  std::string* error) {
  std::string value;
  OptionStatus st = take_option_value(argc, argv, i, "--host", &value, error);
  if (st == OptionStatus::kTaken) settings->host = value;
  if (st != OptionStatus::kNotMine) return st;

  st = take_option_value(argc, argv, i, "--port", &value, error);
  if (st == OptionStatus::kTaken) {
    auto port = parse_port(value);
    if (!port) {
      *error = "--port " + value + ": not a port number (0-65535)";
      return OptionStatus::kBad;
    }
    settings->port = *port;
  }
  if (st != OptionStatus::kNotMine) return st;

  for (std::string_view name : {"--dir", "--ckpt-dir"}) {
    st = take_option_value(argc, argv, i, name, &value, error);
    if (st == OptionStatus::kTaken) settings->dir = absolute_dir(value);
    if (st != OptionStatus::kNotMine) return st;
  }
  return OptionStatus::kNotMine;
}

std::string endpoint(const Settings& settings) {
  return settings.host + ":" + std::to_string(settings.port);
}

}  // namespace ckpt
