/* shared_memory: a parent and two children sharing every kind of shared
 * memory ckpt restores, for the shared-memory e2e scenario.
 *
 *   shared_memory [ROUNDS=60] [PAUSE_MS=100]
 *
 * Before fork the parent makes six shared objects, each holding a counter
 * and a log of records:
 *   anon    mmap(MAP_SHARED|MAP_ANONYMOUS), which also holds the locks: a
 *           PTHREAD_PROCESS_SHARED mutex and a robust one;
 *   memfd   memfd_create, mapped, the fd kept open;
 *   named   shm_open("/ckpt_e2e_shm_<pid>"), mapped, the fd closed (removed
 *           at the end);
 *   gone    shm_open then shm_unlink while mapped, the fd kept open;
 *   sysv    shmget(IPC_PRIVATE), shmat, IPC_RMID at once;
 *   keyed   shmget(key 0x5e<pid>), shmat (IPC_RMID at the end).
 * The three processes take turns in a ring (parent, child 1, child 2),
 * passing a token over pipes. On its turn a process locks the mutex, then the
 * robust one (it must never report EOWNERDEAD), checks that every counter
 * equals the number of turns taken so far and every log holds exactly those
 * records, increments every counter and appends its record to every log,
 * reads the memfd's and gone's counters back through their fds (the same
 * objects as the mappings), unlocks, sleeps PAUSE_MS and passes the token. After each full round
 * the parent prints "step r: <checksum of all logs>". Each object is at the address the parent
 * mapped it at (the children check their pointers against the one the parent wrote into the anon
 * object). At the end the children exit with status 10 + index, the parent reaps them, checks the
 * named file's content through read(), prints the final checksum and removes the named file and the
 * keyed segment. On a mismatch "FAIL: reason", exit 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_common.h"

enum { kObjects = 6, kMaxRecords = 1024, kProcs = 3 };
static const char* const kNames[kObjects] = {"anon", "memfd", "named", "gone", "sysv", "keyed"};

struct Record {
  uint32_t turn;
  uint32_t proc;
  uint64_t value;
};

struct Area {
  uint64_t counter;
  uint64_t addr_seen;  // where the parent mapped it
  struct Record log[kMaxRecords];
};

struct Locks {
  pthread_mutex_t mutex;
  pthread_mutex_t robust;
};

static size_t area_size(void) { return (sizeof(struct Area) + 4095) & ~(size_t)4095; }

static struct Area* areas[kObjects];
static struct Locks* locks;  // in the anon object, after its Area
static char shm_name[64];
static int keyed_id;

static int memfd_fd, gone_fd;  // kept open on their objects

static void* map_fd(int fd, size_t len, const char* what, int keep) {
  if (ftruncate(fd, (off_t)len) != 0) fail("ftruncate %s: %s", what, strerror(errno));
  void* p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) fail("mmap %s: %s", what, strerror(errno));
  if (!keep) close(fd);
  return p;
}

static void check_through_fd(int fd, int object) {
  uint64_t c = 0;
  if (pread(fd, &c, sizeof c, 0) != (ssize_t)sizeof c)
    fail("pread %s: %s", kNames[object], strerror(errno));
  if (c != areas[object]->counter)
    fail("%s: its fd reads counter %llu, its mapping %llu", kNames[object], (unsigned long long)c,
         (unsigned long long)areas[object]->counter);
}

static void* sysv_segment(key_t key, int remove_now, int* id_out) {
  int id = shmget(key, area_size(), IPC_CREAT | IPC_EXCL | 0600);
  if (id < 0 && errno == EEXIST) {  // left over by an earlier run: start afresh
    int old = shmget(key, 0, 0600);
    if (old >= 0) shmctl(old, IPC_RMID, NULL);
    id = shmget(key, area_size(), IPC_CREAT | IPC_EXCL | 0600);
  }
  if (id < 0) fail("shmget: %s", strerror(errno));
  void* p = shmat(id, NULL, 0);
  if (p == (void*)-1) fail("shmat: %s", strerror(errno));
  if (remove_now && shmctl(id, IPC_RMID, NULL) != 0) fail("IPC_RMID: %s", strerror(errno));
  if (id_out) *id_out = id;
  return p;
}

static void make_objects(void) {
  size_t len = area_size();
  void* anon = mmap(NULL, len + 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (anon == MAP_FAILED) fail("mmap anon: %s", strerror(errno));
  areas[0] = anon;
  locks = (struct Locks*)((char*)anon + len);
  int mfd = memfd_create("ckpt_e2e", MFD_CLOEXEC);
  if (mfd < 0) fail("memfd_create: %s", strerror(errno));
  areas[1] = map_fd(mfd, len, "memfd", 1);
  memfd_fd = mfd;
  snprintf(shm_name, sizeof shm_name, "/ckpt_e2e_shm_%d", (int)getpid());
  int nfd = shm_open(shm_name, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (nfd < 0) fail("shm_open %s: %s", shm_name, strerror(errno));
  areas[2] = map_fd(nfd, len, "named", 0);
  char gone[64];
  snprintf(gone, sizeof gone, "/ckpt_e2e_gone_%d", (int)getpid());
  int gfd = shm_open(gone, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (gfd < 0) fail("shm_open %s: %s", gone, strerror(errno));
  areas[3] = map_fd(gfd, len, "gone", 1);
  gone_fd = gfd;
  if (shm_unlink(gone) != 0) fail("shm_unlink: %s", strerror(errno));
  areas[4] = sysv_segment(IPC_PRIVATE, 1, NULL);
  areas[5] = sysv_segment((key_t)(0x5e000000 | (getpid() & 0xffffff)), 0, &keyed_id);
  for (int o = 0; o < kObjects; o++) areas[o]->addr_seen = (uint64_t)(uintptr_t)areas[o];

  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  if (pthread_mutex_init(&locks->mutex, &a) != 0) fail("pthread_mutex_init");
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  if (pthread_mutex_init(&locks->robust, &a) != 0) fail("pthread_mutex_init robust");
  pthread_mutexattr_destroy(&a);
}

static uint64_t value_of(uint32_t turn, uint32_t proc, int object) {
  return mix(mix(turn, proc), (uint64_t)object);
}

/* Turn t (0-based) of process p: everything before it must be there. */
static void take_turn(uint32_t turn, uint32_t proc) {
  if (pthread_mutex_lock(&locks->mutex) != 0) fail("lock");
  int r = pthread_mutex_lock(&locks->robust);
  if (r != 0) fail("robust lock: %s", strerror(r));
  for (int o = 0; o < kObjects; o++) {
    struct Area* a = areas[o];
    if (a->addr_seen != (uint64_t)(uintptr_t)a)
      fail("proc %u: %s is at %p, the parent mapped it at %#llx", proc, kNames[o], (void*)a,
           (unsigned long long)a->addr_seen);
    if (a->counter != turn)
      fail("proc %u turn %u: %s counter is %llu", proc, turn, kNames[o],
           (unsigned long long)a->counter);
    for (uint32_t k = 0; k < turn; k++) {
      const struct Record* rec = &a->log[k];
      if (rec->turn != k || rec->proc != k % kProcs || rec->value != value_of(k, k % kProcs, o))
        fail("proc %u turn %u: %s record %u is wrong (turn %u proc %u)", proc, turn, kNames[o], k,
             rec->turn, rec->proc);
    }
    a->log[turn] = (struct Record){turn, proc, value_of(turn, proc, o)};
    a->counter = turn + 1;
  }
  check_through_fd(memfd_fd, 1);
  check_through_fd(gone_fd, 3);
  pthread_mutex_unlock(&locks->robust);
  pthread_mutex_unlock(&locks->mutex);
}

static uint64_t checksum(uint32_t turns) {
  uint64_t h = 0;
  for (int o = 0; o < kObjects; o++) {
    h = mix(h, areas[o]->counter);
    for (uint32_t k = 0; k < turns; k++) h = mix(h, areas[o]->log[k].value);
  }
  return h;
}

static void pass(int fd, uint32_t turn) { write_all(fd, &turn, sizeof turn, "token"); }

static uint32_t wait_token(int fd) {
  uint32_t turn;
  if (read_all(fd, &turn, sizeof turn, "token") != 1) fail("token pipe closed");
  return turn;
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 60;
  int pause_ms = argc > 2 ? atoi(argv[2]) : 100;
  if (rounds * kProcs > kMaxRecords) fail("too many rounds");
  setvbuf(stdout, NULL, _IOLBF, 0);
  make_objects();
  /* ring[i]: the pipe process i reads its token from. */
  int ring[kProcs][2];
  for (int i = 0; i < kProcs; i++)
    if (pipe(ring[i]) != 0) fail("pipe: %s", strerror(errno));
  pid_t kids[kProcs] = {0};
  for (uint32_t p = 1; p < kProcs; p++) {
    kids[p] = fork();
    if (kids[p] < 0) fail("fork: %s", strerror(errno));
    if (kids[p] == 0) {
      for (;;) {
        uint32_t turn = wait_token(ring[p][0]);
        if (turn == UINT32_MAX) {
          pass(ring[(p + 1) % kProcs][1], turn);
          _exit(10 + (int)p);
        }
        take_turn(turn, p);
        msleep(pause_ms);
        pass(ring[(p + 1) % kProcs][1], turn + 1);
      }
    }
  }
  uint32_t turn = 0;
  for (int r = 0; r < rounds; r++) {
    take_turn(turn, 0);
    msleep(pause_ms);
    pass(ring[1][1], turn + 1);
    turn = wait_token(ring[0][0]);
    if (turn != (uint32_t)(r + 1) * kProcs) fail("round %d came back as turn %u", r, turn);
    printf("step %d: %016llx\n", r, (unsigned long long)checksum(turn));
  }
  pass(ring[1][1], UINT32_MAX);
  if (wait_token(ring[0][0]) != UINT32_MAX) fail("the ring did not close");
  for (uint32_t p = 1; p < kProcs; p++) expect_exit(kids[p], 10 + (int)p, "child");

  /* The named object's file says the same as its mapping. */
  int fd = shm_open(shm_name, O_RDONLY, 0);
  if (fd < 0) fail("shm_open %s again: %s", shm_name, strerror(errno));
  uint64_t counter = 0;
  if (pread(fd, &counter, sizeof counter, 0) != (ssize_t)sizeof counter || counter != turn)
    fail("%s holds counter %llu, expected %u", shm_name, (unsigned long long)counter, turn);
  close(fd);
  struct shmid_ds ds;
  if (shmctl(keyed_id, IPC_STAT, &ds) != 0) fail("IPC_STAT keyed: %s", strerror(errno));
  if (ds.shm_segsz != area_size()) fail("keyed segment has %zu bytes", (size_t)ds.shm_segsz);
  printf("final: %u turns, checksum %016llx\n", turn, (unsigned long long)checksum(turn));
  shm_unlink(shm_name);
  shmdt(areas[5]);
  shmctl(keyed_id, IPC_RMID, NULL);
  return 0;
}
