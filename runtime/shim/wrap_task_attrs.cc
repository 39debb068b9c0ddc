// Calls that name a task whose attributes they read or set (CPU affinity,
// priority, resource limits): the id may be one of the process's own
// threads (a virtual tid) or another process (a virtual pid); 0 is the
// caller.

// Both prlimit and prlimit64 are defined here: without this the project's
// _FILE_OFFSET_BITS=64 would give `prlimit` the symbol name prlimit64.
#undef _FILE_OFFSET_BITS
#include <sched.h>
#include <sys/resource.h>

#include "plugins/pids/virtual_pids.h"
#include "real_functions.h"
#include "runtime/core/runtime.h"
#include "runtime/core/thread_local_state.h"

using ckpt::real;

namespace {

pid_t real_task(pid_t id) {
  ckpt::Runtime& rt = ckpt::runtime();
  // Before any restart every virtual tid is the real one.
  if (id <= 0 || !rt.ready || (rt.restart_count == 0 && rt.pids.empty())) return id;
  pid_t tid = ckpt::real_tid_of(rt, id);
  return tid != id ? tid : rt.pids.to_real(id);
}

id_t real_who(__priority_which_t which, id_t who) {
  if (which == PRIO_PROCESS) return static_cast<id_t>(real_task(static_cast<pid_t>(who)));
  if (which == PRIO_PGRP) return static_cast<id_t>(ckpt::real_pid_arg(static_cast<pid_t>(who)));
  return who;  // PRIO_USER: a uid
}

}  // namespace

CKPT_WRAPPER int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t* set) {
  return real().sched_setaffinity(real_task(pid), size, set);
}

CKPT_WRAPPER int sched_getaffinity(pid_t pid, size_t size, cpu_set_t* set) {
  return real().sched_getaffinity(real_task(pid), size, set);
}

CKPT_WRAPPER int setpriority(__priority_which_t which, id_t who, int prio) {
  return real().setpriority(which, real_who(which, who), prio);
}

CKPT_WRAPPER int getpriority(__priority_which_t which, id_t who) {
  return real().getpriority(which, real_who(which, who));
}

CKPT_WRAPPER int prlimit(pid_t pid, __rlimit_resource resource, const rlimit* limit, rlimit* old) {
  return real().prlimit(real_task(pid), resource, limit, old);
}

CKPT_WRAPPER int prlimit64(pid_t pid, __rlimit_resource resource, const rlimit64* limit,
                           rlimit64* old) {
  return real().prlimit64(real_task(pid), resource, limit, old);
}
