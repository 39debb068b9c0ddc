// The launching side of ckpt_rsh: runs beside mpirun (or mpiexec, or any
// program that starts remote commands through a remote shell), under
// checkpoint control. It asks the user's remote shell (CKPT_RSH, default
// ssh) to start the remote side on the host, which connects back to it by
// TCP; from then on the remote shell is gone and the two sides carry the
// remote command's stdin, stdout, stderr and exit status over that
// connection, which checkpoints and restarts keep like any other.
#pragma once

#include "remote_shell_args.h"

namespace ckpt::rsh {

// Runs `inv` on its host; returns the remote command's exit status, or 255
// with a one-line message naming the host when it could not be started.
int run_local_side(const Invocation& inv);

}  // namespace ckpt::rsh
