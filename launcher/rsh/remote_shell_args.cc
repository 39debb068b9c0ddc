// Parsing an ssh/rsh-like command line (see remote_shell_args.h).
#include "remote_shell_args.h"

#include <cstring>
#include <sstream>

namespace ckpt::rsh {
namespace {

// ssh's options that take a value (rsh's -l is among them).
constexpr const char* kWithValue = "BbcDEeFIiJLlmOoPpQRSWw";

// How many arguments the option group args[i] uses (1, or 2 when its last
// letter takes the next argument as its value).
size_t option_span(const std::string& arg) {
  for (size_t k = 1; k < arg.size(); k++) {
    if (std::strchr(kWithValue, arg[k])) return k + 1 == arg.size() ? 2 : 1;
  }
  return 1;
}

}  // namespace

bool parse_invocation(const std::vector<std::string>& args, Invocation* out, std::string* error) {
  size_t i = 0;
  while (i < args.size() && args[i].size() > 1 && args[i][0] == '-') {
    if (args[i] == "--") {
      i++;
      break;
    }
    size_t span = option_span(args[i]);
    for (size_t k = 0; k < span && i < args.size(); k++) out->options.push_back(args[i++]);
  }
  if (i >= args.size()) {
    *error = "no host given (usage: ckpt_rsh [OPTIONS] HOST [COMMAND...])";
    return false;
  }
  out->host = args[i++];
  out->command.assign(args.begin() + static_cast<long>(i), args.end());
  return true;
}

std::string host_name(const std::string& host) {
  size_t at = host.rfind('@');
  return at == std::string::npos ? host : host.substr(at + 1);
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace ckpt::rsh
