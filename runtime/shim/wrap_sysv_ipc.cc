// System V IPC: shared memory segments keep the shmids of before a restart
// (the restart may have had to give them new ones: sysv_ipc.h), and the use
// of semaphores and message queues is noted so that a checkpoint can refuse
// them with a message instead of losing them.
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "../core/runtime.h"
#include "real_functions.h"

using ckpt::real;
using ckpt::runtime;

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
  if (id >= 0) runtime().sysv_uses.fetch_or(ckpt::kUsesSemaphores);
  return id;
}

CKPT_WRAPPER int msgget(key_t key, int flags) {
  int id = real().msgget(key, flags);
  if (id >= 0) runtime().sysv_uses.fetch_or(ckpt::kUsesMessageQueues);
  return id;
}
