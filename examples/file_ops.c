/* file_ops: a deterministic program that holds every kind of file state the
 * first version of ckpt restores, and verifies it all at the end.
 *
 *   file_ops WORKDIR [STEPS=60] [SLEEP_MS=50]
 *
 * In WORKDIR (created if missing; the program chdirs there) it keeps:
 *   input.txt     read-only input, read sequentially from an offset (fd offset)
 *   log.txt       O_APPEND log, one line per step
 *   shared.txt    two fds from dup() sharing one offset, written alternately
 *   (unlinked)    scratch.tmp, unlinked while open, written then read back
 *   mapped.bin    MAP_SHARED mapping updated each step (its fd is closed)
 * and checks at every step that getpid()/getppid(), the cwd, RLIMIT_NOFILE
 * (soft), the SIGUSR1 handler and the blocked SIGUSR2 are what it set.
 * Prints "step I" per step, then a summary and "OK"; on any mismatch it
 * prints "FAIL: reason" and exits 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INPUT_SIZE (64 * 1024)
#define INPUT_START 1000
#define READ_CHUNK 256
#define SHARED_REC 32
#define SCRATCH_REC 100
#define MAP_SIZE (4 * 4096)
#define NOFILE_SOFT 200

static void fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("FAIL: ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
  exit(1);
}

static uint64_t fnv(uint64_t h, const void* p, size_t n) {
  const uint8_t* b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

static uint8_t input_byte(size_t i) { return (uint8_t)('a' + (i * 7 + i / 251) % 26); }

static void write_all(int fd, const void* p, size_t n, const char* what) {
  const char* c = p;
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail("write %s: %s", what, strerror(errno));
    c += w;
    n -= (size_t)w;
  }
}

static void read_exact(int fd, void* p, size_t n, off_t off, const char* what) {
  ssize_t r = off < 0 ? read(fd, p, n) : pread(fd, p, n, off);
  if (r != (ssize_t)n) fail("read %s: got %zd of %zu (%s)", what, r, n, strerror(errno));
}

static void log_line(char* out, size_t size, unsigned i) { snprintf(out, size, "log step %04u\n", i); }

static void shared_rec(char* out, unsigned i) {
  char tmp[64];
  snprintf(tmp, sizeof tmp, "rec %04u via fd%c ..............", i, i % 2 ? 'b' : 'a');
  memcpy(out, tmp, SHARED_REC - 1);
  out[SHARED_REC - 1] = '\n';
}

static void scratch_rec(char* out, unsigned i) {
  for (unsigned k = 0; k < SCRATCH_REC; k++) out[k] = (char)('A' + (i + k) % 26);
}

static volatile sig_atomic_t usr1_count;
static void on_usr1(int sig) {
  (void)sig;
  usr1_count++;
}

/* Everything the process set up that must stay the same at every step. */
struct Identity {
  pid_t pid, ppid;
  char cwd[PATH_MAX];
};

static void check_identity(const struct Identity* id, unsigned step) {
  if (getpid() != id->pid) fail("getpid changed at step %u: %d -> %d", step, id->pid, getpid());
  if (getppid() != id->ppid) fail("getppid changed at step %u: %d -> %d", step, id->ppid, getppid());
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd) || strcmp(cwd, id->cwd) != 0) fail("cwd changed at step %u", step);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur != NOFILE_SOFT)
    fail("RLIMIT_NOFILE soft changed at step %u: %llu", step, (unsigned long long)rl.rlim_cur);
  struct sigaction sa;
  if (sigaction(SIGUSR1, NULL, &sa) != 0 || sa.sa_handler != on_usr1) fail("SIGUSR1 handler lost at step %u", step);
  sigset_t mask;
  if (sigprocmask(SIG_BLOCK, NULL, &mask) != 0 || !sigismember(&mask, SIGUSR2))
    fail("SIGUSR2 no longer blocked at step %u", step);
  if (sigismember(&mask, SIGUSR1)) fail("SIGUSR1 became blocked at step %u", step);
}

static int open_or_fail(const char* path, int flags) {
  int fd = open(path, flags, 0644);
  if (fd < 0) fail("open %s: %s", path, strerror(errno));
  return fd;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: file_ops WORKDIR [STEPS] [SLEEP_MS]\n");
    return 2;
  }
  const unsigned steps = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 60;
  const unsigned sleep_ms = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 0) : 50;
  if (steps == 0 || INPUT_START + (size_t)steps * READ_CHUNK > INPUT_SIZE || steps * 8 + 64 > MAP_SIZE)
    fail("STEPS out of range");
  if (mkdir(argv[1], 0755) != 0 && errno != EEXIST) fail("mkdir %s: %s", argv[1], strerror(errno));
  if (chdir(argv[1]) != 0) fail("chdir %s: %s", argv[1], strerror(errno));

  /* Process state: rlimit, signal handler, signal mask. */
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = NOFILE_SOFT;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) fail("setrlimit: %s", strerror(errno));
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGUSR1, &sa, NULL) != 0) fail("sigaction: %s", strerror(errno));
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  if (sigprocmask(SIG_BLOCK, &block, NULL) != 0) fail("sigprocmask: %s", strerror(errno));

  struct Identity id;
  id.pid = getpid();
  id.ppid = getppid();
  if (!getcwd(id.cwd, sizeof id.cwd)) fail("getcwd: %s", strerror(errno));

  /* The read-only input: created once, then only read. */
  {
    int fd = open_or_fail("input.txt", O_WRONLY | O_CREAT | O_TRUNC);
    static uint8_t content[INPUT_SIZE];
    for (size_t i = 0; i < INPUT_SIZE; i++) content[i] = input_byte(i);
    write_all(fd, content, INPUT_SIZE, "input.txt");
    close(fd);
  }
  int in_fd = open_or_fail("input.txt", O_RDONLY);
  if (lseek(in_fd, INPUT_START, SEEK_SET) != INPUT_START) fail("lseek input.txt");

  int log_fd = open_or_fail("log.txt", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND);
  int sh_a = open_or_fail("shared.txt", O_RDWR | O_CREAT | O_TRUNC);
  int sh_b = dup(sh_a);
  if (sh_b < 0) fail("dup: %s", strerror(errno));
  int scratch = open_or_fail("scratch.tmp", O_RDWR | O_CREAT | O_TRUNC);
  if (unlink("scratch.tmp") != 0) fail("unlink scratch.tmp: %s", strerror(errno));

  int map_fd = open_or_fail("mapped.bin", O_RDWR | O_CREAT | O_TRUNC);
  if (ftruncate(map_fd, MAP_SIZE) != 0) fail("ftruncate mapped.bin: %s", strerror(errno));
  uint64_t* map = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
  if (map == MAP_FAILED) fail("mmap mapped.bin: %s", strerror(errno));
  close(map_fd); /* the mapping alone keeps the file */

  uint64_t input_hash = 0xcbf29ce484222325ull;
  for (unsigned i = 0; i < steps; i++) {
    check_identity(&id, i);

    /* Read the next chunk of the input at the fd's own offset. */
    uint8_t chunk[READ_CHUNK];
    off_t at = lseek(in_fd, 0, SEEK_CUR);
    if (at != INPUT_START + (off_t)i * READ_CHUNK) fail("input.txt offset %jd at step %u", (intmax_t)at, i);
    read_exact(in_fd, chunk, READ_CHUNK, -1, "input.txt");
    for (unsigned k = 0; k < READ_CHUNK; k++)
      if (chunk[k] != input_byte(at + k)) fail("input.txt content at %jd", (intmax_t)(at + k));
    input_hash = fnv(input_hash, chunk, READ_CHUNK);

    char line[64];
    log_line(line, sizeof line, i);
    write_all(log_fd, line, strlen(line), "log.txt");

    /* Two fds, one offset: both must see the same position. */
    char rec[SHARED_REC];
    shared_rec(rec, i);
    off_t pa = lseek(sh_a, 0, SEEK_CUR), pb = lseek(sh_b, 0, SEEK_CUR);
    if (pa != pb || pa != (off_t)i * SHARED_REC) fail("dup'd offsets %jd/%jd at step %u", (intmax_t)pa, (intmax_t)pb, i);
    write_all(i % 2 ? sh_b : sh_a, rec, SHARED_REC, "shared.txt");

    char srec[SCRATCH_REC];
    scratch_rec(srec, i);
    write_all(scratch, srec, SCRATCH_REC, "scratch.tmp");
    struct stat st;
    if (fstat(scratch, &st) != 0 || st.st_nlink != 0 || st.st_size != (off_t)(i + 1) * SCRATCH_REC)
      fail("unlinked scratch file at step %u: nlink %ju size %jd", i, (uintmax_t)st.st_nlink, (intmax_t)st.st_size);

    /* The shared mapping: a step counter and one slot per step. */
    if (map[0] != i) fail("mapped.bin counter %" PRIu64 " at step %u", map[0], i);
    map[0] = i + 1;
    map[8 + i] = 0x1000000ull * (i + 1) + i;

    if (raise(SIGUSR1) != 0) fail("raise SIGUSR1");
    if (usr1_count != (sig_atomic_t)(i + 1)) fail("SIGUSR1 count %d at step %u", (int)usr1_count, i);

    printf("step %u\n", i);
    fflush(stdout);
    struct timespec ts = {sleep_ms / 1000, (long)(sleep_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
  }
  check_identity(&id, steps);
  raise(SIGUSR1);
  if (usr1_count != (sig_atomic_t)(steps + 1)) fail("final SIGUSR1 count %d", (int)usr1_count);

  /* Verify every file against what the steps wrote. */
  uint64_t h = input_hash;
  {
    size_t size = (size_t)steps * 16 + 1;
    char* got = calloc(1, size);
    int fd = open_or_fail("log.txt", O_RDONLY);
    ssize_t n = read(fd, got, size);
    close(fd);
    char line[64];
    size_t off = 0;
    for (unsigned i = 0; i < steps; i++) {
      log_line(line, sizeof line, i);
      if ((size_t)n < off + strlen(line) || memcmp(got + off, line, strlen(line)) != 0)
        fail("log.txt line %u differs", i);
      off += strlen(line);
    }
    if ((size_t)n != off) fail("log.txt has %zd bytes, expected %zu", n, off);
    h = fnv(h, got, off);
    free(got);
  }
  for (unsigned i = 0; i < steps; i++) {
    char want[SHARED_REC], got[SHARED_REC];
    shared_rec(want, i);
    read_exact(sh_a, got, SHARED_REC, (off_t)i * SHARED_REC, "shared.txt");
    if (memcmp(want, got, SHARED_REC) != 0) fail("shared.txt record %u differs", i);
    h = fnv(h, got, SHARED_REC);
  }
  struct stat st;
  if (fstat(sh_b, &st) != 0 || st.st_size != (off_t)steps * SHARED_REC) fail("shared.txt size %jd", (intmax_t)st.st_size);
  for (unsigned i = 0; i < steps; i++) {
    char want[SCRATCH_REC], got[SCRATCH_REC];
    scratch_rec(want, i);
    read_exact(scratch, got, SCRATCH_REC, (off_t)i * SCRATCH_REC, "unlinked scratch file");
    if (memcmp(want, got, SCRATCH_REC) != 0) fail("unlinked scratch record %u differs", i);
    h = fnv(h, got, SCRATCH_REC);
  }
  if (msync(map, MAP_SIZE, MS_SYNC) != 0) fail("msync: %s", strerror(errno));
  {
    uint64_t disk[MAP_SIZE / 8];
    int fd = open_or_fail("mapped.bin", O_RDONLY);
    read_exact(fd, disk, MAP_SIZE, 0, "mapped.bin");
    close(fd);
    if (memcmp(disk, map, MAP_SIZE) != 0) fail("mapped.bin on disk differs from the mapping");
    if (map[0] != steps) fail("mapped.bin counter %" PRIu64, map[0]);
    for (unsigned i = 0; i < steps; i++)
      if (map[8 + i] != 0x1000000ull * (i + 1) + i) fail("mapped.bin slot %u", i);
    h = fnv(h, disk, MAP_SIZE);
  }
  if (lseek(in_fd, 0, SEEK_CUR) != INPUT_START + (off_t)steps * READ_CHUNK) fail("final input.txt offset");

  printf("files: log %u lines, shared %u records, unlinked %u records, mapped %u slots\n", steps, steps, steps,
         steps);
  printf("signals: SIGUSR1 handled %d times, SIGUSR2 blocked\n", (int)usr1_count);
  printf("hash %016" PRIx64 "\n", h);
  printf("OK\n");
  fflush(stdout);
  return 0;
}
