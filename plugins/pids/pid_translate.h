// How each kind of pid argument and result crosses between the
// application's virtual pids and the kernel's real ones. Pure functions of
// a PidTable (no libc state, async-signal-safe), shared by the shim's
// wrappers and the unit tests.
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <cstddef>
#include <cstdint>

#include "pid_table.h"

namespace ckpt {

// The first argument of kill(2) and waitpid(2): a pid (> 0), a process
// group as -pgid (< -1; a group is named by its leader's pid), or 0 / -1,
// which name no pid and pass unchanged.
int32_t pid_arg_to_real(int32_t pid, const PidTable& pids);

// A returned pid (wait*, getpgid, ...): > 0 is translated, 0 and -1 pass.
inline int32_t pid_result_to_virtual(int32_t pid, const PidTable& pids) {
  return pid > 0 ? pids.to_virtual(pid) : pid;
}

// waitid(2)'s id for its idtype: P_PID and P_PGID name pids (P_PGID 0 is
// the caller's group); P_ALL and P_PIDFD do not.
id_t waitid_id_to_real(idtype_t type, id_t id, const PidTable& pids);

// The sender or child pid in a siginfo, when it carries one: SIGCHLD with a
// CLD_* code, or a signal sent by a process (SI_USER, SI_QUEUE, SI_TKILL,
// SI_MESGQ). Other codes put other fields (si_addr, si_timerid) there.
void siginfo_to_virtual(siginfo_t* info, const PidTable& pids);

// "/proc/<vpid>" or "/proc/<vpid>/..." whose vpid runs under another real
// pid: the same path with the real pid, written into buf (size n), which is
// returned. Any other path (/proc/self/..., not /proc, a pid that maps to
// itself, no room in buf) is returned unchanged.
const char* translate_proc_path(const char* in, char* buf, size_t n, const PidTable& pids);

}  // namespace ckpt
