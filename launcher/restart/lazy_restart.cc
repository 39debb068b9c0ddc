// Lazy restart, ckpt_restart's side: which regions wait, the userfaultfd, and
// the filler's start (see lazy_restart.h).
#include "lazy_restart.h"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "launcher/restart/lazy_filler.h"

namespace ckpt {
namespace {

using image::RegionKind;

bool holds_a_stack_pointer(const image::LoadedImage& img, const image::RegionRecord& r) {
  for (const auto& t : img.threads)
    if (t.ctx.rsp >= r.start && t.ctx.rsp < r.end) return true;
  return false;
}

// Stored bytes per region, from the chunk index.
std::vector<uint64_t> stored_bytes(const image::LoadedImage& img) {
  std::vector<uint64_t> bytes(img.regions.size(), 0);
  for (const auto& c : img.chunks)
    if (c.hdr.region < bytes.size()) bytes[c.hdr.region] += uint64_t{c.hdr.stored_pages} * 4096;
  return bytes;
}

bool lazy_candidate(const image::LoadedImage& img, const image::RegionRecord& r) {
  bool anon = r.kind == RegionKind::kAnon || r.kind == RegionKind::kHeap;
  return anon && r.has_content == image::kContentFull && r.end - r.start >= kLazyMinBytes &&
         !holds_a_stack_pointer(img, r);
}

int open_userfaultfd(std::string* warning) {
  int fd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  if (fd < 0) {
    *warning = std::string("lazy restart unavailable (userfaultfd: ") + std::strerror(errno) +
               "); restarting eagerly";
    return -1;
  }
  uffdio_api api = {};
  api.api = UFFD_API;
  api.features = UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP;
  if (ioctl(fd, UFFDIO_API, &api) != 0) {
    *warning = std::string("lazy restart unavailable (userfaultfd features: ") +
               std::strerror(errno) + "); restarting eagerly";
    close(fd);
    return -1;
  }
  return fd;
}

// Closes every descriptor but those in keep (sorted), and points 0 and 1 at
// /dev/null.
void keep_only(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  int from = 0;
  for (int k : keep) {
    if (k > from) syscall(SYS_close_range, from, k - 1, 0);
    from = k + 1;
  }
  syscall(SYS_close_range, from, ~0u, 0);
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    if (null != 0) dup2(null, 0);
    if (null != 1) dup2(null, 1);
    if (null > 1) close(null);
  }
}

// The filler's process: its own session (terminal signals are the job's, not
// its), deaf to the usual signals, a name that says what it is.
void become_filler() {
  setsid();
  prctl(PR_SET_NAME, "ckpt_lazyfill", 0, 0, 0);
  for (int s :
       {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU})
    signal(s, SIG_IGN);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // The OOM killer should take anything else first (it may not, without
  // CAP_SYS_RESOURCE: then the setting stays as it was).
  int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (write(fd, "-1000", 5) < 0) {
    }
    close(fd);
  }
}

// A descriptor moved to min_fd or above, out of the application's way (where
// it is when RLIMIT_NOFILE does not allow that).
int out_of_the_way(int fd, int min_fd) {
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, min_fd);
  if (moved < 0) return fd;
  close(fd);
  return moved;
}

// CKPT_LAZY_THREADS, or the CPUs (at most 4).
int decode_threads() {
  if (const char* v = getenv("CKPT_LAZY_THREADS"); v && *v) return std::clamp(atoi(v), 1, 64);
  return static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
}

}  // namespace

bool lazy_requested(bool option) {
  if (option) return true;
  const char* v = getenv("CKPT_LAZY");
  return v && std::strcmp(v, "1") == 0;
}

LazyPlan open_lazy(const image::LoadedImage& img, std::string* warning) {
  LazyPlan plan;
  plan.lazy.assign(img.regions.size(), 0);
  std::vector<uint64_t> bytes = stored_bytes(img);
  uint32_t ranges = 0;
  for (uint32_t i = 0; i < img.regions.size() && ranges < kMaxLazyRanges; i++) {
    if (!lazy_candidate(img, img.regions[i]) || bytes[i] == 0) continue;
    plan.lazy[i] = 1;
    plan.lazy_bytes += bytes[i];
    ranges++;
  }
  if (!plan.any()) return plan;
  plan.uffd = open_userfaultfd(warning);
  if (plan.uffd < 0) {
    plan.lazy.assign(img.regions.size(), 0);
    plan.lazy_bytes = 0;
  }
  return plan;
}

bool start_lazy_filler(const image::LoadedImage& img, LazyPlan& plan, int report_fd, int min_fd,
                       RestoreArgs* args, std::string* err) {
  int image_fd = open(img.path.c_str(), O_RDONLY | O_CLOEXEC);
  int go[2], done[2];
  if (image_fd < 0 || pipe2(go, O_CLOEXEC) != 0 ||
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, done) != 0) {
    *err = std::string("lazy restart: cannot set up the filler: ") + std::strerror(errno);
    return false;
  }
  const char* mbps = getenv("CKPT_LAZY_MBPS");
  const char* verbose = getenv("CKPT_VERBOSE");
  FillerSetup setup{&img,
                    &plan.lazy,
                    image_fd,
                    plan.uffd,
                    go[0],
                    done[1],
                    report_fd,
                    getpid(),
                    mbps ? static_cast<uint32_t>(atoi(mbps)) : 0,
                    verbose && *verbose && std::strcmp(verbose, "0") != 0,
                    decode_threads()};
  pid_t middle = fork();
  if (middle == 0) {
    // Twice, so that the filler is nobody's child in the job.
    pid_t filler = fork();
    if (filler != 0) _exit(filler < 0 ? 1 : 0);
    become_filler();
    keep_only({image_fd, plan.uffd, go[0], done[1], report_fd});
    run_filler(setup);
  }
  int status = 1;
  if (middle > 0) waitpid(middle, &status, 0);
  close(image_fd);
  close(go[0]);
  close(done[1]);
  if (status != 0) {
    *err = "lazy restart: cannot start the filler process";
    return false;
  }
  int done_fd = out_of_the_way(done[0], min_fd);
  plan.uffd = out_of_the_way(plan.uffd, min_fd);  // the restored runtime keeps it
  args->n_lazy = 0;
  for (uint32_t i = 0; i < img.regions.size(); i++)
    if (plan.lazy[i])
      args->lazy_ranges[args->n_lazy++] = {img.regions[i].start,
                                           img.regions[i].end - img.regions[i].start};
  args->lazy_uffd = plan.uffd;
  args->lazy_go_fd = go[1];
  args->lazy_done_fd = done_fd;
  return true;
}

}  // namespace ckpt
