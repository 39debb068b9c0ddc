/* signals_heavy: a signal-heavy program for the signals e2e scenario: handlers
 * on alternate stacks, blocked signals left pending, interval and POSIX timers
 * that must keep firing after every restart.
 *
 *   signals_heavy [STEPS=60]
 *
 * Set up once (all handlers SA_SIGINFO|SA_ONSTACK|SA_RESTART, sa_mask
 * {SIGVTALRM}; each thread has its own sigaltstack and the handler checks it
 * runs on the calling thread's alternate stack):
 *   main blocks SIGUSR2 and SIGRTMIN+2; SIGUSR2 is raised (pending on the main
 *   thread) and kill()ed (pending process-wide), SIGRTMIN+2 is queued 3 times
 *   with values 1, 2, 3 (process-wide queue); a helper thread blocks every
 *   signal the program uses and gets a SIGUSR1 by pthread_kill (pending on it);
 *   SIGHUP is ignored with signal(); ITIMER_REAL every 50 ms (SIGALRM), a
 *   POSIX timer every 30 ms (SIGEV_SIGNAL, SIGRTMIN+3) and one every 40 ms
 *   (SIGEV_THREAD).
 * Every step checks: the main and helper masks, dispositions and flags, the
 * alternate stack, the pending sets; raise(SIGUSR1) and a queued SIGRTMIN+1
 * are delivered at once; a full sigprocmask reads back as sigfillset minus
 * SIGKILL/SIGSTOP, and a nanosleep under it completes, no EINTR; a read() on a pipe
 * (answered by the helper after 120 ms) is restarted under the timer signals,
 * not failed with EINTR; then every timer must fire at least twice in the step
 * (so they fire after each restart) and report its exact interval.
 * At the end: unblocking SIGUSR2 delivers it twice (thread + process pending),
 * SIGRTMIN+2 three times in order, the helper's SIGUSR1 once on the helper's
 * alternate stack; with the interval timer stopped alarm() reports and fires.
 * Prints only deterministic counts: "step I ..." per step, a summary and "OK";
 * on any mismatch "FAIL: reason" and exit 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "test_common.h"

#define ALT_SIZE (64 * 1024)
#define ITIMER_MS 50
#define PTIMER_MS 30
#define TTIMER_MS 40
#define HELPER_SLEEP_MS 120
#define RT1 (SIGRTMIN + 1)
#define RT2 (SIGRTMIN + 2)
#define RT3 (SIGRTMIN + 3)
#define SIGNAL_MAGIC 0x5151

/* --- Counters written by handlers -------------------------------------------- */

static int usr1_main, usr1_helper, usr2, rt1, rt1_sum, alrm, ptimer, ttimer;
static int rt2_count, rt2_order[8];
static int bad_stack_sig, bad_info_sig; /* first offending signal, 0 if none */
static int thread_magic;

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define INC(x) __atomic_add_fetch(&(x), 1, __ATOMIC_SEQ_CST)

static __thread char* my_alt;
static __thread int is_helper;

static void note_bad(int* slot, int sig) {
  int zero = 0;
  __atomic_compare_exchange_n(slot, &zero, sig, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static void on_signal(int sig, siginfo_t* info, void* uctx) {
  (void)uctx;
  int saved = errno;
  char here;
  stack_t cur;
  if (my_alt == NULL || &here < my_alt || &here >= my_alt + ALT_SIZE ||
      sigaltstack(NULL, &cur) != 0 || !(cur.ss_flags & SS_ONSTACK) || cur.ss_sp != my_alt)
    note_bad(&bad_stack_sig, sig);
  if (info->si_signo != sig) note_bad(&bad_info_sig, sig);
  if (sig == SIGUSR1) {
    if (info->si_code != SI_TKILL) note_bad(&bad_info_sig, sig);
    INC(*(is_helper ? &usr1_helper : &usr1_main));
  } else if (sig == SIGUSR2) {
    INC(usr2);
  } else if (sig == RT1) {
    if (info->si_code != SI_QUEUE) note_bad(&bad_info_sig, sig);
    INC(rt1);
    __atomic_add_fetch(&rt1_sum, info->si_value.sival_int, __ATOMIC_SEQ_CST);
  } else if (sig == RT2) {
    if (info->si_code != SI_QUEUE) note_bad(&bad_info_sig, sig);
    int i = INC(rt2_count) - 1;
    if (i < 8) rt2_order[i] = info->si_value.sival_int;
  } else if (sig == RT3) {
    if (info->si_code != SI_TIMER || info->si_value.sival_int != SIGNAL_MAGIC)
      note_bad(&bad_info_sig, sig);
    INC(ptimer);
  } else if (sig == SIGALRM) {
    INC(alrm);
  }
  errno = saved;
}

static void on_thread_timer(union sigval v) {
  if (v.sival_ptr != &thread_magic) note_bad(&bad_info_sig, -1);
  INC(ttimer);
}

/* --- Sets and checks ------------------------------------------------------------- */

static int handled[6];
static sigset_t main_mask, helper_mask;

static void set_alt_stack(void) {
  my_alt = malloc(ALT_SIZE);
  stack_t ss = {.ss_sp = my_alt, .ss_size = ALT_SIZE, .ss_flags = 0};
  if (!my_alt || sigaltstack(&ss, NULL) != 0) fail("sigaltstack: %s", strerror(errno));
}

static void check_alt_stack(const char* who, int s) {
  stack_t ss;
  if (sigaltstack(NULL, &ss) != 0) fail("%s step %d: sigaltstack: %s", who, s, strerror(errno));
  if (ss.ss_sp != my_alt || ss.ss_size != ALT_SIZE || ss.ss_flags != 0)
    fail("%s step %d: sigaltstack is sp %p size %zu flags %d, expected %p %d 0", who, s, ss.ss_sp,
         ss.ss_size, ss.ss_flags, (void*)my_alt, ALT_SIZE);
}

static void check_set(const sigset_t* got, const sigset_t* want, const char* what, int s) {
  for (int sig = 1; sig <= SIGRTMAX; sig++)
    if (sigismember(got, sig) != sigismember(want, sig))
      fail("step %d: %s: signal %d is %s, expected %s", s, what, sig,
           sigismember(got, sig) ? "set" : "clear", sigismember(want, sig) ? "set" : "clear");
}

static void check_mask(const sigset_t* want, const char* who, int s) {
  sigset_t cur;
  if (pthread_sigmask(SIG_BLOCK, NULL, &cur) != 0) fail("%s: pthread_sigmask read", who);
  char what[64];
  snprintf(what, sizeof what, "%s signal mask", who);
  check_set(&cur, want, what, s);
}

static void check_dispositions(int s) {
  for (int i = 0; i < 6; i++) {
    struct sigaction sa;
    if (sigaction(handled[i], NULL, &sa) != 0)
      fail("step %d: sigaction(%d) read: %s", s, handled[i], strerror(errno));
    unsigned want = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    if (sa.sa_sigaction != on_signal ||
        ((unsigned)sa.sa_flags & (want | SA_RESETHAND | SA_NODEFER)) != want)
      fail("step %d: signal %d disposition changed (handler %p flags %#x)", s, handled[i],
           (void*)sa.sa_sigaction, (unsigned)sa.sa_flags);
    for (int sig = 1; sig <= SIGRTMAX; sig++)
      if (sigismember(&sa.sa_mask, sig) != (sig == SIGVTALRM))
        fail("step %d: signal %d handler's sa_mask has signal %d %s", s, handled[i], sig,
             sigismember(&sa.sa_mask, sig) ? "set" : "clear");
  }
  struct sigaction hup;
  sigaction(SIGHUP, NULL, &hup);
  if (hup.sa_handler != SIG_IGN) fail("step %d: SIGHUP is no longer ignored", s);
}

static void check_pending(const sigset_t* allowed, const sigset_t* required, const char* who,
                          int s) {
  sigset_t p;
  if (sigpending(&p) != 0) fail("%s step %d: sigpending: %s", who, s, strerror(errno));
  for (int sig = 1; sig <= SIGRTMAX; sig++) {
    if (sigismember(required, sig) && !sigismember(&p, sig))
      fail("%s step %d: signal %d is no longer pending", who, s, sig);
    if (sigismember(&p, sig) && !sigismember(allowed, sig))
      fail("%s step %d: signal %d is pending", who, s, sig);
  }
}

static void check_handlers_ok(const char* when) {
  if (LOAD(bad_stack_sig))
    fail("%s: a handler for signal %d did not run on its thread's alternate stack", when,
         LOAD(bad_stack_sig));
  if (LOAD(bad_info_sig))
    fail("%s: signal %d arrived with a wrong siginfo / sigval", when, LOAD(bad_info_sig));
}

static long ts_ns(struct timespec t) { return t.tv_sec * 1000000000L + t.tv_nsec; }

/* With eintr_ok 0 (every signal blocked) the sleep must complete in full. */
static void sleep_ms(int ms, int eintr_ok, const char* what) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L}, t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (nanosleep(&ts, NULL) != 0 && !(eintr_ok && errno == EINTR))
    fail("%s: nanosleep: %s", what, strerror(errno));
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (!eintr_ok && ts_ns(t1) - ts_ns(t0) < ms * 1000000L)
    fail("%s: a %d ms nanosleep returned after %.3f ms", what, ms,
         (double)(ts_ns(t1) - ts_ns(t0)) / 1e6);
}
static long tv_us(struct timeval t) { return t.tv_sec * 1000000L + t.tv_usec; }

/* --- Helper thread ----------------------------------------------------------------- */

static int req_pipe[2], rep_pipe[2];

static void send_byte(int fd, char c, const char* who) {
  if (write(fd, &c, 1) != 1) fail("%s: write pipe: %s", who, strerror(errno));
}

static char recv_byte(int fd, const char* who) {
  char c;
  ssize_t r = read(fd, &c, 1);
  if (r != 1)
    fail("%s: read() on a pipe returned %zd (%s)%s", who, r, r < 0 ? strerror(errno) : "EOF",
         r < 0 && errno == EINTR ? ": not restarted although every handler has SA_RESTART" : "");
  return c;
}

static void* helper(void* arg) {
  (void)arg;
  is_helper = 1;
  set_alt_stack();
  if (pthread_sigmask(SIG_SETMASK, &helper_mask, NULL) != 0) fail("helper: pthread_sigmask");
  sigset_t allowed, required;
  sigemptyset(&required);
  sigaddset(&required, SIGUSR1);
  sigaddset(&required, SIGUSR2);
  sigaddset(&required, RT2);
  allowed = required;
  sigaddset(&allowed, SIGALRM); /* process-wide, on its way to the main thread */
  sigaddset(&allowed, RT3);
  send_byte(rep_pipe[1], 'r', "helper");
  for (int s = 1;; s++) {
    char c = recv_byte(req_pipe[0], "helper");
    if (c == 'S') {
      check_mask(&helper_mask, "helper", s);
      check_alt_stack("helper", s);
      check_pending(&allowed, &required, "helper", s);
      sleep_ms(HELPER_SLEEP_MS, 0, "helper (every signal blocked)");
      send_byte(rep_pipe[1], 'd', "helper");
    } else if (c == 'U') {
      if (LOAD(usr1_helper) != 0) fail("helper: SIGUSR1 delivered while blocked");
      sigset_t u;
      sigemptyset(&u);
      sigaddset(&u, SIGUSR1);
      pthread_sigmask(SIG_UNBLOCK, &u, NULL);
      send_byte(rep_pipe[1], (char)('0' + LOAD(usr1_helper)), "helper");
    } else if (c == 'Q') {
      return NULL;
    } else {
      fail("helper: unknown request %d", c);
    }
  }
}

/* --- Main --------------------------------------------------------------------------- */

static void install(int sig) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGVTALRM);
  if (sigaction(sig, &sa, NULL) != 0) fail("sigaction %d: %s", sig, strerror(errno));
}

static void check_timers(timer_t pt, timer_t tt, int s) {
  struct itimerval iv;
  getitimer(ITIMER_REAL, &iv);
  if (tv_us(iv.it_interval) != ITIMER_MS * 1000L || tv_us(iv.it_value) <= 0 ||
      tv_us(iv.it_value) > ITIMER_MS * 1000L)
    fail("step %d: ITIMER_REAL interval %ld us value %ld us, expected interval %d ms", s,
         tv_us(iv.it_interval), tv_us(iv.it_value), ITIMER_MS);
  struct itimerspec its;
  timer_t ids[2] = {pt, tt};
  long want[2] = {PTIMER_MS * 1000000L, TTIMER_MS * 1000000L};
  for (int i = 0; i < 2; i++) {
    if (timer_gettime(ids[i], &its) != 0) fail("step %d: timer_gettime: %s", s, strerror(errno));
    if (ts_ns(its.it_interval) != want[i] || ts_ns(its.it_value) <= 0 ||
        ts_ns(its.it_value) > want[i])
      fail("step %d: POSIX timer %d interval %ld ns value %ld ns, expected interval %ld ns", s, i,
           ts_ns(its.it_interval), ts_ns(its.it_value), want[i]);
  }
}

/* Waits until each timer fired at least twice since `base`. */
static void wait_ticks(const int base[3], int s) {
  for (int i = 0; i < 1000; i++) {
    if (LOAD(alrm) - base[0] >= 2 && LOAD(ptimer) - base[1] >= 2 && LOAD(ttimer) - base[2] >= 2)
      return;
    sleep_ms(10, 1, "tick wait");
  }
  fail(
      "step %d: timers stopped firing: SIGALRM +%d, SIGEV_SIGNAL timer +%d, SIGEV_THREAD timer +%d "
      "in ~10 s of "
      "waiting (need 2 each)",
      s, LOAD(alrm) - base[0], LOAD(ptimer) - base[1], LOAD(ttimer) - base[2]);
}

static void final_checks(pthread_t h) {
  sigset_t u;
  sigemptyset(&u);
  sigaddset(&u, SIGUSR2);
  if (LOAD(usr2) != 0) fail("end: SIGUSR2 delivered while blocked");
  pthread_sigmask(SIG_UNBLOCK, &u, NULL);
  if (LOAD(usr2) != 2)
    fail("end: unblocking SIGUSR2 delivered it %d times, expected 2 (thread + process)", usr2);
  sigemptyset(&u);
  sigaddset(&u, RT2);
  pthread_sigmask(SIG_UNBLOCK, &u, NULL);
  if (LOAD(rt2_count) != 3 || rt2_order[0] != 1 || rt2_order[1] != 2 || rt2_order[2] != 3)
    fail("end: SIGRTMIN+2 delivered %d times, values %d,%d,%d; expected 3 times, 1,2,3",
         LOAD(rt2_count), rt2_order[0], rt2_order[1], rt2_order[2]);
  send_byte(req_pipe[1], 'U', "main");
  char c = recv_byte(rep_pipe[0], "main");
  if (c != '1') fail("end: the helper's pending SIGUSR1 was delivered %c times, expected 1", c);
  send_byte(req_pipe[1], 'Q', "main");
  pthread_join(h, NULL);
  check_handlers_ok("end");
}

static void alarm_checks(void) {
  struct itimerval zero = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &zero, NULL);
  unsigned left = alarm(0);
  if (left != 0) fail("end: alarm(0) after stopping ITIMER_REAL returned %u", left);
  alarm(5);
  left = alarm(1);
  if (left != 5) fail("end: alarm(1) after alarm(5) returned %u, expected 5", left);
  int base = LOAD(alrm);
  for (int i = 0; i < 500 && LOAD(alrm) == base; i++) sleep_ms(10, 1, "alarm wait");
  if (LOAD(alrm) != base + 1)
    fail("end: alarm(1) fired %d times within ~5 s, expected once", LOAD(alrm) - base);
}

int main(int argc, char** argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 60;
  if (steps < 1) fail("usage: signals_heavy [STEPS]");
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (pipe(req_pipe) || pipe(rep_pipe)) fail("pipe: %s", strerror(errno));

  int sigs[6] = {SIGUSR1, SIGUSR2, RT1, RT2, RT3, SIGALRM};
  memcpy(handled, sigs, sizeof sigs);
  set_alt_stack();
  for (int i = 0; i < 6; i++) install(handled[i]);
  if (signal(SIGHUP, SIG_IGN) == SIG_ERR) fail("signal(SIGHUP): %s", strerror(errno));

  sigemptyset(&main_mask);
  sigaddset(&main_mask, SIGUSR2);
  sigaddset(&main_mask, RT2);
  helper_mask = main_mask;
  for (int i = 0; i < 6; i++) sigaddset(&helper_mask, handled[i]);
  if (sigprocmask(SIG_SETMASK, &main_mask, NULL) != 0) fail("sigprocmask: %s", strerror(errno));

  /* The helper starts with everything blocked and sets its own mask. */
  sigset_t full, old;
  sigfillset(&full);
  pthread_sigmask(SIG_SETMASK, &full, &old);
  pthread_t h;
  if (pthread_create(&h, NULL, helper, NULL) != 0) fail("pthread_create");
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (recv_byte(rep_pipe[0], "main") != 'r') fail("helper did not start");
  pthread_kill(h, SIGUSR1);

  raise(SIGUSR2);
  kill(getpid(), SIGUSR2);
  for (int v = 1; v <= 3; v++) {
    union sigval sv = {.sival_int = v};
    if (sigqueue(getpid(), RT2, sv) != 0) fail("sigqueue: %s", strerror(errno));
  }

  struct itimerval iv = {{0, ITIMER_MS * 1000}, {0, ITIMER_MS * 1000}};
  if (setitimer(ITIMER_REAL, &iv, NULL) != 0) fail("setitimer: %s", strerror(errno));
  timer_t pt, tt;
  struct sigevent se;
  memset(&se, 0, sizeof se);
  se.sigev_notify = SIGEV_SIGNAL;
  se.sigev_signo = RT3;
  se.sigev_value.sival_int = SIGNAL_MAGIC;
  if (timer_create(CLOCK_MONOTONIC, &se, &pt) != 0)
    fail("timer_create SIGEV_SIGNAL: %s", strerror(errno));
  memset(&se, 0, sizeof se);
  se.sigev_notify = SIGEV_THREAD;
  se.sigev_notify_function = on_thread_timer;
  se.sigev_value.sival_ptr = &thread_magic;
  if (timer_create(CLOCK_MONOTONIC, &se, &tt) != 0)
    fail("timer_create SIGEV_THREAD: %s", strerror(errno));
  struct itimerspec its = {{0, PTIMER_MS * 1000000L}, {0, PTIMER_MS * 1000000L}};
  if (timer_settime(pt, 0, &its, NULL) != 0) fail("timer_settime: %s", strerror(errno));
  its = (struct itimerspec){{0, TTIMER_MS * 1000000L}, {0, TTIMER_MS * 1000000L}};
  if (timer_settime(tt, 0, &its, NULL) != 0) fail("timer_settime: %s", strerror(errno));
  printf("signals_heavy: %d steps\n", steps);

  sigset_t expect_full = full;
  sigdelset(&expect_full, SIGKILL);
  sigdelset(&expect_full, SIGSTOP);
  for (int s = 1; s <= steps; s++) {
    int base[3] = {LOAD(alrm), LOAD(ptimer), LOAD(ttimer)};
    check_mask(&main_mask, "main", s);
    check_dispositions(s);
    check_alt_stack("main", s);
    check_pending(&main_mask, &main_mask, "main", s);
    if (LOAD(usr2) != 0 || LOAD(rt2_count) != 0) fail("step %d: a blocked signal was delivered", s);

    raise(SIGUSR1);
    if (LOAD(usr1_main) != s)
      fail("step %d: SIGUSR1 delivered %d times, expected %d", s, LOAD(usr1_main), s);
    union sigval sv = {.sival_int = s};
    if (pthread_sigqueue(pthread_self(), RT1, sv) != 0)
      fail("pthread_sigqueue: %s", strerror(errno));
    if (LOAD(rt1) != s || LOAD(rt1_sum) != s * (s + 1) / 2)
      fail("step %d: SIGRTMIN+1 delivered %d times (sum %d), expected %d (%d)", s, LOAD(rt1),
           LOAD(rt1_sum), s, s * (s + 1) / 2);

    sigset_t saved, cur;
    sigprocmask(SIG_SETMASK, &full, &saved);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    check_set(&cur, &expect_full, "mask read back after blocking sigfillset()", s);
    sleep_ms(20, 0, "main (every signal blocked)");
    sigprocmask(SIG_SETMASK, &saved, NULL);
    check_set(&saved, &main_mask, "mask saved by sigprocmask(SIG_SETMASK, full)", s);
    check_mask(&main_mask, "main (after restoring)", s);

    send_byte(req_pipe[1], 'S', "main");
    if (recv_byte(rep_pipe[0], "main") != 'd') fail("step %d: bad reply from the helper", s);
    wait_ticks(base, s);
    check_timers(pt, tt, s);
    check_handlers_ok("step");
    printf("step %d usr1=%d rt1=%d rt1_sum=%d pending=ok masks=ok timers=ok\n", s, LOAD(usr1_main),
           LOAD(rt1), LOAD(rt1_sum));
  }

  final_checks(h);
  timer_delete(pt);
  timer_delete(tt);
  alarm_checks();
  check_handlers_ok("alarm");
  printf(
      "signals_heavy: steps=%d usr1=%d rt1=%d rt1_sum=%d usr2=%d rt2=%d,%d,%d helper_usr1=%d "
      "alarm=ok\nOK\n",
      steps, LOAD(usr1_main), LOAD(rt1), LOAD(rt1_sum), LOAD(usr2), rt2_order[0], rt2_order[1],
      rt2_order[2], LOAD(usr1_helper));
  return 0;
}
