// System V IPC: the application keeps the ids of before a restart (the
// restart may have had to give its segments, semaphore sets and message
// queues new ones: sysv_ipc.h), the semaphore sets and message queues it
// uses are noted for the checkpoint (sysv_capture.h), and the calls that
// block (semop, msgsnd, msgrcv), which the kernel ends with EINTR whatever
// SA_RESTART says, are made again when a checkpoint interrupted them.
#include <errno.h>
#include <stdarg.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "runtime/core/runtime.h"
#include "runtime/core/thread_local_state.h"
#include "runtime/shim/real_functions.h"

using ckpt::real;
using ckpt::runtime;
using ckpt::t_state;

namespace {

// True when the last EINTR came from a checkpoint rather than a real signal.
bool checkpoint_interrupted(uint32_t before) {
  return errno == EINTR && t_state.ckpt_interrupts != before && runtime().ready;
}

// Notes an id the application used, unless the call said it names no set
// or queue this process may read.
template <typename Result>
Result noted(ckpt::SysvIdSet& used, int id, Result r) {
  if (id >= 0 && (r >= 0 || (errno != EINVAL && errno != EIDRM && errno != EACCES))) used.add(id);
  return r;
}

int32_t real_sem(int semid) { return runtime().semids.to_real(semid); }
int32_t real_msg(int msqid) { return runtime().msgids.to_real(msqid); }

}  // namespace

CKPT_WRAPPER int shmget(key_t key, size_t size, int flags) {
  int id = real().shmget(key, size, flags);
  return id < 0 ? id : runtime().shmids.to_virtual(id);
}

CKPT_WRAPPER void* shmat(int shmid, const void* addr, int flags) {
  return real().shmat(runtime().shmids.to_real(shmid), addr, flags);
}

CKPT_WRAPPER int shmctl(int shmid, int cmd, struct shmid_ds* buf) {
  // These take an index into the kernel's table, not an id.
  bool by_index = cmd == IPC_INFO || cmd == SHM_INFO || cmd == SHM_STAT || cmd == SHM_STAT_ANY;
  int r = real().shmctl(by_index ? shmid : runtime().shmids.to_real(shmid), cmd, buf);
  if (r > 0 && (cmd == SHM_STAT || cmd == SHM_STAT_ANY)) return runtime().shmids.to_virtual(r);
  return r;
}

CKPT_WRAPPER int semget(key_t key, int nsems, int flags) {
  int id = real().semget(key, nsems, flags);
  if (id < 0) return id;
  int32_t virt = runtime().semids.to_virtual(id);
  runtime().used_sems.add(virt);
  return virt;
}

CKPT_WRAPPER int semtimedop(int semid, sembuf* ops, size_t n, const timespec* timeout) {
  constexpr int64_t kNs = 1000000000;
  int64_t deadline = timeout ? ckpt::monotonic_ns() + timeout->tv_sec * kNs + timeout->tv_nsec : 0;
  for (;;) {
    uint32_t before = t_state.ckpt_interrupts;
    timespec left = {0, 0};
    if (timeout) {
      int64_t l = deadline - ckpt::monotonic_ns();
      if (l > 0) left = {static_cast<time_t>(l / kNs), static_cast<long>(l % kNs)};
    }
    int r = noted(runtime().used_sems, semid,
                  real().semtimedop(real_sem(semid), ops, n, timeout ? &left : nullptr));
    if (r == 0 || !checkpoint_interrupted(before)) return r;
  }
}

CKPT_WRAPPER int semop(int semid, sembuf* ops, size_t n) {
  return semtimedop(semid, ops, n, nullptr);
}

CKPT_WRAPPER int semctl(int semid, int semnum, int cmd, ...) {
  // The fourth argument (union semun: an int or a pointer) exists for these.
  unsigned long arg = 0;
  switch (cmd) {
    case IPC_STAT:
    case IPC_SET:
    case IPC_INFO:
    case SEM_INFO:
    case SEM_STAT:
    case SEM_STAT_ANY:
    case GETALL:
    case SETALL:
    case SETVAL: {
      va_list ap;
      va_start(ap, cmd);
      arg = va_arg(ap, unsigned long);
      va_end(ap);
      break;
    }
    default:
      break;
  }
  // These take an index into the kernel's table, not an id.
  bool by_index = cmd == IPC_INFO || cmd == SEM_INFO || cmd == SEM_STAT || cmd == SEM_STAT_ANY;
  int r = real().semctl(by_index ? semid : real_sem(semid), semnum, cmd, arg);
  if (!by_index && cmd != IPC_RMID) noted(runtime().used_sems, semid, r);
  if (r > 0 && (cmd == SEM_STAT || cmd == SEM_STAT_ANY)) return runtime().semids.to_virtual(r);
  return r;
}

CKPT_WRAPPER int msgget(key_t key, int flags) {
  int id = real().msgget(key, flags);
  if (id < 0) return id;
  int32_t virt = runtime().msgids.to_virtual(id);
  runtime().used_msgs.add(virt);
  return virt;
}

CKPT_WRAPPER int msgsnd(int msqid, const void* msg, size_t size, int flags) {
  for (;;) {
    uint32_t before = t_state.ckpt_interrupts;
    int r = noted(runtime().used_msgs, msqid, real().msgsnd(real_msg(msqid), msg, size, flags));
    if (r == 0 || !checkpoint_interrupted(before)) return r;
  }
}

CKPT_WRAPPER ssize_t msgrcv(int msqid, void* msg, size_t size, long type, int flags) {
  for (;;) {
    uint32_t before = t_state.ckpt_interrupts;
    ssize_t r =
        noted(runtime().used_msgs, msqid, real().msgrcv(real_msg(msqid), msg, size, type, flags));
    if (r >= 0 || !checkpoint_interrupted(before)) return r;
  }
}

CKPT_WRAPPER int msgctl(int msqid, int cmd, struct msqid_ds* buf) {
  // These take an index into the kernel's table, not an id.
  bool by_index = cmd == IPC_INFO || cmd == MSG_INFO || cmd == MSG_STAT || cmd == MSG_STAT_ANY;
  int r = real().msgctl(by_index ? msqid : real_msg(msqid), cmd, buf);
  if (!by_index && cmd != IPC_RMID) noted(runtime().used_msgs, msqid, r);
  if (r > 0 && (cmd == MSG_STAT || cmd == MSG_STAT_ANY)) return runtime().msgids.to_virtual(r);
  return r;
}
