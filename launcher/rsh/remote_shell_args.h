// How ckpt_rsh is called: like ssh or rsh, `ckpt_rsh [OPTIONS] HOST
// [COMMAND...]`. The options are the caller's remote shell's (Open MPI and
// hydra add some, e.g. -x); ckpt_rsh passes them on unchanged. Options that
// take a value (ssh's -F FILE, -p PORT, -l USER, -o OPT, ...) are told apart
// so that their value is not taken for the host.
#pragma once

#include <string>
#include <vector>

namespace ckpt::rsh {

struct Invocation {
  std::vector<std::string> options;
  std::string host;  // as given, perhaps user@host
  std::vector<std::string> command;
};

// false with *error when no host is given.
bool parse_invocation(const std::vector<std::string>& args, Invocation* out, std::string* error);

// The host name without a user@ in front.
std::string host_name(const std::string& host);

// The words of a command line such as CKPT_RSH="ssh -F cfg" (split on blanks).
std::vector<std::string> words(const std::string& line);

}  // namespace ckpt::rsh
