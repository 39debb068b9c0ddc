/* A process tree for the restart benchmark: the program forks COUNT-1
 * children (a flat tree); every process dirties KIB KiB and then touches a
 * page every 50 ms until killed. Prints "ready" once all are forked.
 *
 *   bench_tree COUNT KIB */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void work(size_t kib) {
  size_t len = kib * 1024;
  unsigned char* mem = malloc(len);
  if (!mem) _exit(1);
  for (size_t i = 0; i < len; i++) mem[i] = (unsigned char)(i * 131 + getpid());
  for (size_t i = 0;; i++) {
    mem[(i * 4096) % len]++;
    usleep(50000);
  }
}

int main(int argc, char** argv) {
  int count = argc > 1 ? atoi(argv[1]) : 64;
  size_t kib = argc > 2 ? (size_t)atol(argv[2]) : 256;
  for (int i = 1; i < count; i++) {
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) work(kib);
  }
  printf("ready\n");
  fflush(stdout);
  work(kib);
}
