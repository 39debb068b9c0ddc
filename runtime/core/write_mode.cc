// The write mode chosen from this process's own figures (see write_mode.h).
#include "write_mode.h"

#include <fcntl.h>
#include <stdlib.h>
#include <time.h>

#include <string_view>

#include "ckpt/byte_codec.h"
#include "ckpt/sys.h"
#include "copy_first.h"
#include "fork_fence.h"
#include "log.h"
#include "proc_files.h"

namespace ckpt {
namespace {

// read_kb_fields while the application runs.
bool read_fields(const char* path, std::string_view name, uint64_t* value) {
  ForkFence fence;  // the application runs: keep its forks off our descriptor
  return read_kb_fields(path, name, value);
}

uint64_t now_ns() {
  timespec ts;
  sys::call2(sys::kClockGettime, CLOCK_MONOTONIC, reinterpret_cast<long>(&ts));
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Bytes of memory the process touches per second: the pages whose
// referenced bit is set again kTouchSampleMs after clearing them all.
uint64_t sample_touch_rate() {
  long w = -1;
  {
    ForkFence fence;  // the application runs: keep its forks off our descriptor
    long fd = sys::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ~0ull;  // cannot tell: assume it touches everything
    w = sys::write(static_cast<int>(fd), "1", 1);
    sys::close(static_cast<int>(fd));
  }
  if (w != 1) return ~0ull;
  uint64_t t0 = now_ns();
  timespec wait = {0, kTouchSampleMs * 1000000L};
  sys::call2(sys::kNanosleep, reinterpret_cast<long>(&wait), 0);
  uint64_t referenced = 0;
  if (!read_fields("/proc/self/smaps_rollup", "Referenced:", &referenced)) return ~0ull;
  uint64_t dt = now_ns() - t0;
  if (dt == 0) dt = 1;
  return static_cast<uint64_t>(static_cast<double>(referenced) * 1e9 / static_cast<double>(dt));
}

uint64_t copy_limit_from_env() {
  const char* v = getenv("CKPT_COPY_MAX_MIB");
  if (!v || !*v) return ~0ull;
  uint64_t mib = 0;
  for (; *v >= '0' && *v <= '9'; v++) mib = mib * 10 + static_cast<uint64_t>(*v - '0');
  return mib << 20;
}

// With CKPT_VERBOSE: the choice and what it rested on.
void log_choice(const WriteModeChoice& c) {
  if (!log_enabled(LogLevel::kInfo)) return;
  const WriteModeInput& in = c.input;
  MessageString line;
  line.append(c.mode == WriteMode::kCopy ? "write mode copy: " : "write mode fork: ");
  if (in.last) {
    line.append("the computation is killed once this checkpoint commits");
  } else {
    line.append_uint(in.copy_bytes >> 20).append(" MiB anonymous, touched ");
    line.append_uint(in.touched_per_s >> 20).append(" MiB/s; faults would cost ");
    line.append_uint(static_cast<uint64_t>(fork_cost_s(in) * 1000)).append(" ms, a copy ");
    line.append_uint(static_cast<uint64_t>(copy_cost_s(in) * 1000)).append(" ms");
    uint64_t missing = in.buffer_ready < in.copy_bytes ? in.copy_bytes - in.buffer_ready : 0;
    if (missing >= 1ull << 20)
      line.append(" (with ").append_uint(missing >> 20).append(" MiB of buffer to make)");
    if (c.prepare_after) line.append("; the buffer is made after this checkpoint");
  }
  log_line(LogLevel::kInfo, line.view());
}

// The last sampled rate and how many checkpoints ago it was taken.
uint64_t g_touched_per_s = 0;
int g_sample_age = -1;  // -1: never sampled

}  // namespace

WriteModeChoice choose_write_mode_now(bool last) {
  WriteModeChoice c;
  WriteModeInput& in = c.input;
  in.setting = parse_write_mode(getenv("CKPT_WRITE_MODE"));
  in.copy_limit = copy_limit_from_env();
  in.last = last;
  if (in.setting == WriteModeSetting::kFork) return c;
  if (last && in.setting == WriteModeSetting::kAuto) {  // fork, nothing to sample
    log_choice(c);
    return c;
  }
  // The kernel's counter (smaps_rollup's Anonymous: would walk every page
  // table: 15-20 ms per GiB at each checkpoint).
  if (!read_fields("/proc/self/status", "RssAnon:", &in.copy_bytes)) return c;
  read_fields("/proc/meminfo", "MemAvailable:", &in.mem_available);
  if (in.setting == WriteModeSetting::kAuto && in.copy_bytes >= kMinCopyBytes && copy_fits(in)) {
    // Clearing the referenced bits of a large process holds it up for a
    // moment (0.2-0.3 s per GiB here): sample again only every
    // kResampleEvery checkpoints.
    if (g_sample_age < 0 || g_sample_age >= kResampleEvery - 1) {
      g_touched_per_s = sample_touch_rate();
      g_sample_age = 0;
    } else {
      g_sample_age++;
    }
    in.touched_per_s = g_touched_per_s;
  }
  in.buffer_ready = copy_buffer_ready_bytes();
  c.mode = choose_write_mode(in);
  c.prepare_after = copy_wins_once_ready(in);
  if (in.setting == WriteModeSetting::kAuto && in.copy_bytes >= kMinCopyBytes) log_choice(c);
  return c;
}

}  // namespace ckpt
