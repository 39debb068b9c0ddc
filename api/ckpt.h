/* ckpt.h: the application API of ckpt (docs/api.md).
 *
 * A program includes this header to cooperate with checkpoints: to know
 * whether it runs under ckpt, to ask for a checkpoint from inside, to learn
 * its restart count, to register hooks run before a checkpoint, after
 * resuming and after a restart, and to mark sections in which checkpoints
 * wait.
 *
 * Every function is static inline and finds the runtime's entry points with
 * dlsym(RTLD_DEFAULT, "ckpt_rt_...") in the running process: under
 * ckpt_launch, libckpt.so is preloaded and exports them; without ckpt they
 * are absent and each function answers CKPT_ENOTRUNNING (or 0). A program
 * built with this header therefore has no link-time dependency on ckpt and
 * runs unchanged without it. Link with -ldl on glibc older than 2.34
 * (`pkg-config --libs ckpt` says so).
 *
 * The entry points are a C ABI of their own: CKPT_API_VERSION is bumped on
 * any incompatible change, and a runtime that answers another version is
 * treated as absent.
 */
#ifndef CKPT_H
#define CKPT_H

#include <dlfcn.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CKPT_API_VERSION 1

/* Results of ckpt_checkpoint(). */
#define CKPT_RESUMED 1   /* the checkpoint committed; this process ran on */
#define CKPT_RESTARTED 2 /* this process was restarted from that checkpoint */
/* Errors (negative) of every function. */
#define CKPT_ENOTRUNNING (-1) /* not under ckpt: nothing was done */
#define CKPT_EFAILED (-2)   /* the checkpoint failed (ckpt_error() says why); the program runs on */
#define CKPT_EDEADLOCK (-3) /* called inside a critical section or from a hook */
#define CKPT_EINVAL (-4)    /* a bad argument (unknown hook event, NULL function, unbalanced end) */
#define CKPT_EFULL (-5)     /* too many hooks (CKPT_MAX_HOOKS) */

/* Hook events (ckpt_add_hook). */
#define CKPT_HOOK_PRE_CHECKPOINT 1 /* before every checkpoint, threads still running */
#define CKPT_HOOK_RESUME 2  /* after every checkpoint, committed or not, in the same process */
#define CKPT_HOOK_RESTART 3 /* in a restarted process, before its threads go on */
#define CKPT_MAX_HOOKS 32

typedef void (*ckpt_hook_fn)(void* arg);

#ifndef RTLD_DEFAULT
#define RTLD_DEFAULT ((void*)0)
#endif

/* The runtime's entry point `name`, or NULL without ckpt. */
static inline void* ckpt_runtime_symbol_(const char* name) {
  typedef int (*version_fn)(void);
  static int checked; /* 0 unknown, 1 present, -1 absent */
  if (checked == 0) {
    version_fn v = (version_fn)dlsym(RTLD_DEFAULT, "ckpt_rt_api_version");
    checked = v && v() == CKPT_API_VERSION ? 1 : -1;
  }
  return checked > 0 ? dlsym(RTLD_DEFAULT, name) : NULL;
}

/* 1 when the program runs under ckpt (checkpoints can be taken), else 0. */
static inline int ckpt_is_running(void) {
  typedef int (*fn_t)(void);
  fn_t f = (fn_t)ckpt_runtime_symbol_("ckpt_rt_is_running");
  return f ? f() : 0;
}

/* Asks the coordinator for a checkpoint of the whole computation (every
 * process of the job) and returns once it is over: CKPT_RESUMED when it
 * committed and this process ran on, CKPT_RESTARTED when this process is a
 * restart from it, CKPT_EFAILED when it failed, CKPT_ENOTRUNNING without ckpt,
 * CKPT_EDEADLOCK inside a critical section or a hook. Threads may call it at
 * the same time: one checkpoint may serve several calls. */
static inline int ckpt_checkpoint(void) {
  typedef int (*fn_t)(void);
  fn_t f = (fn_t)ckpt_runtime_symbol_("ckpt_rt_checkpoint");
  return f ? f() : CKPT_ENOTRUNNING;
}

/* How many times this process was restarted (0 in the first run, and
 * without ckpt). */
static inline int ckpt_restart_count(void) {
  typedef int (*fn_t)(void);
  fn_t f = (fn_t)ckpt_runtime_symbol_("ckpt_rt_restart_count");
  return f ? f() : 0;
}

/* Registers fn(arg) for a CKPT_HOOK_* event: 0, or CKPT_ENOTRUNNING (never
 * called then), CKPT_EINVAL, CKPT_EFULL. Hooks run on ckpt's checkpoint
 * thread: pre-checkpoint hooks in registration order, resume and restart
 * hooks in reverse order. A hook must not call ckpt_checkpoint() nor enter a
 * critical section (they return CKPT_EDEADLOCK there). */
static inline int ckpt_add_hook(int event, ckpt_hook_fn fn, void* arg) {
  typedef int (*fn_t)(int, ckpt_hook_fn, void*);
  fn_t f = (fn_t)ckpt_runtime_symbol_("ckpt_rt_add_hook");
  return f ? f(event, fn, arg) : CKPT_ENOTRUNNING;
}

/* A critical section: a checkpoint waits until no thread is inside one
 * (e.g. around a write to an outside database), and a thread that enters one
 * while a checkpoint is in progress waits until it ends. Sections nest per
 * thread. A checkpoint waits at most CKPT_DEFER_TIMEOUT seconds (default 60)
 * and then fails, naming the process: a section held by a blocked thread
 * never deadlocks the job. Returns 0, or CKPT_ENOTRUNNING (a no-op). */
static inline int ckpt_critical_begin(void) {
  typedef int (*fn_t)(void);
  fn_t f = (fn_t)ckpt_runtime_symbol_("ckpt_rt_critical_begin");
  return f ? f() : CKPT_ENOTRUNNING;
}

static inline int ckpt_critical_end(void) {
  typedef int (*fn_t)(void);
  fn_t f = (fn_t)ckpt_runtime_symbol_("ckpt_rt_critical_end");
  return f ? f() : CKPT_ENOTRUNNING;
}

/* Why the last checkpoint asked for by this process failed ("" if none). */
static inline const char* ckpt_error(void) {
  typedef const char* (*fn_t)(void);
  fn_t f = (fn_t)ckpt_runtime_symbol_("ckpt_rt_error");
  return f ? f() : "not running under ckpt";
}

#ifdef __cplusplus
}
#endif

#endif /* CKPT_H */
