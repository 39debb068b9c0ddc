/* Test helper, never run under ckpt: takes the given pids (clone3 with
 * set_tid, as root) for SECONDS, so that a restart cannot give the restored
 * processes their old pids and must translate. Prints "held N" once all are
 * taken (those that were not free are skipped), then exits after SECONDS.
 *
 *   hold_pids SECONDS PID... */
#define _GNU_SOURCE
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int seconds = atoi(argv[1]);
  int held = 0;
  for (int i = 2; i < argc; i++) {
    pid_t want = atoi(argv[i]);
    struct clone_args args = {0};
    args.exit_signal = SIGCHLD;
    args.set_tid = (unsigned long)&want;
    args.set_tid_size = 1;
    long pid = syscall(SYS_clone3, &args, sizeof(args));
    if (pid == 0) {
      sleep((unsigned)seconds);
      _exit(0);
    }
    if (pid > 0) held++;
  }
  printf("held %d\n", held);
  fflush(stdout);
  while (wait(NULL) > 0) {
  }
  return 0;
}
