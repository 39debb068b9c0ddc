/* sysv_ipc: a parent and two children that take turns with a System V
 * semaphore set and talk over a System V message queue, for the SysV IPC
 * e2e scenario.
 *
 *   sysv_ipc [ROUNDS=60] [PAUSE_MS=100]
 *
 * Before fork the parent makes a private semaphore set (IPC_PRIVATE) of four:
 * semaphores 0..2 are the processes' turn tokens (1 = that process's turn),
 * semaphore 3 counts the turns taken; and a message queue with the key
 * 0x5f<pid>. The queue always holds a backlog of kBacklog messages of type
 * kBacklogType (the oldest has the current turn's number, their texts have
 * lengths that vary with the number) and one message to the process whose
 * turn comes next (type proc + 1). On its turn (turn t, process t % 3) a
 * process waits for its token (semop -1, blocked there most of the time),
 * receives its message (type proc + 1: turn t, value_of(t)), receives the
 * oldest backlog message (number t, its text), checks the queue holds
 * exactly the rest of the backlog (msg_qnum), the counter semaphore equals
 * t and every token is 0 (GETALL); then adds to the counter, queues backlog
 * message t + kBacklog, sleeps PAUSE_MS, sends the next process its message
 * and gives it the token. After each round the parent prints
 * "step r: <checksum of all it received>". At the end the parent stops the
 * children (a message with turn UINT32_MAX), which exit with 10 + index,
 * drains and checks the backlog, prints the final line and removes the set
 * and the queue. On a mismatch "FAIL: reason", exit 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <unistd.h>

#include "test_common.h"

enum { kProcs = 3, kCounter = 3, kSems = 4, kBacklog = 4, kBacklogType = 10, kText = 200 };

struct Msg {
  long type;
  uint32_t turn;
  uint32_t proc;
  uint64_t value;
  char text[kText];
};

static int semid, msqid;
static uint64_t seen;  // checksum of what this process received

static uint64_t value_of(uint32_t turn) { return mix(0x5157, turn); }

/* The backlog message numbered n: a text of 1 + n % 150 bytes. */
static size_t backlog_text(uint32_t n, char* out) {
  size_t len = 1 + n % 150;
  for (size_t i = 0; i < len; i++) out[i] = (char)('a' + (n + i) % 26);
  return len;
}

static size_t msg_size(size_t text_len) {
  return offsetof(struct Msg, text) - sizeof(long) + text_len;
}

static void sem_add(int sem, int delta) {
  struct sembuf op = {(unsigned short)sem, (short)delta, 0};
  if (semop(semid, &op, 1) != 0) fail("semop %d on %d: %s", delta, sem, strerror(errno));
}

static void send_msg(long type, uint32_t turn, uint32_t proc, uint64_t value, const char* text,
                     size_t len) {
  struct Msg m = {type, turn, proc, value, {0}};
  memcpy(m.text, text, len);
  if (msgsnd(msqid, &m, msg_size(len), 0) != 0) fail("msgsnd type %ld: %s", type, strerror(errno));
}

static void send_backlog(uint32_t n) {
  char text[kText];
  size_t len = backlog_text(n, text);
  send_msg(kBacklogType, n, kProcs, value_of(n), text, len);
}

static ssize_t receive(long type, struct Msg* m) {
  ssize_t r = msgrcv(msqid, m, sizeof *m - sizeof(long), type, 0);
  if (r < 0) fail("msgrcv type %ld: %s", type, strerror(errno));
  return r;
}

/* Waits for process proc's turn t, receives and checks everything; returns
 * 0 when told to stop. */
static int begin_turn(uint32_t t, uint32_t proc) {
  sem_add((int)proc, -1);
  struct Msg m;
  ssize_t n = receive(proc + 1, &m);
  if (m.turn == UINT32_MAX) return 0;
  if (n != (ssize_t)msg_size(0) || m.turn != t || m.proc != (t + kProcs - 1) % kProcs ||
      m.value != value_of(t))
    fail("proc %u turn %u: its message says turn %u proc %u (%zd bytes)", proc, t, m.turn, m.proc,
         n);
  n = receive(kBacklogType, &m);
  char text[kText];
  size_t len = backlog_text(t, text);
  if (n != (ssize_t)msg_size(len) || m.turn != t || m.value != value_of(t) ||
      memcmp(m.text, text, len) != 0)
    fail("proc %u turn %u: backlog message %u (%zd bytes) is wrong", proc, t, m.turn, n);
  struct msqid_ds ds;
  if (msgctl(msqid, IPC_STAT, &ds) != 0) fail("msgctl IPC_STAT: %s", strerror(errno));
  if (ds.msg_qnum != kBacklog - 1)
    fail("proc %u turn %u: %lu messages queued, expected %d", proc, t, (unsigned long)ds.msg_qnum,
         kBacklog - 1);
  unsigned short values[kSems];
  if (semctl(semid, 0, GETALL, values) != 0) fail("semctl GETALL: %s", strerror(errno));
  for (int s = 0; s < kProcs; s++)
    if (values[s] != 0) fail("proc %u turn %u: token %d is %u", proc, t, s, values[s]);
  if (values[kCounter] != t % 30000)
    fail("proc %u turn %u: the counter is %u", proc, t, values[kCounter]);
  if (semctl(semid, kCounter, GETVAL) != (int)(t % 30000))
    fail("proc %u turn %u: GETVAL disagrees with GETALL", proc, t);
  seen = mix(mix(seen, t), m.value);
  return 1;
}

static void end_turn(uint32_t t, int pause_ms) {
  sem_add(kCounter, 1);
  send_backlog(t + kBacklog);
  msleep(pause_ms);
  uint32_t next = (t + 1) % kProcs;
  send_msg(next + 1, t + 1, t % kProcs, value_of(t + 1), "", 0);
  sem_add((int)next, 1);
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 60;
  int pause_ms = argc > 2 ? atoi(argv[2]) : 100;
  setvbuf(stdout, NULL, _IOLBF, 0);
  semid = semget(IPC_PRIVATE, kSems, IPC_CREAT | 0600);
  if (semid < 0) fail("semget: %s", strerror(errno));
  key_t key = (key_t)(0x5f000000 | (getpid() & 0xffffff));
  msqid = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
  if (msqid < 0) fail("msgget %#x: %s", (unsigned)key, strerror(errno));
  unsigned short init[kSems] = {0, 0, 0, 0};
  if (semctl(semid, 0, SETALL, init) != 0) fail("semctl SETALL: %s", strerror(errno));
  for (uint32_t n = 0; n < kBacklog; n++) send_backlog(n);
  send_msg(1, 0, kProcs - 1, value_of(0), "", 0); /* turn 0: the parent's */
  sem_add(0, 1);

  pid_t kids[kProcs] = {0};
  for (uint32_t p = 1; p < kProcs; p++) {
    kids[p] = fork();
    if (kids[p] < 0) fail("fork: %s", strerror(errno));
    if (kids[p] == 0) {
      for (uint32_t t = p;; t += kProcs) {
        if (!begin_turn(t, p)) _exit(10 + (int)p);
        end_turn(t, pause_ms);
      }
    }
  }
  uint32_t t = 0;
  for (int r = 0;; r++, t += kProcs) {
    if (!begin_turn(t, 0)) fail("the parent was told to stop");
    if (r > 0) printf("step %d: %016llx\n", r - 1, (unsigned long long)seen);
    if (r == rounds) break;
    end_turn(t, pause_ms);
  }
  /* Turn t is the parent's: stop the children. */
  for (uint32_t p = 1; p < kProcs; p++) {
    send_msg(p + 1, UINT32_MAX, 0, 0, "", 0);
    sem_add((int)p, 1);
  }
  for (uint32_t p = 1; p < kProcs; p++) expect_exit(kids[p], 10 + (int)p, "child");
  /* The rest of the backlog, in order, and nothing else. */
  for (uint32_t n = t + 1; n < t + kBacklog; n++) {
    struct Msg m;
    if (msgrcv(msqid, &m, sizeof m - sizeof(long), 0, IPC_NOWAIT) < 0)
      fail("backlog message %u: %s", n, strerror(errno));
    if (m.type != kBacklogType || m.turn != n) fail("backlog message %u is %u", n, m.turn);
    seen = mix(seen, m.value);
  }
  struct Msg m;
  if (msgrcv(msqid, &m, sizeof m - sizeof(long), 0, IPC_NOWAIT) >= 0 || errno != ENOMSG)
    fail("a message too many: type %ld turn %u", m.type, m.turn);
  printf("final: %u turns, checksum %016llx\n", t, (unsigned long long)seen);
  semctl(semid, 0, IPC_RMID);
  msgctl(msqid, IPC_RMID, NULL);
  return 0;
}
