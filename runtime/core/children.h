// The process's children at a checkpoint.
//
// A child is a member of the computation (its checkpoint thread, named
// kControlThreadName, is connected to the coordinator, or, on demand, it
// catches the runtime's serve signal: on_demand_server.h), a zombie (exited,
// not yet reaped: its parent will still wait for it after a restart), or
// outside (a statically linked or setuid program, or one started without
// the runtime). A child that is still starting (forked, spawned, or between
// exec and its runtime's registration) is waited for, so that it joins the
// checkpoint in progress instead of being missed. Malloc-free.
#pragma once

#include "ckpt/byte_codec.h"
#include "runtime.h"

namespace ckpt {

// The name the checkpoint thread takes once registered (prctl PR_SET_NAME).
inline constexpr char kControlThreadName[] = "ckpt-ctl";

// Whether `pid` is a process of the computation with its runtime running.
bool is_member_process(int32_t pid);

// Suspend phase: waits (bounded) until every live child is a member or known
// to be outside; outside ones are reported to the coordinator once.
void settle_children(Runtime& rt);
// Snapshot phase: records one ChildRecord per child (zombies with their
// wait status, read without reaping them).
void snapshot_children(const Runtime& rt);
// The ChildRecords of the last snapshot, encoded one after another.
std::string_view children_records();

}  // namespace ckpt
