// Settings shared by every CLI: where the coordinator is and where checkpoints
// go. Environment first (CKPT_COORD_HOST, CKPT_COORD_PORT, CKPT_DIR), then
// command-line options (--host, --port, --dir/--ckpt-dir) override it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ckpt/protocol.h"

namespace ckpt {

struct Settings {
  std::string host = "localhost";
  uint16_t port = proto::kDefaultPort;
  std::string dir;  // absolute
};

// Reads the environment. An unusable CKPT_COORD_PORT is reported on stderr
// (one line) and the default port is kept.
Settings settings_from_env();

// "0".."65535" -> port; anything else -> nullopt.
std::optional<uint16_t> parse_port(std::string_view text);

// `path` made absolute against the current directory and normalized, without
// a trailing slash ("" means the current directory).
std::string absolute_dir(const std::string& path);

enum class OptionStatus {
  kNotMine,  // argv[*i] is not this option
  kTaken,    // consumed; *i now indexes the last argument consumed
  kBad,      // it is this option but its value is missing or wrong; *error says why
};

// Matches "--name VALUE" or "--name=VALUE" at argv[*i].
OptionStatus take_option_value(int argc, char* const argv[], int* i, std::string_view name,
                               std::string* value, std::string* error);

// Consumes one of --host H, --port P, --dir D, --ckpt-dir D at argv[*i] into
// *settings. Use in each CLI's option loop before its own options.
OptionStatus take_settings_option(int argc, char* const argv[], int* i, Settings* settings,
                                  std::string* error);

// "host:port", for messages.
std::string endpoint(const Settings& settings);

}  // namespace ckpt
