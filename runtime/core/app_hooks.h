// Hooks the application registers (ckpt_add_hook() of api/ckpt.h), run on
// the checkpoint thread: pre-checkpoint hooks when a Suspend arrives, before
// any thread stops (in registration order); resume hooks once that
// checkpoint is over, committed or not (reverse order); restart hooks in a
// restarted process, after its threads are back and before they run on
// (reverse order). A fixed table: registering takes no lock and no malloc.
#pragma once

namespace ckpt {

using AppHookFn = void (*)(void* arg);

// 0, or a CKPT_* error of api/ckpt.h.
int add_app_hook(int event, AppHookFn fn, void* arg);

void run_pre_checkpoint_hooks();  // remembers that resume hooks are due
void run_resume_hooks();          // if pre-checkpoint hooks ran since the last call
void run_restart_hooks();

}  // namespace ckpt
