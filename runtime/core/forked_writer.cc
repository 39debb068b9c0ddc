// The forked image writer (see forked_writer.h).
#include "forked_writer.h"

#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "ckpt/sys.h"
#include "memory_capture.h"
#include "runtime_ranges.h"

namespace ckpt {
namespace {

// What the child reports, in a shared page.
struct WriterResult {
  int32_t done;
  int32_t ok;
  uint64_t bytes;
  ImageIdentity identity;
  char error[512];
  uint32_t n_huge;
  Range huge[200];  // regions backed by transparent huge pages
};
static_assert(sizeof(WriterResult) <= 4096);

constexpr int kMadvCollapse = 25;

// Copy-on-write after the fork split the application's huge pages into
// small ones; put them back together now that the writer is done.
void collapse_huge_pages(const WriterResult& r) {
  for (uint32_t i = 0; i < r.n_huge && i < 200; i++)
    sys::call3(SYS_madvise, static_cast<long>(r.huge[i].start),
               static_cast<long>(r.huge[i].end - r.huge[i].start), kMadvCollapse);
}

long g_child = 0;
long g_exiting = 0;  // a writer that reported and is still exiting: reaped later
WriterResult* g_result = nullptr;

// Waits for the writer's report, or for its death without one. *reaped:
// whether the writer was collected here (a writer that reported may still
// be exiting). *status: its wait status when reaped.
void wait_report(bool* reaped, int* status) {
  *reaped = false;
  for (;;) {
    if (__atomic_load_n(&g_result->done, __ATOMIC_ACQUIRE)) return;
    long r =
        sys::call4(sys::kWait4, g_child, reinterpret_cast<long>(status), __WCLONE | WNOHANG, 0);
    if (r == g_child || (r < 0 && r != -EINTR)) {
      *reaped = true;
      return;
    }
    timespec ts = {0, 20 * 1000000L};  // the child's wake ends this at once
    sys::futex(&g_result->done, FUTEX_WAIT, 0, &ts);
  }
}

void unmap_result() {
  if (g_result) sys::munmap(g_result, 4096);
  g_result = nullptr;
}

// CKPT_WRITER_NICE=N: the writer runs N nicer than the application, which
// then keeps its CPU share when the machine is busy; the image takes longer.
int writer_nice() {
  const char* v = getenv("CKPT_WRITER_NICE");
  int n = 0;
  for (; v && *v >= '0' && *v <= '9'; v++) n = n * 10 + (*v - '0');
  return n > 39 ? 39 : n;
}

void pace_writer(int nice_delta) {
  if (nice_delta <= 0) return;
  long nice = 20 - sys::call2(SYS_getpriority, PRIO_PROCESS, 0) + nice_delta;
  sys::call3(SYS_setpriority, PRIO_PROCESS, 0, nice < 19 ? nice : 19);
}

[[noreturn]] void run_child(Runtime& rt, ImageJob& job, int nice_delta) {
  pace_writer(nice_delta);
  MessageString err;
  bool ok = write_image(rt, job, err);
  g_result->ok = ok;
  g_result->bytes = job.out.bytes;
  g_result->identity = job.out.identity;
  size_t n = err.size() < sizeof(g_result->error) - 1 ? err.size() : sizeof(g_result->error) - 1;
  std::memcpy(g_result->error, err.c_str(), n);
  g_result->error[n] = 0;
  const image::RegionRecord* regions;
  const uint32_t* huge;
  int n_huge = huge_regions(&regions, &huge);
  for (int i = 0; i < n_huge && i < 200; i++)
    g_result->huge[g_result->n_huge++] = {regions[huge[i]].start, regions[huge[i]].end};
  // The parent goes on as soon as it sees this: tearing this copy of the
  // address space down (tens of ms per GiB) is not part of the checkpoint.
  __atomic_store_n(&g_result->done, 1, __ATOMIC_RELEASE);
  sys::futex(&g_result->done, FUTEX_WAKE, INT32_MAX);
  sys::exit_group(ok ? 0 : 1);
}

}  // namespace

bool forked_writes_enabled() {
  const char* v = getenv("CKPT_FORKED");
  return !(v && *v == '0');
}

bool start_forked_writer(Runtime& rt, ImageJob& job) {
  reap_forked_writer();
  long page = sys::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page < 0) return false;
  g_result = reinterpret_cast<WriterResult*>(page);
  exclude_range(g_result, 4096);
  int nice_delta = writer_nice();  // the environment is read before the fork
  long pid = sys::call5(SYS_clone, 0 /* no exit signal */, 0, 0, 0, 0);
  if (pid == 0) run_child(rt, job, nice_delta);
  if (pid < 0) {
    unmap_result();
    return false;
  }
  g_child = pid;
  sys::close(job.fd);  // the child has its own
  job.fd = -1;
  return true;
}

bool forked_writer_running() { return g_child > 0; }

void reap_forked_writer() {
  if (g_exiting <= 0) return;
  int status = 0;
  long r;
  do {
    r = sys::call4(sys::kWait4, g_exiting, reinterpret_cast<long>(&status), __WCLONE, 0);
  } while (r == -4 /* EINTR */);
  g_exiting = 0;
}

bool finish_forked_writer(ImageJob& job, MessageString& err) {
  int status = 0;
  bool reaped = false;
  wait_report(&reaped, &status);
  g_exiting = reaped ? 0 : g_child;
  g_child = 0;
  bool ok = g_result->done && g_result->ok;
  if (g_result->done) collapse_huge_pages(*g_result);
  if (ok) {
    job.out.bytes = g_result->bytes;
    job.out.identity = g_result->identity;
  } else if (g_result->done) {
    err.append(g_result->error);
  } else {
    err.append("the image writer died");
    if (WIFSIGNALED(status)) err.append(" (signal ").append_int(WTERMSIG(status)).append(')');
    sys::unlink(job.tmp.c_str());
  }
  unmap_result();
  return ok;
}

void cancel_forked_writer(ImageJob& job) {
  if (g_child <= 0) return;
  sys::kill(g_child, SIGKILL);
  int status = 0;
  sys::call4(sys::kWait4, g_child, reinterpret_cast<long>(&status), __WCLONE, 0);
  g_child = 0;
  sys::unlink(job.tmp.c_str());
  unmap_result();
}

void drop_parent_writer() {
  unmap_result();
  g_child = 0;
  g_exiting = 0;
}

void forget_forked_writer() {
  g_child = 0;
  g_exiting = 0;
  g_result = nullptr;  // not part of the image
}

}  // namespace ckpt
