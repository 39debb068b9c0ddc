// The one explicit table of the real libc functions the wrappers call.
// Filled by resolve_real_functions() in the runtime's constructor (dlsym may
// allocate, so never later); a wrapper called earlier resolves on demand.
#pragma once

#include <dirent.h>
#include <poll.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

// Marks an interposed libc function (the library is built -fvisibility=hidden).
#define CKPT_WRAPPER extern "C" __attribute__((visibility("default")))

namespace ckpt {

struct RealFunctions {
  pid_t (*getpid)();
  pid_t (*getppid)();
  int (*kill)(pid_t, int);
  int (*sigaction)(int, const struct sigaction*, struct sigaction*);
  sighandler_t (*signal)(int, sighandler_t);
  int (*sigprocmask)(int, const sigset_t*, sigset_t*);
  int (*pthread_sigmask)(int, const sigset_t*, sigset_t*);
  ssize_t (*readlink)(const char*, char*, size_t);
  ssize_t (*readlinkat)(int, const char*, char*, size_t);
  long (*syscall)(long, ...);
  int (*tgkill)(pid_t, pid_t, int);
  int (*nanosleep)(const timespec*, timespec*);
  int (*clock_nanosleep)(clockid_t, int, const timespec*, timespec*);
  int (*poll)(pollfd*, nfds_t, int);
  int (*ppoll)(pollfd*, nfds_t, const timespec*, const sigset_t*);
  int (*select)(int, fd_set*, fd_set*, fd_set*, timeval*);
  int (*pselect)(int, fd_set*, fd_set*, fd_set*, const timespec*, const sigset_t*);
  int (*epoll_wait)(int, epoll_event*, int, int);
  int (*epoll_pwait)(int, epoll_event*, int, int, const sigset_t*);
  int (*sem_timedwait)(sem_t*, const timespec*);
  int (*sigsuspend)(const sigset_t*);
  int (*pause)();
  int (*timer_create)(clockid_t, sigevent*, timer_t*);
  pid_t (*fork)();
  int (*execve)(const char*, char* const[], char* const[]);
  int (*execvpe)(const char*, char* const[], char* const[]);
  int (*fexecve)(int, char* const[], char* const[]);
  // Pids (wrap_pid.cc, wrap_wait.cc, wrap_pgrp.cc, wrap_task_attrs.cc).
  int (*killpg)(pid_t, int);
  int (*sigqueue)(pid_t, int, const sigval);
  int (*pidfd_open)(pid_t, unsigned int);
  pid_t (*waitpid)(pid_t, int*, int);
  pid_t (*wait4)(pid_t, int*, int, rusage*);
  pid_t (*wait3)(int*, int, rusage*);
  pid_t (*wait)(int*);
  int (*waitid)(idtype_t, id_t, siginfo_t*, int);
  int (*pclose)(FILE*);  // a stream popen() did not make here (wrap_shell.cc)
  pid_t (*getpgid)(pid_t);
  pid_t (*getpgrp)();
  pid_t (*getsid)(pid_t);
  pid_t (*setsid)();
  int (*setpgid)(pid_t, pid_t);
  pid_t (*tcgetpgrp)(int);
  int (*tcsetpgrp)(int, pid_t);
  int (*sched_setaffinity)(pid_t, size_t, const cpu_set_t*);
  int (*sched_getaffinity)(pid_t, size_t, cpu_set_t*);
  int (*setpriority)(__priority_which_t, id_t, int);
  int (*getpriority)(__priority_which_t, id_t);
  int (*prlimit)(pid_t, __rlimit_resource, const rlimit*, rlimit*);
  int (*prlimit64)(pid_t, __rlimit_resource, const rlimit64*, rlimit64*);
  // /proc/<pid> paths (wrap_proc_paths.cc).
  int (*open)(const char*, int, ...);
  int (*open64)(const char*, int, ...);
  int (*openat)(int, const char*, int, ...);
  int (*openat64)(int, const char*, int, ...);
  int (*open_2)(const char*, int);
  int (*open64_2)(const char*, int);
  int (*openat_2)(int, const char*, int);
  int (*openat64_2)(int, const char*, int);
  FILE* (*fopen)(const char*, const char*);
  FILE* (*fopen64)(const char*, const char*);
  DIR* (*opendir)(const char*);
  int (*stat)(const char*, struct stat*);
  int (*stat64)(const char*, struct stat64*);
  int (*lstat)(const char*, struct stat*);
  int (*lstat64)(const char*, struct stat64*);
  int (*fstatat)(int, const char*, struct stat*, int);
  int (*fstatat64)(int, const char*, struct stat64*, int);
  int (*statx)(int, const char*, int, unsigned int, struct statx*);
  int (*access)(const char*, int);
  int (*faccessat)(int, const char*, int, int);
  // System V IPC (wrap_sysv_ipc.cc).
  int (*shmget)(key_t, size_t, int);
  void* (*shmat)(int, const void*, int);
  int (*shmctl)(int, int, struct shmid_ds*);
  int (*semget)(key_t, int, int);
  int (*semop)(int, sembuf*, size_t);
  int (*semtimedop)(int, sembuf*, size_t, const timespec*);
  int (*semctl)(int, int, int, ...);
  int (*msgget)(key_t, int);
  int (*msgsnd)(int, const void*, size_t, int);
  ssize_t (*msgrcv)(int, void*, size_t, long, int);
  int (*msgctl)(int, int, struct msqid_ds*);
  // Socket addresses (wrap_inet.cc).
  int (*connect)(int, const sockaddr*, socklen_t);
  int (*bind)(int, const sockaddr*, socklen_t);
  ssize_t (*sendto)(int, const void*, size_t, int, const sockaddr*, socklen_t);
  ssize_t (*sendmsg)(int, const msghdr*, int);
  int (*sendmmsg)(int, mmsghdr*, unsigned int, int);
  int (*getsockname)(int, sockaddr*, socklen_t*);
  int (*getpeername)(int, sockaddr*, socklen_t*);
  int (*accept)(int, sockaddr*, socklen_t*);
  int (*accept4)(int, sockaddr*, socklen_t*, int);
  ssize_t (*recvfrom)(int, void*, size_t, int, sockaddr*, socklen_t*);
  ssize_t (*recvfrom_chk)(int, void*, size_t, size_t, int, sockaddr*, socklen_t*);
  ssize_t (*recvmsg)(int, msghdr*, int);
  int (*recvmmsg)(int, mmsghdr*, unsigned int, int, timespec*);
};

const RealFunctions& real();
void resolve_real_functions();

}  // namespace ckpt
