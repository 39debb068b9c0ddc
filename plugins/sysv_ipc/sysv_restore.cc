// System V semaphore sets and message queues at a restart (see sysv_restore.h).
#include "sysv_restore.h"

#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>

#include <cerrno>
#include <cstring>

namespace ckpt {
namespace {

using image::SysvKind;

std::string describe(const image::SysvRecord& r) {
  std::string what =
      r.kind == SysvKind::kSemaphores ? "System V semaphore set " : "System V message queue ";
  return what + std::to_string(r.id) + " (key " + std::to_string(r.key) + ")";
}

std::string sys_error(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

SysvRestorer::SysvRestorer(const std::vector<image::LoadedImage>& images) {
  for (const auto& img : images)
    for (const auto& rec : img.sysv_objects) {
      auto [it, fresh] = objects_.try_emplace({rec.kind, rec.id});
      if (fresh) it->second.record = rec;
    }
}

bool SysvRestorer::create_semaphores(Object& o, std::string* err) {
  const image::SysvRecord& r = o.record;
  int mode = static_cast<int>(r.mode & 0777);
  int nsems = static_cast<int>(r.count);
  o.id = semget(r.key, nsems, IPC_CREAT | IPC_EXCL | mode);
  if (o.id < 0 && errno == EEXIST) {  // the set outlived the computation: reuse it
    o.id = semget(r.key, 0, mode);
    semid_ds ds;
    if (o.id >= 0 && semctl(o.id, 0, IPC_STAT, &ds) == 0 &&
        ds.sem_nsems != static_cast<unsigned long>(nsems)) {
      *err = describe(r) + " exists with " + std::to_string(ds.sem_nsems) + " semaphores, not " +
             std::to_string(nsems);
      return false;
    }
  }
  if (o.id < 0) return *err = sys_error("cannot recreate " + describe(r)), false;
  std::vector<unsigned short> values(r.count);
  std::memcpy(values.data(), r.data.data(), r.data.size());
  if (nsems > 0 && semctl(o.id, 0, SETALL, values.data()) != 0)
    return *err = sys_error("cannot set the values of " + describe(r)), false;
  return true;
}

bool SysvRestorer::create_messages(Object& o, std::string* err) {
  const image::SysvRecord& r = o.record;
  int mode = static_cast<int>(r.mode & 0777);
  o.id = msgget(r.key, IPC_CREAT | IPC_EXCL | mode);
  std::vector<char> buf;
  if (o.id < 0 && errno == EEXIST) {  // the queue outlived the computation: empty it
    o.id = msgget(r.key, mode);
    buf.resize(sizeof(long) + 65536);
    while (o.id >= 0 && msgrcv(o.id, buf.data(), 65536, 0, IPC_NOWAIT | MSG_NOERROR) >= 0) {
    }
  }
  if (o.id < 0) return *err = sys_error("cannot recreate " + describe(r)), false;
  msqid_ds ds;
  if (msgctl(o.id, IPC_STAT, &ds) == 0 && ds.msg_qbytes != r.qbytes) {
    ds.msg_qbytes = r.qbytes;
    msgctl(o.id, IPC_SET, &ds);  // raising it needs CAP_SYS_RESOURCE: msgsnd says if it matters
  }
  // Each message: u32 length, i64 mtype, the text.
  const char* p = r.data.data();
  size_t left = r.data.size();
  for (uint32_t i = 0; i < r.count; i++) {
    uint32_t len;
    if (left < 4 + sizeof(long)) return *err = "malformed " + describe(r), false;
    std::memcpy(&len, p, 4);
    if (left - 4 - sizeof(long) < len) return *err = "malformed " + describe(r), false;
    buf.assign(p + 4, p + 4 + sizeof(long) + len);
    if (msgsnd(o.id, buf.data(), len, IPC_NOWAIT) != 0)
      return *err = sys_error("cannot queue message " + std::to_string(i) + " of " + describe(r)),
             false;
    p += 4 + sizeof(long) + len;
    left -= 4 + sizeof(long) + len;
  }
  return true;
}

bool SysvRestorer::create_all(std::string* err) {
  for (auto& [key, o] : objects_) {
    bool ok = o.record.kind == SysvKind::kSemaphores ? create_semaphores(o, err)
                                                     : create_messages(o, err);
    if (!ok) return false;
  }
  return true;
}

std::vector<std::pair<int32_t, int32_t>> SysvRestorer::id_map(SysvKind kind) const {
  std::vector<std::pair<int32_t, int32_t>> out;
  for (const auto& [key, o] : objects_)
    if (key.first == kind && o.id != o.record.id) out.emplace_back(o.record.id, o.id);
  return out;
}

}  // namespace ckpt
