// Save and resume a thread's callee-saved context (a minimal setjmp/longjmp
// that also works across a restart, where the resumed thread is a new kernel
// task with the same stack and TLS).
#pragma once

#include "ckpt/image_format.h"

extern "C" {
// Returns 0 when saving, and the value passed to ckpt_resume_context when
// resumed through it.
__attribute__((returns_twice)) long ckpt_save_context(ckpt::image::JumpContext* ctx);
[[noreturn]] void ckpt_resume_context(const ckpt::image::JumpContext* ctx, long value);
}
