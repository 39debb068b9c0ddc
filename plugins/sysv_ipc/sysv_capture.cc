// System V semaphore sets and message queues at a checkpoint (see
// sysv_capture.h).
#include "sysv_capture.h"

#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/syscall.h>

#include "ckpt/image_format.h"
#include "ckpt/sys.h"
#include "runtime/core/proc_files.h"
#include "runtime/core/runtime.h"

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

namespace ckpt {
namespace {

using image::SysvKind;
using image::SysvRecord;

// Removed since the process used it (or never valid): nothing to save.
bool gone(long r) { return r == -EINVAL || r == -EIDRM; }

bool seen_before(const SysvIdSet& set, int i) {
  for (int j = 0; j < i; j++)
    if (set.at(j) == set.at(i)) return true;
  return false;
}

// Reserves `n` bytes of `out` for data that follows the record's head.
uint8_t* reserve(ByteWriter& out, size_t n, size_t* at) {
  *at = out.reserve(n);
  return out.overflow() ? nullptr : out.mutable_data() + *at;
}

SysvRecord record_of(SysvKind kind, int32_t virt, const ipc_perm& perm, uint64_t count) {
  SysvRecord rec;
  rec.kind = kind;
  rec.id = virt;
  rec.key = perm.__key;
  rec.mode = perm.mode & 0777;
  rec.count = static_cast<uint32_t>(count);
  return rec;
}

int read_error(const char* what, int32_t virt, long e, MessageString& err) {
  err.append("cannot read System V ").append(what).append(' ').append_int(virt).append(": ");
  err.append(errno_name(-e));
  if (e == -ENOSYS) err.append(" (MSG_COPY needs a kernel with CONFIG_CHECKPOINT_RESTORE)");
  return -1;
}

// 1 saved, 0 gone, -1 error.
int capture_semaphores(int32_t virt, int32_t real, ByteWriter& out, MessageString& err) {
  semid_ds ds;
  long r = sys::call4(SYS_semctl, real, 0, IPC_STAT, reinterpret_cast<long>(&ds));
  if (gone(r)) return 0;
  if (r < 0) return read_error("semaphore set", virt, r, err);
  SysvRecord rec = record_of(SysvKind::kSemaphores, virt, ds.sem_perm, ds.sem_nsems);
  rec.encode_head(out);
  out.put_u32(rec.count * 2);
  size_t at;
  uint8_t* values = reserve(out, rec.count * 2, &at);
  if (!values) return err.append("out of memory"), -1;
  r = sys::call4(SYS_semctl, real, 0, GETALL, reinterpret_cast<long>(values));
  return r < 0 ? read_error("semaphore set", virt, r, err) : 1;
}

int capture_messages(int32_t virt, int32_t real, ByteWriter& out, MessageString& err) {
  msqid_ds ds;
  long r = sys::call3(SYS_msgctl, real, IPC_STAT, reinterpret_cast<long>(&ds));
  if (gone(r)) return 0;
  if (r < 0) return read_error("message queue", virt, r, err);
  SysvRecord rec = record_of(SysvKind::kMessages, virt, ds.msg_perm, ds.msg_qnum);
  rec.qbytes = ds.msg_qbytes;
  rec.encode_head(out);
  size_t len_at = out.reserve(4);
  size_t start = out.size();
  // No message is longer than all of them together.
  size_t most = ds.__msg_cbytes;
  for (uint32_t i = 0; i < rec.count; i++) {
    // u32 length, then what msgrcv writes: a long mtype and the text.
    size_t at;
    uint8_t* p = reserve(out, 4 + sizeof(long) + most, &at);
    if (!p) return err.append("out of memory"), -1;
    r = sys::call5(SYS_msgrcv, real, reinterpret_cast<long>(p + 4), static_cast<long>(most), i,
                   IPC_NOWAIT | MSG_COPY);
    if (r < 0) return read_error("message queue", virt, r, err);
    out.patch_u32(at, static_cast<uint32_t>(r));
    out.truncate(at + 4 + sizeof(long) + static_cast<size_t>(r));
  }
  out.patch_u32(len_at, static_cast<uint32_t>(out.size() - start));
  return 1;
}

// Every object of one kind the process used, once; adds to `count`.
template <typename Capture>
bool capture_kind(const SysvIdSet& used, const SysvIdTable& ids, Capture capture, ByteWriter& out,
                  uint32_t& count, MessageString& err) {
  for (int i = 0; i < used.size(); i++) {
    int32_t virt = used.at(i);
    if (virt < 0 || seen_before(used, i)) continue;
    size_t mark = out.size();
    int r = capture(virt, ids.to_real(virt), out, err);
    if (r < 0) return false;
    if (r == 0) out.truncate(mark);
    count += static_cast<uint32_t>(r);
  }
  return true;
}

}  // namespace

bool capture_sysv_objects(const Runtime& rt, ByteWriter& out, MessageString& err) {
  out.clear();
  if (rt.used_sems.size() == 0 && rt.used_msgs.size() == 0) return true;
  for (const SysvIdSet* used : {&rt.used_sems, &rt.used_msgs})
    if (used->full()) {
      err.append("used more than ")
          .append_int(SysvIdSet::kMax)
          .append(used == &rt.used_sems ? " System V semaphore sets" : " System V message queues")
          .append(": not supported");
      return false;
    }
  size_t count_at = out.reserve(4);
  uint32_t count = 0;
  if (!capture_kind(rt.used_sems, rt.semids, capture_semaphores, out, count, err) ||
      !capture_kind(rt.used_msgs, rt.msgids, capture_messages, out, count, err))
    return false;
  if (out.overflow()) return err.append("out of memory"), false;
  if (count == 0) {
    out.clear();
    return true;
  }
  out.patch_u32(count_at, count);
  return true;
}

}  // namespace ckpt
