/* api_counter: a program that uses ckpt's application API (ckpt.h, see
 * docs/api.md), and runs unchanged without ckpt.
 *
 *   api_counter [STEPS=40] [SLEEP_MS=50] [EVENTS_FILE=api_events.txt]
 *
 * Prints "step I sum=S" per step (the same with or without ckpt) and
 * "result S" at the end. What the API answered goes to EVENTS_FILE:
 * - at the start, whether it runs under ckpt and its restart count;
 * - at steps STEPS/4 and STEPS/2 it asks for a checkpoint itself and writes
 *   whether it resumed or was restarted, its restart count, and the hooks
 *   that ran for that checkpoint (two of each kind, "A" and "B");
 * - at step 3*STEPS/4 a second thread asks for a checkpoint while the main
 *   thread is inside a critical section, which it leaves ("critical:left")
 *   only after the checkpoint has begun: the checkpoint waits for it.
 * Build: cc api_counter.c $(pkg-config --cflags --libs ckpt) */
#include <ckpt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char trace[512]; /* the hooks run for the current checkpoint */
static volatile int pre_b_seen;

static void note(const char* what) {
  size_t n = strlen(trace);
  snprintf(trace + n, sizeof(trace) - n, "%s%s", n ? " " : "", what);
}

static void pre_a(void* arg) { (void)arg, note("pre:A"); }
static void pre_b(void* arg) { (void)arg, note("pre:B"), pre_b_seen = 1; }
static void resume_hook(void* arg) { note(arg); }
static void restart_hook(void* arg) { note(arg); }

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static const char* outcome(int r) {
  switch (r) {
    case CKPT_RESUMED:
      return "resumed";
    case CKPT_RESTARTED:
      return "restarted";
    case CKPT_ENOTRUNNING:
      return "not-running";
    default:
      return "failed";
  }
}

static FILE* events;

static void event_line(int n, int step, int r) {
  fprintf(events, "ckpt %d at step %d: %s restarts=%d hooks=[%s]\n", n, step, outcome(r),
          ckpt_restart_count(), trace);
  if (r == CKPT_EFAILED) fprintf(events, "error: %s\n", ckpt_error());
  fflush(events);
}

static void* request_thread(void* result) {
  *(int*)result = ckpt_checkpoint();
  return NULL;
}

/* Step 3*STEPS/4: a checkpoint asked for while the main thread is inside a
 * critical section commits only after the section ends. */
static int checkpoint_around_critical_section(void) {
  int result = 0;
  pthread_t t;
  ckpt_critical_begin();
  pre_b_seen = 0;
  pthread_create(&t, NULL, request_thread, &result);
  if (ckpt_is_running())
    while (!pre_b_seen) sleep_ms(5);
  sleep_ms(200);
  note("critical:left");
  ckpt_critical_end();
  pthread_join(t, NULL);
  return result;
}

int main(int argc, char** argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 40;
  long pause = argc > 2 ? atol(argv[2]) : 50;
  events = fopen(argc > 3 ? argv[3] : "api_events.txt", "a");
  if (!events) return perror("events file"), 1;
  int added = ckpt_add_hook(CKPT_HOOK_PRE_CHECKPOINT, pre_a, NULL);
  ckpt_add_hook(CKPT_HOOK_PRE_CHECKPOINT, pre_b, NULL);
  ckpt_add_hook(CKPT_HOOK_RESUME, resume_hook, "resume:A");
  ckpt_add_hook(CKPT_HOOK_RESUME, resume_hook, "resume:B");
  ckpt_add_hook(CKPT_HOOK_RESTART, restart_hook, "restart:A");
  ckpt_add_hook(CKPT_HOOK_RESTART, restart_hook, "restart:B");
  fprintf(events, "start: running=%d restarts=%d add_hook=%d\n", ckpt_is_running(),
          ckpt_restart_count(), added);
  fflush(events);

  unsigned long long sum = 0;
  int n = 0;
  for (int i = 1; i <= steps; i++) {
    sum = (sum * 31 + (unsigned long long)i * i) % 1000000007ULL;
    printf("step %d sum=%llu\n", i, sum);
    fflush(stdout);
    if (i == steps / 4 || i == steps / 2 || i == 3 * steps / 4) {
      trace[0] = 0;
      int r = i == 3 * steps / 4 ? checkpoint_around_critical_section() : ckpt_checkpoint();
      event_line(++n, i, r);
    }
    sleep_ms(pause);
  }
  printf("result %llu\n", sum);
  fprintf(events, "end: restarts=%d\n", ckpt_restart_count());
  fclose(events);
  return 0;
}
