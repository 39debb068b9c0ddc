// The job secret: 16 random bytes shared by every member of one job (the
// coordinator, the processes, the CLIs). Peers prove they know it (see
// proto::prove) without sending it. Source, in order: env CKPT_SECRET (32 hex
// characters), else the file $CKPT_DIR/.ckpt_secret (32 hex characters, mode
// 0600).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ckpt {

struct Secret {
  uint8_t key[16] = {};
};

inline constexpr const char* kSecretFileName = ".ckpt_secret";

// 32 lowercase hex characters.
std::string to_hex(const Secret& secret);
// 32 hex characters (either case), surrounding whitespace ignored.
std::optional<Secret> secret_from_hex(std::string_view text);

// The job's secret, or nullopt if there is none. When one exists but cannot
// be used (bad hex, unreadable file), *error (if given) says why in one line.
std::optional<Secret> load_secret(const std::string& dir, std::string* error = nullptr);

// load_secret(), else a new random secret written atomically to
// $dir/.ckpt_secret with mode 0600 (dir is created if missing). If another
// process creates the file at the same time, its secret wins and is returned.
std::optional<Secret> load_or_create_secret(const std::string& dir, std::string* error);
// Same; throws std::runtime_error (one-line message) on failure.
Secret load_or_create_secret(const std::string& dir);

}  // namespace ckpt
