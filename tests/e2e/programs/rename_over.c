/* rename_over: the "write a temporary file, rename it over the real one"
 * pattern, with the temporary file open most of the time, for the
 * test_rename_over.py scenario.
 *
 *   rename_over [STEPS=60] [PAUSE_MS=100]
 *
 * Per step s: opens state.tmp (O_WRONLY | O_CREAT | O_TRUNC), writes the
 * first half of the state, sleeps PAUSE_MS (a checkpoint mostly lands here,
 * with state.tmp open and half written), writes the second half, closes it
 * and renames it over state; then reads state back, checks it, appends its
 * checksum to history.txt and prints "step s: <checksum>". A restart that
 * cannot make state.tmp again, or brings it back with other bytes, fails
 * here or changes the output. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_common.h"

static void state_text(int s, char* out, size_t n, int half) {
  uint64_t h = mix(0x72656e616d65ull, (uint64_t)s);
  snprintf(out, n, "step %d half %d value %016" PRIx64 "\n", s, half, mix(h, (uint64_t)half));
}

int main(int argc, char** argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 60;
  int pause_ms = argc > 2 ? atoi(argv[2]) : 100;
  setvbuf(stdout, NULL, _IOLBF, 0);
  FILE* history = fopen("history.txt", "w");
  if (!history) fail("history.txt: %s", strerror(errno));
  uint64_t check = 0;
  for (int s = 0; s < steps; s++) {
    char first[128], second[128], want[256], got[256];
    state_text(s, first, sizeof first, 1);
    state_text(s, second, sizeof second, 2);
    int fd = open("state.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) fail("step %d: state.tmp: %s", s, strerror(errno));
    write_all(fd, first, strlen(first), "state.tmp");
    msleep(pause_ms);
    write_all(fd, second, strlen(second), "state.tmp");
    if (close(fd) != 0) fail("step %d: close: %s", s, strerror(errno));
    if (rename("state.tmp", "state") != 0) fail("step %d: rename: %s", s, strerror(errno));
    snprintf(want, sizeof want, "%s%s", first, second);
    int in = open("state", O_RDONLY);
    if (in < 0) fail("step %d: state: %s", s, strerror(errno));
    ssize_t n = read(in, got, sizeof got - 1);
    close(in);
    got[n > 0 ? n : 0] = 0;
    if (strcmp(got, want) != 0) fail("step %d: state holds \"%s\", expected \"%s\"", s, got, want);
    for (char* c = got; *c; c++) check = mix(check, (unsigned char)*c);
    fprintf(history, "step %d %016" PRIx64 "\n", s, check);
    fflush(history);
    printf("step %d: %016" PRIx64 "\n", s, check);
  }
  fclose(history);
  printf("checksum %016" PRIx64 "\nOK\n", check);
  return 0;
}
