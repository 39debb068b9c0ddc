// _exit()/_Exit(): like exit() (runtime.cc's destructor), a process that a
// checkpoint resumed early (forked writes) stays until the checkpoint is
// over, so that it still reports its image; then it tells the coordinator
// it exits on its own (announce_exit). Shells end their children with
// _exit right after a fork.
#include <stdlib.h>
#include <unistd.h>

#include "ckpt/sys.h"
#include "real_functions.h"
#include "runtime/core/checkpoint_thread.h"
#include "runtime/core/runtime.h"

namespace {

[[noreturn]] void leave(int status) {
  ckpt::Runtime& rt = ckpt::runtime();
  if (rt.ready) ckpt::announce_exit(rt);
  ckpt::sys::exit_group(status);
  __builtin_unreachable();
}

}  // namespace

CKPT_WRAPPER void _exit(int status) { leave(status); }
CKPT_WRAPPER void _Exit(int status) { leave(status); }
