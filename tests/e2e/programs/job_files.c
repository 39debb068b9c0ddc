/* A program that keeps its working state in job-private temporary files,
 * as MPI libraries and many tools do (test_wiped_job_files.py): under
 * $TMPDIR it makes a session directory tree (modes 0750/0700), a state file
 * it rewrites in place each step (held open read-write), a log it appends to
 * (held open write-only), a file it maps MAP_SHARED (held open), a FIFO and a
 * UNIX socket whose server and client it holds connected; in /dev/shm a
 * POSIX shared memory object (name from argv) it maps. A worker thread named
 * "jf-worker" (pthread_setname_np) does half of each step's work. Each step
 * prints a checksum of everything it reads back from those files, so a file
 * that comes back wrong (empty, at a wrong offset, older content) changes
 * the output. Usage: job_files STEPS SHM_NAME. */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "test_common.h"

#define MAP_BYTES 8192

static char dir[PATH_MAX / 2];
static int state_fd, log_fd, map_fd, fifo_fd, srv_fd, cli_fd, acc_fd;
static uint8_t* mapped;
static uint8_t* shm;
static pthread_barrier_t go, done;
static int step;
static uint64_t worker_sum;

static void path_of(char* out, const char* name) { snprintf(out, PATH_MAX, "%s/%s", dir, name); }

static void make_dir(const char* name, mode_t mode) {
  char p[PATH_MAX];
  path_of(p, name);
  if (mkdir(p, mode) != 0 || chmod(p, mode) != 0) fail("mkdir %s: %s", p, strerror(errno));
}

static int open_file(const char* name, int flags) {
  char p[PATH_MAX];
  path_of(p, name);
  int fd = open(p, flags | O_CREAT | O_TRUNC, 0640);
  if (fd < 0) fail("open %s: %s", p, strerror(errno));
  return fd;
}

static void setup_socket(void) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof(a.sun_path), "%s/sock/ctl", dir);
  srv_fd = socket(AF_UNIX, SOCK_STREAM, 0);
  cli_fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (bind(srv_fd, (struct sockaddr*)&a, sizeof(a)) != 0 || listen(srv_fd, 4) != 0)
    fail("bind %s: %s", a.sun_path, strerror(errno));
  if (connect(cli_fd, (struct sockaddr*)&a, sizeof(a)) != 0) fail("connect: %s", strerror(errno));
  acc_fd = accept(srv_fd, NULL, NULL);
  if (acc_fd < 0) fail("accept: %s", strerror(errno));
}

static void setup(const char* shm_name) {
  const char* tmp = getenv("TMPDIR");
  if (!tmp) fail("TMPDIR is not set");
  snprintf(dir, sizeof(dir), "%s/session.jf", tmp);
  make_dir("", 0750);
  make_dir("sock", 0700);
  make_dir("data", 0700);
  state_fd = open_file("data/state", O_RDWR);
  uint64_t zero[4] = {0};
  write_all(state_fd, zero, sizeof(zero), "state");
  log_fd = open_file("data/log", O_WRONLY | O_APPEND);
  map_fd = open_file("data/map", O_RDWR);
  if (ftruncate(map_fd, MAP_BYTES) != 0) fail("ftruncate: %s", strerror(errno));
  mapped = mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
  char p[PATH_MAX];
  path_of(p, "fifo");
  if (mapped == MAP_FAILED || mkfifo(p, 0600) != 0) fail("map/mkfifo: %s", strerror(errno));
  fifo_fd = open(p, O_RDWR);
  setup_socket();
  int s = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (s < 0 || ftruncate(s, 4096) != 0) fail("shm_open %s: %s", shm_name, strerror(errno));
  shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
  if (shm == MAP_FAILED || fifo_fd < 0) fail("shm mmap/fifo: %s", strerror(errno));
  close(s);
}

/* The state file: 4 counters rewritten in place, read back with pread. */
static uint64_t update_state(void) {
  uint64_t v[4];
  if (pread(state_fd, v, sizeof(v), 0) != sizeof(v)) fail("state: short read");
  for (int i = 0; i < 4; i++) v[i] = mix(v[i], (uint64_t)step * 4 + i);
  if (pwrite(state_fd, v, sizeof(v), 0) != sizeof(v)) fail("state: short write");
  return v[0] ^ v[3];
}

/* The log: one line appended per step; its whole content hashed. */
static uint64_t update_log(void) {
  char line[64];
  int n = snprintf(line, sizeof(line), "step %d\n", step);
  write_all(log_fd, line, (size_t)n, "log");
  char p[PATH_MAX], buf[65536];
  path_of(p, "data/log");
  int fd = open(p, O_RDONLY);
  ssize_t got = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
  if (got < 0) fail("log: %s", strerror(errno));
  close(fd);
  uint64_t h = (uint64_t)got;
  for (ssize_t i = 0; i < got; i++) h = mix(h, (uint8_t)buf[i]);
  return h;
}

/* The FIFO and the socket: bytes through each, read back. */
static uint64_t pass_bytes(void) {
  uint8_t b = (uint8_t)step, f = 0, s = 0;
  write_all(fifo_fd, &b, 1, "fifo");
  if (read(fifo_fd, &f, 1) != 1) fail("fifo: %s", strerror(errno));
  write_all(cli_fd, &b, 1, "socket");
  if (read(acc_fd, &s, 1) != 1) fail("socket: %s", strerror(errno));
  return mix(f, s);
}

static void* worker(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "jf-worker");
  for (;;) {
    pthread_barrier_wait(&go);
    uint64_t h = 0;
    for (int i = 0; i < MAP_BYTES / 2; i++) {
      mapped[i] = (uint8_t)(mapped[i] * 7 + step + i);
      h = mix(h, mapped[i]);
    }
    worker_sum = h;
    pthread_barrier_wait(&done);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 3) fail("usage: job_files STEPS SHM_NAME");
  int steps = atoi(argv[1]);
  setvbuf(stdout, NULL, _IOLBF, 0);
  setup(argv[2]);
  pthread_barrier_init(&go, NULL, 2);
  pthread_barrier_init(&done, NULL, 2);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  for (step = 1; step <= steps; step++) {
    pthread_barrier_wait(&go);
    uint64_t h = mix(update_state(), update_log());
    h = mix(h, pass_bytes());
    for (int i = MAP_BYTES / 2; i < MAP_BYTES; i++) mapped[i] = (uint8_t)(mapped[i] * 5 + step);
    for (int i = 0; i < 4096; i++) shm[i] = (uint8_t)(shm[i] * 3 + step + i);
    pthread_barrier_wait(&done);
    for (int i = 0; i < MAP_BYTES; i++) h = mix(h, mapped[i]);
    for (int i = 0; i < 4096; i++) h = mix(h, shm[i]);
    printf("step %d %016llx\n", step, (unsigned long long)mix(h, worker_sum));
    msleep(30);
  }
  shm_unlink(argv[2]);
  printf("done\n");
  return 0;
}
