// Payload codecs of the coordinator protocol (see protocol.h).
#include "ckpt/protocol.h"

#include <cstring>

#include "ckpt/siphash.h"

namespace ckpt::proto {

bool Challenge::decode(ByteReader& r) {
  const uint8_t* p = r.bytes(kNonceSize);
  if (p) std::memcpy(nonce, p, kNonceSize);
  return r.ok();
}

void Hello::encode(ByteWriter& w) const {
  w.put_u64(proof);
  w.put_u8(static_cast<uint8_t>(role));
  if (role != Role::kProcess) return;
  w.put_u32(process.vpid);
  w.put_u32(process.vppid);
  w.put_u32(process.real_pid);
  w.put_u32(process.rank);
  w.put_u32(process.restart_count);
  w.put_str(process.host);
  w.put_str(process.program);
  w.put_u64(process.committed_generation);
  w.put_u8(process.rejoining);
  if (process.has_nonce) w.put_bytes(process.nonce, kNonceSize);
}

bool Hello::decode(ByteReader& r) {
  proof = r.u64();
  role = static_cast<Role>(r.u8());
  if (!r.ok()) return false;
  if (role == Role::kCommand) return true;
  if (role != Role::kProcess) return false;
  process.vpid = r.u32();
  process.vppid = r.u32();
  process.real_pid = r.u32();
  process.rank = r.u32();
  process.restart_count = r.u32();
  process.host = r.str();
  process.program = r.str();
  if (r.ok() && r.remaining() > 0) {  // absent from older runtimes
    process.committed_generation = r.u64();
    process.rejoining = r.u8();
  }
  if (r.ok() && r.remaining() > 0) {
    const uint8_t* p = r.bytes(kNonceSize);
    if (p) std::memcpy(process.nonce, p, kNonceSize);
    process.has_nonce = p ? 1 : 0;
  }
  return r.ok();
}

void Welcome::encode(ByteWriter& w) const {
  w.put_u64(generation);
  w.put_str(ckpt_dir);
  if (proof) w.put_u64(proof);
}

bool Welcome::decode(ByteReader& r) {
  generation = r.u64();
  ckpt_dir = r.str();
  if (r.ok() && r.remaining() > 0) proof = r.u64();  // absent from older coordinators
  return r.ok();
}

void Suspend::encode(ByteWriter& w) const {
  w.put_u64(generation);
  w.put_str(dir);
  w.put_u8(name_host);
  w.put_u8(last);
}

bool Suspend::decode(ByteReader& r) {
  generation = r.u64();
  dir = r.str();
  name_host = r.u8();
  last = r.remaining() ? r.u8() : 0;
  return r.ok();
}

void Resume::encode(ByteWriter& w) const {
  w.put_u8(committed);
  w.put_u64(generation);
}

bool Resume::decode(ByteReader& r) {
  committed = r.u8();
  generation = r.u64();
  return r.ok();
}

void Suspended::encode(ByteWriter& w) const {
  w.put_u8(ok);
  w.put_str(error);
}

bool Suspended::decode(ByteReader& r) {
  ok = r.u8();
  error = r.str();
  return r.ok();
}

void Written::encode(ByteWriter& w) const {
  w.put_u8(ok);
  w.put_str(error);
  w.put_str(image);
  w.put_u64(bytes);
}

bool Written::decode(ByteReader& r) {
  ok = r.u8();
  error = r.str();
  image = r.str();
  bytes = r.u64();
  return r.ok();
}

void Outside::encode(ByteWriter& w) const {
  w.put_u32(static_cast<uint32_t>(real_pid));
  w.put_u32(static_cast<uint32_t>(parent_vpid));
  w.put_str(program);
  w.put_str(reason);
}

bool Outside::decode(ByteReader& r) {
  real_pid = static_cast<int32_t>(r.u32());
  parent_vpid = static_cast<int32_t>(r.u32());
  program = r.str();
  reason = r.str();
  return r.ok();
}

void CmdRendezvous::encode(ByteWriter& w) const {
  w.put_str(round);
  w.put_u32(expected);
  w.put_str(members);
  w.put_str(blob);
}

bool CmdRendezvous::decode(ByteReader& r) {
  round = r.str();
  expected = r.u32();
  members = r.str();
  blob = r.str();
  return r.ok();
}

void CmdReply::encode(ByteWriter& w) const {
  w.put_u8(ok);
  w.put_str(text);
  w.put_u64(generation);
  w.put_u32(processes);
  w.put_u64(bytes);
  w.put_u64(duration_ms);
}

bool CmdReply::decode(ByteReader& r) {
  ok = r.u8();
  text = r.str();
  if (!r.ok() || r.remaining() == 0) return r.ok();
  generation = r.u64();
  processes = r.u32();
  bytes = r.u64();
  duration_ms = r.u64();
  return r.ok();
}

void CmdProgress::encode(ByteWriter& w) const {
  w.put_u64(generation);
  w.put_u8(static_cast<uint8_t>(phase));
  w.put_u32(processes);
  w.put_u32(stopped);
  w.put_u32(written);
  w.put_u64(bytes);
  w.put_u64(elapsed_ms);
}

bool CmdProgress::decode(ByteReader& r) {
  generation = r.u64();
  phase = static_cast<ProgressPhase>(r.u8());
  processes = r.u32();
  stopped = r.u32();
  written = r.u32();
  bytes = r.u64();
  elapsed_ms = r.u64();
  return r.ok();
}

void put_frame(ByteWriter& out, Msg type, const ByteWriter& payload) {
  FrameHeader h{static_cast<uint32_t>(payload.size()), static_cast<uint16_t>(type),
                kProtocolVersion};
  out.put_bytes(&h, sizeof(h));
  out.put_bytes(payload.data(), payload.size());
}

uint64_t prove(const uint8_t key[16], const uint8_t nonce[kNonceSize], Role role) {
  uint8_t msg[kNonceSize + 1];
  std::memcpy(msg, nonce, kNonceSize);
  msg[kNonceSize] = static_cast<uint8_t>(role);
  return siphash24(key, msg, sizeof(msg));
}

}  // namespace ckpt::proto
