/* A program that starts a statically linked child (outside the computation)
 * and computes on. The child lives until its stdin pipe closes. After a
 * restart the child is gone (it was never checkpointed): closing the pipe and
 * reaping it may then find no child, which the program accepts.
 *
 *   spawn_static STATIC_CHILD STEPS STEP_MS */
#include <spawn.h>
#include <stdlib.h>

#include "test_common.h"

extern char** environ;

int main(int argc, char** argv) {
  if (argc < 4) fail("usage: spawn_static STATIC_CHILD STEPS STEP_MS");
  int steps = atoi(argv[2]), step_ms = atoi(argv[3]);
  int p[2];
  if (pipe(p)) fail("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[0], 0);
  posix_spawn_file_actions_addclose(&fa, p[1]);
  pid_t child;
  char* child_argv[] = {argv[1], NULL};
  if (posix_spawn(&child, argv[1], &fa, NULL, child_argv, environ) != 0) fail("posix_spawn");
  close(p[0]);
  uint64_t h = 7;
  for (int step = 0; step < steps; step++) {
    for (int i = 0; i < 100000; i++) h = mix(h, (uint64_t)i ^ (uint64_t)step);
    printf("step %d %016llx\n", step, (unsigned long long)h);
    fflush(stdout);
    msleep(step_ms);
  }
  close(p[1]);
  int status;
  pid_t got = waitpid(child, &status, 0);
  if (got == child && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
    fail("static child ended with status %d", status);
  if (got != child && errno != ECHILD) fail("waitpid: %s", strerror(errno));
  printf("OK %016llx\n", (unsigned long long)h);
  return 0;
}
