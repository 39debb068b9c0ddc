// The program's own name across restarts (see process_name.h).
#include "process_name.h"

#include <linux/futex.h>
#include <linux/prctl.h>

#include "children.h"
#include "ckpt/sys.h"
#include "proc_files.h"
#include "raw_thread.h"
#include "thread_suspend.h"

namespace ckpt {
namespace {

char g_name[16] = {};
RawThread g_marker;             // the thread named kControlThreadName after a restart
uint32_t g_marker_restart = 0;  // the restart count when it was started
int32_t g_forever = 0;

// Raw thread (no TLS, signals blocked as the checkpoint thread's): names
// itself, then sleeps until the process ends.
void marker_main(void*) {
  sys::prctl(PR_SET_NAME, reinterpret_cast<long>(kControlThreadName), 0, 0, 0);
  for (;;) sys::futex(&g_forever, FUTEX_WAIT_PRIVATE, 0, nullptr);
}

}  // namespace

void note_process_name(const Runtime& rt, int32_t stopped_threads) {
  auto pid = static_cast<int32_t>(sys::getpid());
  for (int32_t i = 0; i < stopped_threads; i++)
    if (rt.threads[i].real_tid == pid) {  // the leader is an application thread
      __builtin_memcpy(g_name, rt.threads[i].name, sizeof(g_name));
      g_name[sizeof(g_name) - 1] = 0;
      return;
    }
  // The leader is the checkpoint thread (restarted before): it carries the name.
  if (rt.ckpt_tid == pid) {
    sys::prctl(PR_GET_NAME, reinterpret_cast<long>(g_name), 0, 0, 0);
    return;
  }
  // The main thread ended (pthread_exit): the leader's name is still there.
  char buf[32];
  ByteWriter text(buf, sizeof(buf));
  if (!read_whole_file("/proc/self/comm", text)) return;
  size_t n = text.size();
  while (n > 0 && buf[n - 1] == '\n') n--;
  if (n >= sizeof(g_name)) n = sizeof(g_name) - 1;
  __builtin_memcpy(g_name, buf, n);
  g_name[n] = 0;
}

const char* process_name() { return g_name; }

void take_process_name() {
  if (g_name[0]) sys::prctl(PR_SET_NAME, reinterpret_cast<long>(g_name), 0, 0, 0);
}

void start_control_marker(uint32_t restart_count) {
  if (g_marker.stack && g_marker_restart == restart_count) return;  // running
  if (g_marker.stack) {  // the one of the process before the restart: gone
    remove_runtime_tid(g_marker.id);
    sys::munmap(g_marker.stack, g_marker.stack_size);
    g_marker.stack = nullptr;
  }
  g_marker.tid.store(0);
  g_marker_restart = restart_count;
  raw_thread_start(g_marker, marker_main, nullptr, 16 * 1024);
}

}  // namespace ckpt
