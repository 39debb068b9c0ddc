/* sum_helper: a long-lived coprocess for the popen_system e2e program. Reads
 * "add N" lines on stdin, keeps a running sum and count, and answers each
 * with "sum S count C"; a line it does not understand, or a parent that is no
 * longer the one it started with, gets "FAIL: reason" and exit 1. At end of
 * stdin it prints "bye S C" and exits with status 5. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pid_t parent = getppid();
  uint64_t sum = 0, n;
  int count = 0;
  char line[128];
  while (fgets(line, sizeof line, stdin)) {
    if (sscanf(line, "add %" SCNu64, &n) != 1) {
      printf("FAIL: sum_helper: bad line %s", line);
      return 1;
    }
    if (getppid() != parent) {
      printf("FAIL: sum_helper: getppid() is %d, expected %d\n", (int)getppid(), (int)parent);
      return 1;
    }
    sum += n;
    count++;
    printf("sum %" PRIu64 " count %d\n", sum, count);
  }
  printf("bye %" PRIu64 " %d\n", sum, count);
  return 5;
}
