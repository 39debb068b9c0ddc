// Waiting for a lazy restart's filler (see lazy_fill.h).
#include "lazy_fill.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <atomic>

#include "ckpt/sys.h"
#include "futex.h"
#include "log.h"

namespace ckpt {
namespace {

std::atomic<int> g_done_fd{-1};     // the socket to the filler while it runs
int g_uffd = -1;                    // our copy of its userfaultfd
std::atomic<int32_t> g_checked{1};  // 0 while a filler runs and nobody saw it finish

// Reads the filler's verdict. 'D': every page is in; then our copy of the
// userfaultfd goes, the filler is told it may go too, and its end of file
// says it is gone (the registration with it). Anything else (end of file
// without 'D') means it died: the pages it did not fill are not there.
void take_verdict(int fd) {
  char c = 0;
  long n;
  while ((n = sys::read(fd, &c, 1)) == -EINTR) {
  }
  if (n != 1 || c != 'D') {
    log_line(LogLevel::kError,
             "lazy restart: the memory filler ended before every page was in; stopping this "
             "process rather than let it read missing pages as zeros");
    sys::kill(sys::getpid(), SIGKILL);
  }
  sys::close(g_uffd);
  g_uffd = -1;
  sys::call2(SYS_shutdown, fd, SHUT_WR);
  while ((n = sys::read(fd, &c, 1)) > 0 || n == -EINTR) {
  }
  sys::close(fd);
  log_line(LogLevel::kInfo, "lazy restart: every page is in");
  g_checked.store(1);
  futex_wake_all(g_checked);
}

void lazy_fill_wait(const char* what) {
  int fd = g_done_fd.load();
  if (fd >= 0) {
    if (what) log_line(LogLevel::kInfo, what);
    pollfd p = {fd, POLLIN, 0};
    while (sys::call3(SYS_poll, reinterpret_cast<long>(&p), 1, -1) == -EINTR) {
    }
    if (g_done_fd.compare_exchange_strong(fd, -1)) take_verdict(fd);
  }
  while (g_checked.load() == 0) futex_wait(g_checked, 0, 100);
}

}  // namespace

void lazy_fill_adopt(int done_fd, int uffd) {
  g_uffd = uffd;
  g_checked.store(done_fd >= 0 ? 0 : 1);
  g_done_fd.store(done_fd);
}

int lazy_fill_fd() { return g_done_fd.load(); }

void lazy_fill_settle() { lazy_fill_wait(nullptr); }

void lazy_fill_wait_before_fork() {
  lazy_fill_wait("lazy restart: fork waits until every page is in");
}

void lazy_fill_wait_before_checkpoint() {
  lazy_fill_wait("lazy restart: the checkpoint waits until every page is in");
}

}  // namespace ckpt
