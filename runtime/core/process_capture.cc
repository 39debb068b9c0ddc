// Process, Threads and Signals sections (see process_capture.h).
#include "process_capture.h"

#include <sys/prctl.h>
#include <sys/syscall.h>

#include "children.h"
#include "ckpt/image_format.h"
#include "ckpt/restore_args.h"
#include "ckpt/sys.h"
#include "proc_files.h"
#include "process_name.h"

namespace ckpt {
namespace {

char g_cmdline[8192];
size_t g_cmdline_size = 0;

// Fields 26..51 of /proc/self/stat that describe the mm layout.
void read_mm_layout(image::MmLayout& mm) {
  char buf[2048];
  ByteWriter text(buf, sizeof(buf));
  if (!read_whole_file("/proc/self/stat", text)) return;
  std::string_view s(buf, text.size());
  size_t paren = s.rfind(')');
  if (paren == std::string_view::npos) return;
  s.remove_prefix(paren + 2);  // now at field 3
  uint64_t field[53] = {};
  int index = 3;
  while (!s.empty() && index < 53) {
    uint64_t v = 0;
    size_t i = 0;
    bool neg = s[0] == '-';
    if (neg) i++;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; i++) v = v * 10 + (s[i] - '0');
    if (!(i < s.size() && s[i] == ' ') && i != s.size()) {
      // a non-numeric field (state): skip it
      for (; i < s.size() && s[i] != ' '; i++) {
      }
    }
    field[index++] = neg ? 0 : v;
    s.remove_prefix(i < s.size() ? i + 1 : s.size());
  }
  mm.start_code = field[26];
  mm.end_code = field[27];
  mm.start_stack = field[28];
  mm.start_data = field[45];
  mm.end_data = field[46];
  mm.start_brk = field[47];
  mm.arg_start = field[48];
  mm.arg_end = field[49];
  mm.env_start = field[50];
  mm.env_end = field[51];
  mm.brk = static_cast<uint64_t>(sys::call1(SYS_brk, 0));
}

int32_t to_virtual(const Runtime& rt, long real) {
  if (real == rt.real_pid) return rt.vpid;
  return rt.pids.to_virtual(static_cast<int32_t>(real));
}

}  // namespace

void remember_cmdline() {
  ByteWriter w(g_cmdline, sizeof(g_cmdline));
  read_whole_file("/proc/self/cmdline", w);
  g_cmdline_size = w.size();
}

bool capture_process(const Runtime& rt, ByteWriter& out, MessageString& err) {
  image::ProcessRecord p;
  p.vpid = rt.vpid;
  p.vppid = rt.vppid;
  p.vpgid = to_virtual(rt, sys::call1(SYS_getpgid, 0));
  p.vsid = to_virtual(rt, sys::call1(SYS_getsid, 0));
  p.real_pid = rt.real_pid;
  p.uid = static_cast<uint32_t>(sys::call0(SYS_getuid));
  p.gid = static_cast<uint32_t>(sys::call0(SYS_getgid));
  long mask = sys::call1(SYS_umask, 022);
  sys::call1(SYS_umask, mask);
  p.umask = static_cast<uint32_t>(mask);
  p.restart_count = rt.restart_count;
  p.host = rt.host;
  p.exe = rt.exe;
  p.cmdline = std::string_view(g_cmdline, g_cmdline_size);
  PathString cwd;
  if (!read_link("/proc/self/cwd", cwd)) {
    err.append("cannot read the current directory");
    return false;
  }
  p.cwd = cwd.view();
  char comm[17] = {};
  sys::prctl(PR_GET_NAME, reinterpret_cast<long>(comm), 0, 0, 0);
  p.comm = process_name()[0] ? process_name() : comm;
  for (int i = 0; i < image::kNumRlimits; i++) {
    uint64_t lim[2] = {~0ull, ~0ull};
    sys::call4(SYS_prlimit64, 0, i, 0, reinterpret_cast<long>(lim));
    p.rlimits[i] = {lim[0], lim[1]};
  }
  read_mm_layout(p.mm);
  p.restart_hook = reinterpret_cast<uint64_t>(&rt.restore_args);
  p.children = children_records();
  p.encode(out);
  return !out.overflow();
}

void capture_threads(const Runtime& rt, int32_t stopped_threads, ByteWriter& out) {
  out.put_u32(static_cast<uint32_t>(stopped_threads + 1));
  image::ThreadRecord ckpt_thread;
  ckpt_thread.vtid = rt.ckpt_tid;
  ckpt_thread.real_tid = rt.ckpt_tid;
  ckpt_thread.is_ckpt_thread = 1;
  ckpt_thread.fs_base = rt.ckpt_fs_base;
  ckpt_thread.tid_addr = rt.tid_offset >= 0 ? rt.ckpt_fs_base + rt.tid_offset : 0;
  ckpt_thread.ctx = rt.ckpt_ctx;
  ckpt_thread.encode(out);
  for (int32_t i = 0; i < stopped_threads; i++) {
    const ThreadSlot& s = rt.threads[i];
    image::ThreadRecord t;
    t.vtid = s.vtid ? s.vtid : s.real_tid;
    t.real_tid = s.real_tid;
    t.fs_base = s.fs_base;
    t.tid_addr = rt.tid_offset >= 0 ? s.fs_base + rt.tid_offset : 0;
    t.ctx = s.ctx;
    t.encode(out);
  }
}

void capture_affinity(const Runtime& rt, int32_t stopped_threads, ByteWriter& out) {
  uint32_t count = 0;
  size_t count_at = out.size();
  out.put_u32(0);  // patched below: threads that ended meanwhile are left out
  for (int32_t i = 0; i < stopped_threads; i++) {
    const ThreadSlot& s = rt.threads[i];
    alignas(8) uint8_t mask[image::kMaxCpuMaskBytes];
    long n =
        sys::call3(SYS_sched_getaffinity, s.real_tid, sizeof(mask), reinterpret_cast<long>(mask));
    if (n <= 0) continue;
    image::CpuAffinityRecord r;
    r.vtid = s.vtid ? s.vtid : s.real_tid;
    r.mask = std::string_view(reinterpret_cast<const char*>(mask), static_cast<size_t>(n));
    r.encode(out);
    count++;
  }
  if (!out.overflow()) {
    uint8_t le[4] = {static_cast<uint8_t>(count), static_cast<uint8_t>(count >> 8),
                     static_cast<uint8_t>(count >> 16), static_cast<uint8_t>(count >> 24)};
    __builtin_memcpy(out.mutable_data() + count_at, le, sizeof(le));
  }
}

void capture_signals(ByteWriter& out) {
  out.put_u32(64);
  for (uint32_t sig = 1; sig <= 64; sig++) {
    KernelSigaction act = {};
    sys::call4(sys::kRtSigaction, sig, 0, reinterpret_cast<long>(&act), 8);
    image::SignalRecord r;
    r.signo = sig;
    r.handler = act.handler;
    r.flags = act.flags;
    r.restorer = act.restorer;
    r.mask = act.mask;
    r.encode(out);
  }
}

}  // namespace ckpt
