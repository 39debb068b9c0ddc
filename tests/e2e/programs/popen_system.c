/* popen_system: a loop of system() and popen() shell pipelines next to one
 * long-lived coprocess, for the process-trees e2e scenario.
 *
 *   popen_system HELPER [STEPS=50] [PAUSE_MS=120]
 *
 * At start it forks and execs HELPER (sum_helper) with its stdin and stdout
 * on two pipes; the coprocess lives for the whole run. It opens system.txt
 * (O_APPEND) as fd 9, inherited by the shells, and results.txt. Per step s:
 *   - system("n=s; echo \"sys $n $((n*n+7))\" | tr 0-9 a-j >&9; exit $((n % 7))"):
 *     the status must be s % 7;
 *   - popen("printf '%s\n' <4 words from s> | LC_ALL=C sort | tr a-z A-Z"):
 *     the output must equal the sorted, upper-cased words (computed here),
 *     and goes to results.txt; pclose must give 0;
 *   - "add <v>" to the coprocess: its answer must be the running sum and
 *     count kept here (the coprocess also checks its getppid());
 *   - sleeps PAUSE_MS, prints "step s: <checksum>".
 * At the end the coprocess gets end of file, must answer "bye S C" and exit
 * with status 5 (reaped by its fork() pid), and system.txt must hold exactly
 * the expected lines. Any mismatch: "FAIL: reason", exit 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_common.h"

#define NWORDS 4
#define WORDLEN 5
#define SYS_FD 9

static void make_words(int s, char words[NWORDS][WORDLEN + 1]) {
  uint64_t h = mix(0x706f70656eull, (uint64_t)s);
  for (int i = 0; i < NWORDS; i++) {
    for (int k = 0; k < WORDLEN; k++) {
      h = mix(h, (uint64_t)(i * 16 + k));
      words[i][k] = (char)('a' + h % 26);
    }
    words[i][WORDLEN] = 0;
  }
}

static int cmp_words(const void* a, const void* b) {
  return strcmp((const char*)a, (const char*)b);
}

/* The expected line system() appends for step s: "sys s s*s+7" with the
 * digits spelled a..j. */
static void system_line(int s, char* out, size_t n) {
  int len = snprintf(out, n, "sys %d %d\n", s, s * s + 7);
  if (len < 0 || (size_t)len >= n) fail("system_line: buffer too small");
  for (char* c = out; *c; c++)
    if (*c >= '0' && *c <= '9') *c = (char)(*c - '0' + 'a');
}

static void run_system(int s) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "n=%d; echo \"sys $n $((n*n+7))\" | tr 0-9 a-j >&%d; exit $((n %% 7))",
           s, SYS_FD);
  errno = 0;
  int st = system(cmd);
  if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != s % 7)
    fail("step %d: system() gave status 0x%x (%s), expected exit %d", s, st,
         st == -1 ? strerror(errno) : "exited", s % 7);
}

static uint64_t run_popen(int s, FILE* results) {
  char words[NWORDS][WORDLEN + 1];
  make_words(s, words);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "printf '%%s\\n' %s %s %s %s | LC_ALL=C sort | tr a-z A-Z", words[0],
           words[1], words[2], words[3]);
  FILE* p = popen(cmd, "r");
  if (!p) fail("step %d: popen: %s", s, strerror(errno));
  char got[256];
  size_t n = fread(got, 1, sizeof got - 1, p);
  got[n] = 0;
  int st = pclose(p);
  if (st != 0) fail("step %d: pclose gave status 0x%x", s, st);
  qsort(words, NWORDS, sizeof words[0], cmp_words);
  char want[256] = "";
  for (int i = 0; i < NWORDS; i++) {
    for (char* c = words[i]; *c; c++) *c = (char)(*c - 'a' + 'A');
    strcat(want, words[i]);
    strcat(want, "\n");
  }
  if (strcmp(got, want) != 0)
    fail("step %d: popen pipeline gave \"%s\", expected \"%s\"", s, got, want);
  fprintf(results, "step %d\n%s", s, got);
  fflush(results);
  uint64_t h = 0;
  for (size_t i = 0; i < n; i++) h = mix(h, (unsigned char)got[i]);
  return h;
}

int main(int argc, char** argv) {
  if (argc < 2) fail("usage: popen_system HELPER [STEPS] [PAUSE_MS]");
  int steps = argc > 2 ? atoi(argv[2]) : 50;
  int pause_ms = argc > 3 ? atoi(argv[3]) : 120;
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);

  int sys_fd = open("system.txt", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (sys_fd < 0 || dup2(sys_fd, SYS_FD) != SYS_FD) fail("system.txt: %s", strerror(errno));
  close(sys_fd);
  FILE* results = fopen("results.txt", "w");
  if (!results) fail("results.txt: %s", strerror(errno));

  int to[2], from[2];
  if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0) fail("pipe: %s", strerror(errno));
  fflush(stdout);
  pid_t helper = fork();
  if (helper < 0) fail("fork: %s", strerror(errno));
  if (helper == 0) {
    if (dup2(to[0], 0) != 0 || dup2(from[1], 1) != 1) _exit(120);
    execl(argv[1], argv[1], (char*)NULL);
    _exit(121);
  }
  close(to[0]);
  close(from[1]);
  FILE* hin = fdopen(to[1], "w");
  FILE* hout = fdopen(from[0], "r");
  if (!hin || !hout) fail("fdopen: %s", strerror(errno));

  uint64_t sum = 0, check = 0;
  char line[256];
  for (int s = 0; s < steps; s++) {
    run_system(s);
    check = mix(check, run_popen(s, results));
    uint64_t v = mix(0x68656c70ull, (uint64_t)s) % 1000000;
    sum += v;
    fprintf(hin, "add %" PRIu64 "\n", v);
    fflush(hin);
    if (!fgets(line, sizeof line, hout)) fail("step %d: the coprocess closed its output", s);
    char want[128];
    snprintf(want, sizeof want, "sum %" PRIu64 " count %d\n", sum, s + 1);
    if (strcmp(line, want) != 0)
      fail("step %d: coprocess answered \"%s\", expected \"%s\"", s, line, want);
    check = mix(check, sum);
    msleep(pause_ms);
    printf("step %d: %016" PRIx64 "\n", s, check);
  }

  fclose(hin);
  if (!fgets(line, sizeof line, hout)) fail("the coprocess said nothing at end of file");
  char want[128];
  snprintf(want, sizeof want, "bye %" PRIu64 " %d\n", sum, steps);
  if (strcmp(line, want) != 0)
    fail("coprocess said \"%s\" at the end, expected \"%s\"", line, want);
  expect_exit(helper, 5, "reaping the coprocess");
  fclose(hout);
  fclose(results);

  /* The lines the shells appended through fd 9, checked byte for byte. */
  FILE* f = fopen("system.txt", "r");
  if (!f) fail("reopening system.txt: %s", strerror(errno));
  for (int s = 0; s < steps; s++) {
    char exp[64];
    system_line(s, exp, sizeof exp);
    if (!fgets(line, sizeof line, f) || strcmp(line, exp) != 0)
      fail("system.txt line %d is \"%s\", expected \"%s\"", s + 1, line, exp);
  }
  if (fgets(line, sizeof line, f)) fail("system.txt has more than %d lines: \"%s\"", steps, line);
  fclose(f);
  printf("checksum %016" PRIx64 "\nOK\n", check);
  return 0;
}
