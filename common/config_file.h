// Site and user configuration files: defaults for the job settings that
// each also have an environment variable.
//
//   /etc/ckpt/ckpt.conf                 the site's (CKPT_SITE_CONFIG names another)
//   $XDG_CONFIG_HOME/ckpt/ckpt.conf     the user's (~/.config when XDG_CONFIG_HOME is unset)
//
// One "key = value" per line; '#' starts a comment; blank lines are fine.
// $NAME and ${NAME} in a value are replaced by the environment variable
// (empty when unset), so "dir = /scratch/$USER/ckpt-$SLURM_JOB_ID" works.
//
//   dir = PATH           default checkpoint dir         (CKPT_DIR)
//   compress = LEVEL     zstd level, -7..19, 0 = off    (CKPT_COMPRESS_LEVEL)
//   interval = SECONDS   periodic checkpoints, 0 = off  (CKPT_INTERVAL)
//   keep = K             committed checkpoints kept     (CKPT_KEEP)
//   remote_shell = CMD   remote shell, e.g. "ssh -x"    (CKPT_RSH)
//   timeout = SECONDS    limit of each checkpoint phase (CKPT_TIMEOUT)
//
// Precedence: command-line options > environment > user file > site file.
// A file only fills in environment variables that are unset, so everything
// started from a CLI (coordinator, runtime, ckpt_rsh) sees the same values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ckpt {

struct ConfigEntry {
  std::string key;
  std::string env;    // the environment variable it sets
  std::string value;  // after $NAME expansion
  int line = 0;
};

// Parses one file's text. Every bad line adds one "FILE:LINE: why" to
// *errors; the good lines are still returned.
std::vector<ConfigEntry> parse_config(std::string_view text, const std::string& file,
                                      std::vector<std::string>* errors);

// The files read, user's first (it wins over the site's).
std::vector<std::string> config_paths();

// Reads the files that exist and sets the environment variables of their
// entries that are unset (so: environment > user > site). Returns the
// variables it set. Unreadable files and bad lines go to *errors, one line each;
// nothing is set if there is any error.
std::vector<std::string> apply_config_files(std::vector<std::string>* errors);

// For a CLI's main: apply_config_files, each error printed on stderr as
// "PROGRAM: FILE:LINE: why"; false if there was one (exit 2 then).
bool load_config_or_complain(const char* program, std::vector<std::string>* set = nullptr);

}  // namespace ckpt
