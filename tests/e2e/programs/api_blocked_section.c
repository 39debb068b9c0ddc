/* api_blocked_section: a critical section (ckpt.h) held by a thread that is
 * itself blocked must not deadlock a checkpoint: it fails after
 * CKPT_DEFER_TIMEOUT, naming the process and the section, and the program
 * runs on; once the thread leaves, the next checkpoint commits.
 *
 *   api_blocked_section STEPS SLEEP_MS EVENTS_FILE
 *
 * First a second thread enters a section and blocks in read() on a pipe;
 * the main thread asks for a checkpoint ("blocked: ..."), then writes to the
 * pipe, joins the thread and asks again ("after release: ..."). Then four
 * threads ask three times each at once ("concurrent: ..."): requests taken
 * while one is in flight ride on the next. Then STEPS "step I sum=S" lines
 * for the harness's own checkpoint/restart cycles. */
#include <ckpt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int fds[2];
static volatile int inside;

static void* hold_section(void* arg) {
  (void)arg;
  char c;
  ckpt_critical_begin();
  inside = 1;
  if (read(fds[0], &c, 1) != 1) perror("read");
  ckpt_critical_end();
  return NULL;
}

static int resumed_count;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

static void* ask_three_times(void* arg) {
  (void)arg;
  for (int i = 0; i < 3; i++) {
    int r = ckpt_checkpoint();
    pthread_mutex_lock(&count_lock);
    resumed_count += r == CKPT_RESUMED;
    pthread_mutex_unlock(&count_lock);
  }
  return NULL;
}

static const char* outcome(int r) {
  return r == CKPT_RESUMED       ? "resumed"
         : r == CKPT_RESTARTED   ? "restarted"
         : r == CKPT_ENOTRUNNING ? "not-running"
                                 : "failed";
}

int main(int argc, char** argv) {
  if (argc < 4) return fprintf(stderr, "usage: %s STEPS SLEEP_MS EVENTS_FILE\n", argv[0]), 2;
  int steps = atoi(argv[1]);
  long pause_ms = atol(argv[2]);
  FILE* events = fopen(argv[3], "a");
  if (!events || pipe(fds) != 0) return perror("setup"), 1;
  pthread_t t;
  pthread_create(&t, NULL, hold_section, NULL);
  while (!inside) usleep(1000);
  int r = ckpt_checkpoint();
  const char* err = ckpt_error();
  fprintf(events, "blocked: %s names-section=%d names-process=%d\n", outcome(r),
          strstr(err, "section where checkpoints wait") != NULL,
          strstr(err, "api_blocked_sec") != NULL);
  fflush(events);
  if (write(fds[1], "x", 1) != 1) perror("write");
  pthread_join(t, NULL);
  r = ckpt_checkpoint();
  fprintf(events, "after release: %s restarts=%d\n", outcome(r), ckpt_restart_count());
  pthread_t askers[4];
  for (int i = 0; i < 4; i++) pthread_create(&askers[i], NULL, ask_three_times, NULL);
  for (int i = 0; i < 4; i++) pthread_join(askers[i], NULL);
  fprintf(events, "concurrent: %d of 12 resumed\n", resumed_count);
  fclose(events);
  unsigned long long sum = 0;
  for (int i = 1; i <= steps; i++) {
    sum = (sum * 131 + (unsigned long long)i) % 998244353ULL;
    printf("step %d sum=%llu\n", i, sum);
    fflush(stdout);
    struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  printf("result %llu\n", sum);
  return 0;
}
