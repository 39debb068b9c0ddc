/* pty_driver: drives an interactive python3 through a pseudo-terminal, for
 * the process-trees e2e scenario.
 *
 *   pty_driver PYTHON [STEPS=60] [PAUSE_MS=150]
 *
 * It opens a pty master (posix_openpt, grantpt, unlockpt), sets the slave's
 * termios (canonical, no echo, OPOST|ONLCR, 19200 baud, VMIN 1) and window
 * size (37 x 101) through the master, and forks a child that becomes a
 * session leader, opens the slave as its controlling terminal (TIOCSCTTY),
 * makes it its stdin/stdout/stderr and execs "PYTHON -I -S -q -u -i" with
 * TERM=dumb, PYTHON_BASIC_REPL=1 and no PYTHONSTARTUP (isolated mode imports
 * no readline, which would switch the terminal to raw mode while it waits:
 * the kernel's line discipline does the editing and the output is only what
 * python prints, then the ">>> " prompt).
 *
 * Per step s it sends "x = x + <s % 7 + 3>", "L.append(x)" and
 * "print(x * 7, sum(L) % 1000003)", reads up to each prompt, checks the
 * answer against its own computation, writes it to results.txt, sleeps
 * PAUSE_MS and prints "step s: <answer>". Every 10th step python reports its
 * terminal: the window size, the termios lflag, that it leads its session
 * and is the foreground process group. Each step the driver checks through
 * the master that the termios are still exactly as it set them and that the
 * slave's session and foreground group are the child's pid (as fork()
 * returned it). At the end it sends "raise SystemExit(4)", reads to the end
 * of the terminal and reaps the child by its pid: status 4. On a mismatch
 * "FAIL: reason", exit 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "test_common.h"

#define PROMPT ">>> "
#define LFLAG (ICANON | ISIG | IEXTEN)

static int master;
static struct termios want_tio;

static void set_terminal(void) {
  struct termios t;
  if (tcgetattr(master, &t) != 0) fail("tcgetattr(master): %s", strerror(errno));
  t.c_iflag = ICRNL | IUTF8;
  t.c_oflag = OPOST | ONLCR;
  t.c_lflag = LFLAG;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  t.c_cc[VINTR] = 3;
  t.c_cc[VERASE] = 0x7f;
  t.c_cc[VKILL] = 0x15;
  t.c_cc[VEOF] = 4;
  cfsetispeed(&t, B19200);
  cfsetospeed(&t, B19200);
  if (tcsetattr(master, TCSANOW, &t) != 0) fail("tcsetattr: %s", strerror(errno));
  if (tcgetattr(master, &want_tio) != 0) fail("tcgetattr(master): %s", strerror(errno));
  struct winsize ws = {.ws_row = 37, .ws_col = 101};
  if (ioctl(master, TIOCSWINSZ, &ws) != 0) fail("TIOCSWINSZ: %s", strerror(errno));
}

static void check_terminal(int s, pid_t child) {
  struct termios t;
  if (tcgetattr(master, &t) != 0) fail("step %d: tcgetattr(master): %s", s, strerror(errno));
  if (t.c_iflag != want_tio.c_iflag || t.c_oflag != want_tio.c_oflag ||
      t.c_lflag != want_tio.c_lflag || t.c_cflag != want_tio.c_cflag ||
      memcmp(t.c_cc, want_tio.c_cc, sizeof t.c_cc) != 0 || cfgetispeed(&t) != B19200 ||
      cfgetospeed(&t) != B19200)
    fail("step %d: termios changed: iflag %o oflag %o lflag %o cflag %o, set %o %o %o %o", s,
         t.c_iflag, t.c_oflag, t.c_lflag, t.c_cflag, want_tio.c_iflag, want_tio.c_oflag,
         want_tio.c_lflag, want_tio.c_cflag);
  struct winsize ws;
  if (ioctl(master, TIOCGWINSZ, &ws) != 0 || ws.ws_row != 37 || ws.ws_col != 101)
    fail("step %d: window size is %d x %d, set 37 x 101", s, ws.ws_row, ws.ws_col);
  pid_t sid = tcgetsid(master), pgrp = tcgetpgrp(master);
  if (sid != child || pgrp != child)
    fail("step %d: the slave's session is %d and foreground group %d, expected the child %d", s,
         (int)sid, (int)pgrp, (int)child);
}

/* Reads from the master until the output ends with the prompt; returns what
 * came before it (NUL-terminated in buf). */
static char* read_answer(char* buf, size_t cap, const char* what) {
  size_t len = 0;
  size_t plen = strlen(PROMPT);
  for (;;) {
    if (len >= plen && memcmp(buf + len - plen, PROMPT, plen) == 0) {
      buf[len - plen] = 0;
      return buf;
    }
    struct pollfd p = {master, POLLIN, 0};
    int r = poll(&p, 1, 20000);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0)
      fail("%s: no prompt from python within 20 s (got %zu bytes: \"%.*s\")", what, len, (int)len,
           buf);
    if (len + 1 >= cap) fail("%s: answer too long", what);
    ssize_t n = read(master, buf + len, cap - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("%s: read(master): %s", what, n < 0 ? strerror(errno) : "end of file");
    len += (size_t)n;
  }
}

/* Sends one line and returns python's output up to the next prompt. */
static char* say(const char* line, char* buf, size_t cap) {
  char out[512];
  int n = snprintf(out, sizeof out, "%s\n", line);
  write_all(master, out, (size_t)n, line);
  return read_answer(buf, cap, line);
}

static void say_quiet(const char* line) {
  char buf[4096];
  char* got = say(line, buf, sizeof buf);
  if (*got) fail("\"%s\" printed \"%s\", expected nothing", line, got);
}

static void start_python(const char* python, pid_t* child) {
  master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
    fail("posix_openpt: %s", strerror(errno));
  const char* slave_name = ptsname(master);
  if (!slave_name) fail("ptsname: %s", strerror(errno));
  set_terminal();
  fflush(stdout);
  *child = fork();
  if (*child < 0) fail("fork: %s", strerror(errno));
  if (*child > 0) return;
  if (setsid() < 0) _exit(120);
  int slave = open(slave_name, O_RDWR);
  if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) != 0) _exit(121);
  if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0) _exit(122);
  if (slave > 2) close(slave);
  close(master);
  setenv("TERM", "dumb", 1);
  setenv("PYTHON_BASIC_REPL", "1", 1);
  unsetenv("PYTHONSTARTUP");
  unsetenv("PYTHONPATH");
  unsetenv("PYTHONHOME");
  execl(python, python, "-I", "-S", "-q", "-u", "-i", (char*)NULL);
  _exit(123);
}

int main(int argc, char** argv) {
  if (argc < 2) fail("usage: pty_driver PYTHON [STEPS] [PAUSE_MS]");
  int steps = argc > 2 ? atoi(argv[2]) : 60;
  int pause_ms = argc > 3 ? atoi(argv[3]) : 150;
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  FILE* results = fopen("results.txt", "w");
  if (!results) fail("results.txt: %s", strerror(errno));

  pid_t child;
  start_python(argv[1], &child);
  char buf[4096];
  char* banner = read_answer(buf, sizeof buf, "start");
  if (*banner) fail("python printed \"%s\" before its first prompt", banner);
  say_quiet("import os, termios");
  say_quiet("x = 0");
  say_quiet("L = []");

  long long x = 0, sum = 0;
  char line[512], want[512];
  for (int s = 0; s < steps; s++) {
    check_terminal(s, child);
    snprintf(line, sizeof line, "x = x + %d", s % 7 + 3);
    say_quiet(line);
    x += s % 7 + 3;
    sum += x;
    say_quiet("L.append(x)");
    char* got = say("print(x * 7, sum(L) % 1000003)", buf, sizeof buf);
    snprintf(want, sizeof want, "%lld %lld\r\n", x * 7, sum % 1000003);
    if (strcmp(got, want) != 0)
      fail("step %d: python answered \"%s\", expected \"%s\"", s, got, want);
    fprintf(results, "%d: %s", s, got);
    char answer[64];
    snprintf(answer, sizeof answer, "%.*s", (int)strcspn(got, "\r\n"), got);
    if (s % 10 == 9) {
      snprintf(line, sizeof line,
               "print(os.get_terminal_size(0), termios.tcgetattr(0)[3] == %d, os.getsid(0) == "
               "os.getpid(), "
               "os.tcgetpgrp(0) == os.getpgrp())",
               (int)want_tio.c_lflag);
      got = say(line, buf, sizeof buf);
      const char* tty_want = "os.terminal_size(columns=101, lines=37) True True True\r\n";
      if (strcmp(got, tty_want) != 0) fail("step %d: python sees its terminal as \"%s\"", s, got);
      fprintf(results, "%d: %s", s, got);
    }
    fflush(results);
    msleep(pause_ms);
    printf("step %d: %s\n", s, answer);
  }

  write_all(master, "raise SystemExit(4)\n", 20, "exit line");
  for (;;) { /* python's last output, then EIO once the slave is closed */
    ssize_t n = read(master, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    fail("python printed \"%.*s\" while exiting", (int)n, buf);
  }
  expect_exit(child, 4, "reaping python");
  fclose(results);
  printf("x %lld sum %lld\nOK\n", x, sum);
  return 0;
}
