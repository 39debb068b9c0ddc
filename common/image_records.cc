// Encoding and decoding of the image format's section payloads.
#include <cstring>

#include "ckpt/image_format.h"

#ifndef CKPT_BUILD_ID
#define CKPT_BUILD_ID "unknown"
#endif

namespace ckpt::image {

std::string_view build_id() { return CKPT_BUILD_ID; }

void ProcessRecord::encode(ByteWriter& w) const {
  w.put_u32(vpid);
  w.put_u32(vppid);
  w.put_u32(vpgid);
  w.put_u32(vsid);
  w.put_u32(real_pid);
  w.put_u32(uid);
  w.put_u32(gid);
  w.put_u32(umask);
  w.put_u32(restart_count);
  w.put_str(host);
  w.put_str(exe);
  w.put_str(cmdline);
  w.put_str(cwd);
  w.put_str(comm);
  w.put_u32(kNumRlimits);
  for (auto& l : rlimits) {
    w.put_u64(l.cur);
    w.put_u64(l.max);
  }
  w.put_bytes(&mm, sizeof(mm));
  w.put_u64(restart_hook);
  w.put_u64(stdio_kinds);
  w.put_str(children);
}

bool ProcessRecord::decode(ByteReader& r) {
  vpid = r.u32();
  vppid = r.u32();
  vpgid = r.u32();
  vsid = r.u32();
  real_pid = r.u32();
  uid = r.u32();
  gid = r.u32();
  umask = r.u32();
  restart_count = r.u32();
  host = r.str();
  exe = r.str();
  cmdline = r.str();
  cwd = r.str();
  comm = r.str();
  uint32_t n = r.u32();
  if (!r.ok() || n > 64) return false;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t cur = r.u64(), max = r.u64();
    if (i < kNumRlimits) rlimits[i] = {cur, max};
  }
  const uint8_t* m = r.bytes(sizeof(mm));
  if (m) std::memcpy(&mm, m, sizeof(mm));
  restart_hook = r.u64();
  stdio_kinds = r.u64();
  children = r.str();
  return r.ok() && children.size() % ChildRecord::kSize == 0;
}

void ChildRecord::encode(ByteWriter& w) const {
  w.put_u32(vpid);
  w.put_u32(real_pid);
  w.put_u32(static_cast<uint32_t>(state));
  w.put_u32(wait_code);
  w.put_u32(wait_status);
}

bool ChildRecord::decode(ByteReader& r) {
  vpid = r.u32();
  real_pid = r.u32();
  state = static_cast<ChildState>(r.u32());
  wait_code = r.u32();
  wait_status = r.u32();
  return r.ok() && state >= ChildState::kMember && state <= ChildState::kOutside;
}

void ThreadRecord::encode(ByteWriter& w) const {
  w.put_u32(vtid);
  w.put_u32(real_tid);
  w.put_u32(is_ckpt_thread);
  w.put_u64(fs_base);
  w.put_u64(tid_addr);
  w.put_bytes(&ctx, sizeof(ctx));
  w.put_u64(sigmask);
}

bool ThreadRecord::decode(ByteReader& r) {
  vtid = r.u32();
  real_tid = r.u32();
  is_ckpt_thread = r.u32();
  fs_base = r.u64();
  tid_addr = r.u64();
  const uint8_t* c = r.bytes(sizeof(ctx));
  if (c) std::memcpy(&ctx, c, sizeof(ctx));
  sigmask = r.u64();
  return r.ok();
}

void CpuAffinityRecord::encode(ByteWriter& w) const {
  w.put_u32(vtid);
  w.put_str(mask);
}

bool CpuAffinityRecord::decode(ByteReader& r) {
  vtid = r.u32();
  mask = r.str();
  return r.ok() && !mask.empty() && mask.size() <= kMaxCpuMaskBytes && mask.size() % 8 == 0;
}

void HostAddressesRecord::encode(ByteWriter& w) const {
  w.put_u32(count);
  w.put_bytes(addrs.data(), addrs.size());
}

bool HostAddressesRecord::decode(ByteReader& r) {
  count = r.u32();
  if (!r.ok() || count > kMaxHostAddresses || r.remaining() != size_t{count} * 16) return false;
  const uint8_t* p = r.bytes(size_t{count} * 16);
  if (!p && count > 0) return false;
  addrs = std::string_view(reinterpret_cast<const char*>(p), size_t{count} * 16);
  return r.ok();
}

void SignalRecord::encode(ByteWriter& w) const {
  w.put_u32(signo);
  w.put_u64(handler);
  w.put_u64(flags);
  w.put_u64(restorer);
  w.put_u64(mask);
}

bool SignalRecord::decode(ByteReader& r) {
  signo = r.u32();
  handler = r.u64();
  flags = r.u64();
  restorer = r.u64();
  mask = r.u64();
  return r.ok() && signo >= 1 && signo <= 64;
}

void FdRecord::encode(ByteWriter& w) const {
  w.put_u32(fd);
  w.put_u32(static_cast<uint32_t>(kind));
  w.put_u32(open_flags);
  w.put_u32(fd_flags);
  w.put_i64(pos);
  w.put_u32(shares_with);
  w.put_u32(mode);
  w.put_u64(dev);
  w.put_u64(ino);
  w.put_i64(size);
  w.put_u32(file_data);
  w.put_str(path);
  w.put_str(extra);
  w.put_u32(owner_pid);
  w.put_u32(owner_fd);
}

bool FdRecord::decode(ByteReader& r) {
  fd = r.u32();
  kind = static_cast<FdKind>(r.u32());
  open_flags = r.u32();
  fd_flags = r.u32();
  pos = r.i64();
  shares_with = r.u32();
  mode = r.u32();
  dev = r.u64();
  ino = r.u64();
  size = r.i64();
  file_data = r.u32();
  path = r.str();
  extra = r.str();
  owner_pid = r.u32();
  owner_fd = r.u32();
  return r.ok() && fd >= 0;
}

void FileDataHeader::encode(ByteWriter& w) const {
  w.put_u32(index);
  w.put_u64(size);
}

bool FileDataHeader::decode(ByteReader& r) {
  index = r.u32();
  size = r.u64();
  return r.ok() && size <= r.remaining();
}

void RegionRecord::encode(ByteWriter& w) const {
  w.put_u64(start);
  w.put_u64(end);
  w.put_u32(prot);
  w.put_u32(static_cast<uint32_t>(kind));
  w.put_u64(offset);
  w.put_u64(dev);
  w.put_u64(ino);
  w.put_u32(has_content);
  w.put_str(path);
  w.put_u64(file_size);
  w.put_u64(file_mtime_ns);
  w.put_u32(huge);
}

bool RegionRecord::decode(ByteReader& r) {
  start = r.u64();
  end = r.u64();
  prot = r.u32();
  kind = static_cast<RegionKind>(r.u32());
  offset = r.u64();
  dev = r.u64();
  ino = r.u64();
  has_content = r.u32();
  path = r.str();
  file_size = r.u64();
  file_mtime_ns = r.u64();
  huge = r.u32();
  return r.ok() && start < end && start % kPageSize == 0 && end % kPageSize == 0;
}

void ShmRecord::encode(ByteWriter& w) const {
  w.put_u64(dev);
  w.put_u64(ino);
  w.put_u32(static_cast<uint32_t>(kind));
  w.put_u64(size);
  w.put_u32(mode);
  w.put_u32(static_cast<uint32_t>(key));
  w.put_u32(static_cast<uint32_t>(shmid));
  w.put_u32(flags);
  w.put_str(path);
}

bool ShmRecord::decode(ByteReader& r) {
  dev = r.u64();
  ino = r.u64();
  kind = static_cast<ShmKind>(r.u32());
  size = r.u64();
  mode = r.u32();
  key = static_cast<int32_t>(r.u32());
  shmid = static_cast<int32_t>(r.u32());
  flags = r.u32();
  path = r.str();
  return r.ok() && kind >= ShmKind::kAnon && kind <= ShmKind::kSysV;
}

void SysvRecord::encode_head(ByteWriter& w) const {
  w.put_u32(static_cast<uint32_t>(kind));
  w.put_u32(static_cast<uint32_t>(id));
  w.put_u32(static_cast<uint32_t>(key));
  w.put_u32(mode);
  w.put_u32(count);
  w.put_u64(qbytes);
}

void SysvRecord::encode(ByteWriter& w) const {
  encode_head(w);
  w.put_str(data);
}

bool SysvRecord::decode(ByteReader& r) {
  kind = static_cast<SysvKind>(r.u32());
  id = static_cast<int32_t>(r.u32());
  key = static_cast<int32_t>(r.u32());
  mode = r.u32();
  count = r.u32();
  qbytes = r.u64();
  data = r.str();
  if (!r.ok() || (kind != SysvKind::kSemaphores && kind != SysvKind::kMessages)) return false;
  return kind != SysvKind::kSemaphores || data.size() == uint64_t{count} * 2;
}

void ChunkHeader::encode(ByteWriter& w) const {
  w.put_u32(region);
  w.put_u32(flags);
  w.put_u64(first_page);
  w.put_u32(page_count);
  w.put_u32(stored_pages);
  w.put_bytes(bitmap, sizeof(bitmap));
  w.put_u64(payload_size);
}

bool ChunkHeader::decode(ByteReader& r) {
  region = r.u32();
  flags = r.u32();
  first_page = r.u64();
  page_count = r.u32();
  stored_pages = r.u32();
  const uint8_t* b = r.bytes(sizeof(bitmap));
  if (b) std::memcpy(bitmap, b, sizeof(bitmap));
  payload_size = r.u64();
  if (!r.ok() || page_count == 0 || page_count > kChunkPages || stored_pages > page_count)
    return false;
  uint32_t set = 0;
  for (auto word : bitmap) set += __builtin_popcountll(word);
  return set == stored_pages && payload_size <= r.remaining();
}

void EndRecord::encode(ByteWriter& w) const {
  w.put_u64(sections);
  w.put_u64(chunks);
  w.put_u64(memory_bytes);
  w.put_u64(stored_bytes);
}

bool EndRecord::decode(ByteReader& r) {
  sections = r.u64();
  chunks = r.u64();
  memory_bytes = r.u64();
  stored_bytes = r.u64();
  return r.ok();
}

void JobDirRecord::encode(ByteWriter& w) const {
  w.put_u32(mode);
  w.put_u32(uid);
  w.put_u32(gid);
  w.put_str(path);
}

bool JobDirRecord::decode(ByteReader& r) {
  mode = r.u32();
  uid = r.u32();
  gid = r.u32();
  path = r.str();
  return r.ok() && path.starts_with('/') && mode <= 07777;
}

}  // namespace ckpt::image
