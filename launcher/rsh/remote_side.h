// The remote side of ckpt_rsh, in two steps:
//
// 1. `ckpt_rsh --serve REQUEST` is what the remote shell runs (outside the
//    computation): it starts `ckpt_launch ckpt_rsh --relay REQUEST` in a new
//    session under the job's environment, detached from the remote shell,
//    and exits, so the remote shell ends once the relay let go of it.
// 2. `ckpt_rsh --relay REQUEST` (under checkpoint control) connects back to
//    the launching side, drops the remote shell's stdin/stdout/stderr, runs
//    the command with the user's shell and relays its stdin, stdout, stderr
//    and exit status over the connection.
#pragma once

#include <string>

namespace ckpt::rsh {

int serve(const std::string& request);
int relay(const std::string& request);

}  // namespace ckpt::rsh
