// Pointing MPI launchers' remote shells at ckpt_rsh (docs/mpi.md, "Across
// nodes"): Open MPI's plm_rsh_agent and hydra's launcher exec become
// ckpt_rsh, and the remote shell the user chose (on the command line, in
// the environment, else ssh) moves to CKPT_RSH, which ckpt_rsh runs.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "plugins/mpi/mpi_environment.h"

namespace ckpt {

// Rewrites argv (the program and its arguments) where it names a remote
// shell (`--mca plm_rsh_agent X`, `-mca orte_rsh_agent X`, `-launcher-exec
// X`, `-bootstrap-exec X`) and returns the variables to set. An existing
// CKPT_RSH wins over what the command line or the environment names.
std::vector<EnvSetting> wrap_remote_shells(std::vector<std::string>* argv,
                                           const std::function<const char*(const char*)>& lookup,
                                           const std::string& ckpt_rsh);

}  // namespace ckpt
