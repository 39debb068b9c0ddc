/* fork_churn: a multi-threaded program that forks all the time, for the
 * fork stress e2e scenario (checkpoints at random moments, so that some
 * land while the main thread is inside fork() and the other threads are
 * being stopped).
 *
 *   fork_churn [ROUNDS=600] [PRINT_EVERY=10]
 *
 * 64 MiB of malloc'd memory (a fork copies its page tables for a while).
 * Each round six worker threads rewrite words of the first three quarters
 * while the main thread forks four children, each of which hashes a slice of
 * the last quarter, sleeps 5 ms (so that it is alive during checkpoints),
 * sends the hash through a pipe and exits; the main thread checks each
 * child's hash against its own and its exit status, then changes a word of
 * each slice. Every PRINT_EVERY rounds it prints "step R <hash>";
 * at the end "checksum <hash>" and "OK"; on any mismatch "FAIL: reason". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_common.h"

#define WORDS (64ull << 17) /* 64 MiB of uint64_t */
#define N_WORKERS 6
#define N_HASHERS 4
#define SHARED (WORDS / 4 * 3) /* the workers' part */
#define SLICE (1ull << 15)     /* words a child hashes: 256 KiB */

static uint64_t* mem;
static pthread_barrier_t start_bar, end_bar;
static int round_now;
static uint64_t worker_hash[N_WORKERS];

static uint64_t rewrite(int w, int round) {
  uint64_t part = SHARED / N_WORKERS, h = 0, r = mix((uint64_t)round, (uint64_t)w);
  for (int k = 0; k < 2000; k++) {
    r = mix(r, (uint64_t)k);
    uint64_t* word = &mem[(uint64_t)w * part + r % part];
    h = mix(h, *word);
    *word = mix(*word, r);
  }
  return h;
}

static void* worker_main(void* arg) {
  int w = (int)(intptr_t)arg;
  for (;;) {
    pthread_barrier_wait(&start_bar);
    worker_hash[w] = rewrite(w, round_now);
    pthread_barrier_wait(&end_bar);
  }
  return NULL;
}

static uint64_t hash_slice(uint64_t first) {
  uint64_t h = 0;
  for (uint64_t i = 0; i < SLICE; i++) h = h * 31 + mem[first + i];
  return h;
}

/* Forks the hasher of this round; returns its pid, its pipe in *fd. */
static pid_t fork_hasher(uint64_t first, int* fd) {
  int p[2];
  if (pipe(p) != 0) fail("pipe: %s", strerror(errno));
  pid_t pid = fork();
  if (pid < 0) fail("fork: %s", strerror(errno));
  if (pid == 0) {
    close(p[0]);
    uint64_t h = hash_slice(first);
    msleep(5);
    write_all(p[1], &h, sizeof(h), "hasher pipe");
    _exit(0);
  }
  close(p[1]);
  *fd = p[0];
  return pid;
}

/* Reaps hasher k of the round and checks what it saw. */
static void reap_hasher(int round, int k, pid_t pid, int fd, uint64_t expected) {
  uint64_t got;
  if (!read_all(fd, &got, sizeof(got), "hasher pipe"))
    fail("round %d: hasher %d sent nothing", round, k);
  close(fd);
  int st;
  if (waitpid(pid, &st, 0) != pid) fail("round %d: waitpid: %s", round, strerror(errno));
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail("round %d: hasher %d status 0x%x", round, k, st);
  if (got != expected)
    fail("round %d: hasher %d saw %016" PRIx64 ", expected %016" PRIx64, round, k, got, expected);
}

static uint64_t one_round(int round) {
  uint64_t first[N_HASHERS], expected[N_HASHERS];
  int fd[N_HASHERS];
  pid_t pid[N_HASHERS];
  for (int k = 0; k < N_HASHERS; k++) {
    first[k] = SHARED + mix((uint64_t)round, (uint64_t)k) % (WORDS - SHARED - SLICE);
    expected[k] = hash_slice(first[k]);
  }
  round_now = round;
  pthread_barrier_wait(&start_bar);
  for (int k = 0; k < N_HASHERS; k++) pid[k] = fork_hasher(first[k], &fd[k]);
  pthread_barrier_wait(&end_bar);
  uint64_t h = (uint64_t)round;
  for (int k = 0; k < N_HASHERS; k++) {
    reap_hasher(round, k, pid[k], fd[k], expected[k]);
    h = mix(h, expected[k]);
  }
  for (int k = 0; k < N_HASHERS; k++) mem[first[k] + (uint64_t)round % SLICE] += (uint64_t)round;
  for (int w = 0; w < N_WORKERS; w++) h = mix(h, worker_hash[w]);
  return h;
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 600;
  int every = argc > 2 ? atoi(argv[2]) : 10;
  mem = malloc(WORDS * sizeof(uint64_t));
  if (!mem) fail("malloc: %s", strerror(errno));
  for (uint64_t i = 0; i < WORDS; i++) mem[i] = mix(i, 11);
  pthread_barrier_init(&start_bar, NULL, N_WORKERS + 1);
  pthread_barrier_init(&end_bar, NULL, N_WORKERS + 1);
  for (int w = 0; w < N_WORKERS; w++) {
    pthread_t t;
    if (pthread_create(&t, NULL, worker_main, (void*)(intptr_t)w) != 0) fail("pthread_create");
  }
  uint64_t sum = 0;
  for (int round = 1; round <= rounds; round++) {
    sum = mix(sum, one_round(round));
    if (round % every == 0) {
      printf("step %d %016" PRIx64 "\n", round, sum);
      fflush(stdout);
    }
  }
  printf("checksum %016" PRIx64 "\nOK\n", sum);
  return 0;
}
