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
// Waits for the writer and collects its result into job.out / err.
bool finish_forked_writer(ImageJob& job, MessageString& err);
// Kills the writer and removes its temporary file.
void cancel_forked_writer(ImageJob& job);
// After a restart there is no writer.
void forget_forked_writer();

}  // namespace ckpt
