// Copy-on-write checkpointing: the image is written by a child forked while
// the application's threads are stopped, so the application runs on as soon
// as every process of the computation has forked. The child is made with a
// bare clone(2) (no glibc fork handlers: its memory must be the frozen
// parent's) and no exit signal, so the application's SIGCHLD handling and
// waitpid(-1) never see it.
#pragma once

#include "fixed_string.h"
#include "image_file.h"
#include "runtime.h"

namespace ckpt {

// Whether checkpoints fork (CKPT_FORKED=0 turns it off).
bool forked_writes_enabled();
// Forks the writer. False if it could not (the caller writes inline).
bool start_forked_writer(Runtime& rt, ImageJob& job);
bool forked_writer_running();
// Waits for the writer's report and collects its result into job.out /
// err. A writer that reported may still be exiting: reap_forked_writer()
// collects it later (after the commit), off the checkpoint's critical path.
bool finish_forked_writer(ImageJob& job, MessageString& err);
void reap_forked_writer();
// Kills the writer and removes its temporary file.
void cancel_forked_writer(ImageJob& job);
// After a restart there is no writer.
void forget_forked_writer();
// In a child the application forked while its parent's writer still ran
// (the Write phase: the application runs again): the writer and its report
// page are the parent's. Drops them (unmaps the child's view of the page).
// Without this the child took the parent's report for its own at its first
// checkpoint and said an image was written that never was.
void drop_parent_writer();

}  // namespace ckpt
