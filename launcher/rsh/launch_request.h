// What the launching side of ckpt_rsh tells the remote side, as one word of
// hex digits on the remote shell's command line (so that no remote shell,
// with or without word splitting and quoting, can change it): the
// environment to run under, where to connect back, the launch cookie, and
// the command line the caller gave the remote shell.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ckpt::rsh {

struct LaunchRequest {
  std::vector<std::pair<std::string, std::string>> env;  // set before ckpt_launch
  std::string connect_host;                              // the launching side's relay listener
  std::string connect_port;
  std::string cookie;   // proves the connection is this launch's
  std::string host;     // the name the caller gave (for messages)
  std::string command;  // run with the remote user's shell: SHELL -c COMMAND
};

std::string encode(const LaunchRequest& request);
std::optional<LaunchRequest> decode(const std::string& hex);

}  // namespace ckpt::rsh
