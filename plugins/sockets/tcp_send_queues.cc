// TCP send queues taken in the Suspend phase (see tcp_send_queues.h).
#include "tcp_send_queues.h"

#include <sys/stat.h>
#include <sys/syscall.h>

#include "ckpt/byte_codec.h"
#include "ckpt/sys.h"
#include "runtime/core/proc_files.h"
#include "socket_capture.h"

namespace ckpt {
namespace {

// One record per socket: u64 dev, u64 ino, u32 image length, then the
// image bytes (u32 send_seq, u32 length, the send queue).
ByteWriter g_queues;
int g_count = 0;

// Calls f(dev, ino, image bytes) for each record until it returns true.
template <typename F>
bool find_record(F&& f) {
  ByteReader in(g_queues.data(), g_queues.size());
  for (int i = 0; i < g_count; i++) {
    uint64_t dev = in.u64();
    uint64_t ino = in.u64();
    uint32_t len = in.u32();
    const uint8_t* bytes = in.bytes(len);
    if (!in.ok()) return false;
    if (f(dev, ino, std::string_view(reinterpret_cast<const char*>(bytes), len))) return true;
  }
  return false;
}

bool skipped(int fd, const int* skip, int n_skip) {
  for (int i = 0; i < n_skip; i++)
    if (skip[i] == fd) return true;
  return false;
}

// One descriptor: a record when it is a connected TCP socket not seen yet
// (dup'd descriptors share a socket).
bool take_one(int fd, MessageString& err) {
  struct stat st;
  if (sys::call2(SYS_fstat, fd, reinterpret_cast<long>(&st)) < 0 || !S_ISSOCK(st.st_mode))
    return true;
  std::string_view seen;
  if (taken_tcp_send_queue(st.st_dev, st.st_ino, &seen)) return true;
  size_t start = g_queues.size();
  g_queues.put_u64(st.st_dev);
  g_queues.put_u64(st.st_ino);
  size_t len_at = g_queues.reserve(4);
  bool taken = false;
  if (!take_tcp_send_queue(fd, g_queues, &taken, err)) return false;
  if (g_queues.overflow()) {
    err.append("fd ").append_int(fd).append(" (socket): out of memory copying the TCP send queue");
    return false;
  }
  if (!taken) {
    g_queues.truncate(start);
    return true;
  }
  g_queues.patch_u32(len_at, static_cast<uint32_t>(g_queues.size() - len_at - 4));
  g_count++;
  return true;
}

}  // namespace

bool take_tcp_send_queues(const int* skip, int n_skip, MessageString& err) {
  drop_tcp_send_queues();
  bool ok = true;
  bool listed = for_each_numbered_entry("/proc/self/fd", [&](long fd, int dir) {
    if (ok && fd != dir && !skipped(static_cast<int>(fd), skip, n_skip))
      ok = take_one(static_cast<int>(fd), err);
  });
  if (!listed && ok) {
    err.append("cannot list /proc/self/fd");
    ok = false;
  }
  if (!ok) drop_tcp_send_queues();
  return ok;
}

bool taken_tcp_send_queue(uint64_t dev, uint64_t ino, std::string_view* image_bytes) {
  return find_record([&](uint64_t d, uint64_t i, std::string_view bytes) {
    if (d != dev || i != ino) return false;
    *image_bytes = bytes;
    return true;
  });
}

void drop_tcp_send_queues() {
  g_queues.release();
  g_count = 0;
}

int taken_tcp_send_queue_count() { return g_count; }

}  // namespace ckpt
