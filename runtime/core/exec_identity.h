// What crosses an exec: the environment the new program needs to come up
// under checkpoint control as the same process of the computation.
//
//   LD_PRELOAD           keeps libckpt (added back if the program dropped it)
//   CKPT_COORD_HOST/PORT, CKPT_SECRET, CKPT_DIR
//                        the coordinator of now (a restart may have moved it)
//   CKPT_EXEC_STATE      "real_pid:vpid:vppid:restart_count[:vpid=real,...]": taken
//                        and removed from the environment by the constructor
//   CKPT_EXEC_ADDRESSES  the address map's moves in hex (net_addresses.h), likewise
#pragma once

#include <string>
#include <vector>

#include "runtime.h"

namespace ckpt {

// Remembers LD_PRELOAD as launched (constructor).
void remember_preload();
// The environment for an exec: `envp` with the runtime's variables set.
std::vector<std::string> exec_environment(const Runtime& rt, char* const envp[]);
// Constructor: the identity handed over by an exec, if any.
void adopt_exec_identity(Runtime& rt);
// After a restart: the environment's coordinator settings are those of now.
void refresh_runtime_env(const Runtime& rt);

}  // namespace ckpt
