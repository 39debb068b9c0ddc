// System V semaphore sets and message queues at a checkpoint: the ones the
// process used (Runtime::used_sems, used_msgs), read while every process of
// the computation is stopped (the Snapshot phase): key, mode, the values of
// a set (GETALL), the queue's qbytes and every message it holds, copied
// without removing them (msgrcv MSG_COPY). Sets and queues removed since
// are left out. Malloc-free.
#pragma once

#include "ckpt/byte_codec.h"
#include "runtime/core/fixed_string.h"

namespace ckpt {

struct Runtime;

// The SysvObjects section's payload (image_format.h, SysvRecord) into
// `out`: a count, then one record per object; nothing (size 0) when the
// process used none.
bool capture_sysv_objects(const Runtime& rt, ByteWriter& out, MessageString& err);

}  // namespace ckpt
