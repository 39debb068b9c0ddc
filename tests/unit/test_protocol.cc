// The coordinator protocol: every message round-trips through its codec,
// truncated payloads fail to decode (without reading out of bounds), frames
// carry the right header, and SipHash matches its reference vector.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ckpt/protocol.h"
#include "ckpt/siphash.h"
#include "common/frame.h"

namespace ckpt {
namespace {

template <typename T>
std::vector<uint8_t> encode(const T& msg) {
  ByteWriter w;
  msg.encode(w);
  return std::vector<uint8_t>(w.data(), w.data() + w.size());
}

template <typename T>
bool decode(const std::vector<uint8_t>& bytes, T* out) {
  ByteReader r(bytes.data(), bytes.size());
  return out->decode(r) && r.ok();
}

// Every strict prefix of a message's encoding must fail to decode. Each
// prefix is copied into its own exactly-sized heap buffer, so a read past
// the end would be caught by sanitizers.
template <typename T>
void expect_truncations_fail(const std::vector<uint8_t>& bytes) {
  for (size_t n = 0; n < bytes.size(); n++) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + n);
    ByteReader r(prefix.data(), prefix.size());
    T out;
    EXPECT_FALSE(out.decode(r) && r.ok()) << "prefix of " << n << " bytes decoded";
  }
}

TEST(Protocol, Challenge) {
  proto::Challenge in;
  for (size_t i = 0; i < proto::kNonceSize; i++) in.nonce[i] = static_cast<uint8_t>(i * 7 + 1);
  auto bytes = encode(in);
  EXPECT_EQ(bytes.size(), proto::kNonceSize);
  proto::Challenge out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(0, std::memcmp(in.nonce, out.nonce, proto::kNonceSize));
  expect_truncations_fail<proto::Challenge>(bytes);
}

TEST(Protocol, HelloProcess) {
  proto::Hello in;
  in.proof = 0x0123456789abcdefULL;
  in.role = proto::Role::kProcess;
  in.process = {4242, 1, 777, 3, 2, "node7", "heat", 12, 1, 1};
  for (size_t i = 0; i < proto::kNonceSize; i++) in.process.nonce[i] = static_cast<uint8_t>(i + 40);
  auto bytes = encode(in);
  proto::Hello out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(out.process.committed_generation, 12u);
  EXPECT_EQ(out.process.rejoining, 1);
  EXPECT_EQ(out.process.has_nonce, 1);
  EXPECT_EQ(0, std::memcmp(out.process.nonce, in.process.nonce, proto::kNonceSize));
  EXPECT_EQ(out.proof, in.proof);
  EXPECT_EQ(out.role, proto::Role::kProcess);
  EXPECT_EQ(out.process.vpid, 4242);
  EXPECT_EQ(out.process.vppid, 1);
  EXPECT_EQ(out.process.real_pid, 777);
  EXPECT_EQ(out.process.rank, 3);
  EXPECT_EQ(out.process.restart_count, 2u);
  EXPECT_EQ(out.process.host, "node7");
  EXPECT_EQ(out.process.program, "heat");
  // A Hello of an older runtime ends after the program: the trailing fields
  // (committed generation, rejoining) read as 0. Any other prefix fails.
  size_t old_size = bytes.size() - 9 - proto::kNonceSize;
  std::vector<uint8_t> old(bytes.begin(), bytes.begin() + static_cast<long>(old_size));
  proto::Hello older;
  ASSERT_TRUE(decode(old, &older));
  EXPECT_EQ(older.process.program, "heat");
  EXPECT_EQ(older.process.committed_generation, 0u);
  EXPECT_EQ(older.process.rejoining, 0);
  EXPECT_EQ(older.process.has_nonce, 0);
  expect_truncations_fail<proto::Hello>(old);
  for (size_t n = old_size + 1; n < bytes.size(); n++) {
    if (n == old_size + 9) continue;  // generation and rejoining, without a nonce: fine
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<long>(n));
    EXPECT_FALSE(decode(prefix, &older)) << "prefix of " << n << " bytes decoded";
  }
}

TEST(Protocol, CmdHold) {
  proto::CmdHold in{600};
  auto bytes = encode(in);
  proto::CmdHold out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(out.seconds, 600u);
  expect_truncations_fail<proto::CmdHold>(bytes);
}

TEST(Protocol, HelloCommandAndNegativeRank) {
  proto::Hello in;
  in.proof = 99;
  in.role = proto::Role::kCommand;
  auto bytes = encode(in);
  EXPECT_EQ(bytes.size(), 9u);
  proto::Hello out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(out.role, proto::Role::kCommand);
  EXPECT_EQ(out.proof, 99u);
  expect_truncations_fail<proto::Hello>(bytes);

  in.role = proto::Role::kProcess;
  in.process.rank = -1;
  ASSERT_TRUE(decode(encode(in), &out));
  EXPECT_EQ(out.process.rank, -1);
}

TEST(Protocol, HelloUnknownRoleFails) {
  std::vector<uint8_t> bytes(9, 0);
  bytes[8] = 7;
  proto::Hello out;
  EXPECT_FALSE(decode(bytes, &out));
}

TEST(Protocol, Welcome) {
  proto::Welcome in{17, "/tmp/ckpt"};
  auto bytes = encode(in);
  proto::Welcome out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(out.generation, 17u);
  EXPECT_EQ(out.ckpt_dir, "/tmp/ckpt");
  EXPECT_EQ(out.proof, 0u);
  expect_truncations_fail<proto::Welcome>(bytes);
  // With the coordinator's proof (an answer to a process's nonce).
  in.proof = 0x1122334455667788ULL;
  auto proved = encode(in);
  ASSERT_EQ(proved.size(), bytes.size() + 8);
  ASSERT_TRUE(decode(proved, &out));
  EXPECT_EQ(out.proof, in.proof);
  for (size_t n = bytes.size() + 1; n < proved.size(); n++) {
    std::vector<uint8_t> prefix(proved.begin(), proved.begin() + static_cast<long>(n));
    EXPECT_FALSE(decode(prefix, &out)) << "prefix of " << n << " bytes decoded";
  }
}

TEST(Protocol, CoordinatorProofDiffersFromTheProcessProof) {
  uint8_t key[16] = {1, 2, 3}, nonce[proto::kNonceSize] = {9, 8, 7};
  EXPECT_NE(proto::prove(key, nonce, proto::Role::kCoordinator),
            proto::prove(key, nonce, proto::Role::kProcess));
}

TEST(Protocol, TextMsg) {
  proto::TextMsg in{"wrong job secret"};
  auto bytes = encode(in);
  proto::TextMsg out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(out.text, "wrong job secret");
  expect_truncations_fail<proto::TextMsg>(bytes);
}

TEST(Protocol, Suspend) {
  proto::Suspend in{5, "/data/.ckpt_gen_5", 1, 1};
  auto bytes = encode(in);
  proto::Suspend out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(out.generation, 5u);
  EXPECT_EQ(out.dir, "/data/.ckpt_gen_5");
  EXPECT_EQ(out.name_host, 1);
  EXPECT_EQ(out.last, 1);
  // Without its last byte: an older sender's Suspend, not the last one.
  std::vector<uint8_t> older(bytes.begin(), bytes.end() - 1);
  ASSERT_TRUE(decode(older, &out));
  EXPECT_EQ(out.last, 0);
  expect_truncations_fail<proto::Suspend>(older);
}

TEST(Protocol, Resume) {
  proto::Resume in{1, 1ull << 40};
  auto bytes = encode(in);
  proto::Resume out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(out.committed, 1);
  EXPECT_EQ(out.generation, 1ull << 40);
  expect_truncations_fail<proto::Resume>(bytes);
}

TEST(Protocol, Suspended) {
  proto::Suspended in{0, "cannot save netlink socket fd 5"};
  auto bytes = encode(in);
  proto::Suspended out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(out.ok, 0);
  EXPECT_EQ(out.error, "cannot save netlink socket fd 5");
  expect_truncations_fail<proto::Suspended>(bytes);
}

TEST(Protocol, Snapshot) {
  proto::Snapshot in{7};
  auto bytes = encode(in);
  EXPECT_EQ(bytes.size(), 8u);
  proto::Snapshot out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(out.generation, 7u);
  expect_truncations_fail<proto::Snapshot>(bytes);
}

// Snapshotted is Suspended's payload, byte for byte.
TEST(Protocol, SnapshottedIsLikeSuspended) {
  proto::Snapshotted in{0, "pipe 4: peer not stopped"};
  auto bytes = encode(in);
  EXPECT_EQ(bytes, encode(proto::Suspended{0, "pipe 4: peer not stopped"}));
  proto::Snapshotted out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(out.ok, 0);
  EXPECT_EQ(out.error, "pipe 4: peer not stopped");
}

TEST(Protocol, Outside) {
  proto::Outside in{31337, -1, "busybox", "statically linked"};
  auto bytes = encode(in);
  // i32 real_pid, i32 parent_vpid, then two length-prefixed strings.
  EXPECT_EQ(bytes.size(), 4u + 4u + (4u + 7u) + (4u + 17u));
  proto::Outside out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(out.real_pid, 31337);
  EXPECT_EQ(out.parent_vpid, -1);
  EXPECT_EQ(out.program, "busybox");
  EXPECT_EQ(out.reason, "statically linked");
  expect_truncations_fail<proto::Outside>(bytes);
}

TEST(Protocol, Written) {
  proto::Written in{1, "", "ckpt_heat_42.img", 123456789};
  auto bytes = encode(in);
  proto::Written out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(out.ok, 1);
  EXPECT_EQ(out.error, "");
  EXPECT_EQ(out.image, "ckpt_heat_42.img");
  EXPECT_EQ(out.bytes, 123456789u);
  expect_truncations_fail<proto::Written>(bytes);
}

TEST(Protocol, CmdStatus) {
  proto::CmdStatus in{1};
  auto bytes = encode(in);
  proto::CmdStatus out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(out.json, 1);
  expect_truncations_fail<proto::CmdStatus>(bytes);
}

TEST(Protocol, CmdReply) {
  proto::CmdReply in{1, "checkpoint 3 committed", 3, 2, 1u << 30, 1234};
  auto bytes = encode(in);
  proto::CmdReply out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(out.ok, 1);
  EXPECT_EQ(out.text, "checkpoint 3 committed");
  EXPECT_EQ(out.generation, 3u);
  EXPECT_EQ(out.processes, 2u);
  EXPECT_EQ(out.bytes, 1u << 30);
  EXPECT_EQ(out.duration_ms, 1234u);
  // A reply of an older coordinator ends after the text: the figures read
  // as 0. Any other prefix fails.
  size_t old_size = bytes.size() - 28;
  std::vector<uint8_t> old(bytes.begin(), bytes.begin() + static_cast<long>(old_size));
  proto::CmdReply older;
  ASSERT_TRUE(decode(old, &older));
  EXPECT_EQ(older.text, "checkpoint 3 committed");
  EXPECT_EQ(older.generation, 0u);
  expect_truncations_fail<proto::CmdReply>(old);
  for (size_t n = old_size + 1; n < bytes.size(); n++) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<long>(n));
    EXPECT_FALSE(decode(prefix, &older)) << "prefix of " << n << " bytes decoded";
  }
}

TEST(Protocol, CmdProgress) {
  proto::CmdProgress in{7, proto::ProgressPhase::kWriting, 4, 4, 3, 123456789, 850};
  auto bytes = encode(in);
  proto::CmdProgress out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(out.generation, 7u);
  EXPECT_EQ(out.phase, proto::ProgressPhase::kWriting);
  EXPECT_EQ(out.processes, 4u);
  EXPECT_EQ(out.stopped, 4u);
  EXPECT_EQ(out.written, 3u);
  EXPECT_EQ(out.bytes, 123456789u);
  EXPECT_EQ(out.elapsed_ms, 850u);
  expect_truncations_fail<proto::CmdProgress>(bytes);
}

TEST(Protocol, CmdRendezvous) {
  proto::CmdRendezvous in{"gen5-1f2e", 2, "node1\nnode2", std::string_view("\0blob", 5)};
  auto bytes = encode(in);
  proto::CmdRendezvous out;
  ASSERT_TRUE(decode(bytes, &out));
  EXPECT_EQ(out.round, "gen5-1f2e");
  EXPECT_EQ(out.expected, 2u);
  EXPECT_EQ(out.members, "node1\nnode2");
  EXPECT_EQ(out.blob, std::string_view("\0blob", 5));
  expect_truncations_fail<proto::CmdRendezvous>(bytes);
}

TEST(Protocol, BlobList) {
  std::vector<std::string_view> in = {"a", "", "ccc"};
  ByteWriter w;
  proto::encode_blob_list(w, 3, [&](uint32_t i) { return in[i]; });
  std::string text(reinterpret_cast<const char*>(w.data()), w.size());
  std::vector<std::string> out;
  ASSERT_TRUE(proto::decode_blob_list(text, [&](std::string_view b) { out.emplace_back(b); }));
  EXPECT_EQ(out, (std::vector<std::string>{"a", "", "ccc"}));
  for (size_t n = 0; n < text.size(); n++)
    EXPECT_FALSE(proto::decode_blob_list(text.substr(0, n), [](std::string_view) {})) << n;
  EXPECT_FALSE(proto::decode_blob_list(text + "x", [](std::string_view) {}));  // trailing bytes
}

TEST(Protocol, HugeStringLengthFailsCleanly) {
  std::vector<uint8_t> bytes = {1, 0xff, 0xff, 0xff, 0xff, 'x'};
  proto::CmdReply out;
  EXPECT_FALSE(decode(bytes, &out));
}

TEST(Protocol, FrameHeader) {
  ByteWriter payload;
  proto::Resume{1, 9}.encode(payload);
  ByteWriter frame;
  proto::put_frame(frame, proto::Msg::kResume, payload);
  ASSERT_EQ(frame.size(), sizeof(proto::FrameHeader) + payload.size());
  proto::FrameHeader h;
  std::memcpy(&h, frame.data(), sizeof(h));
  EXPECT_EQ(h.size, payload.size());
  EXPECT_EQ(h.type, static_cast<uint16_t>(proto::Msg::kResume));
  EXPECT_EQ(h.version, proto::kProtocolVersion);
  EXPECT_EQ(0, std::memcmp(frame.data() + sizeof(h), payload.data(), payload.size()));

  // append_frame (launcher/common) writes the same bytes.
  std::vector<uint8_t> same;
  append_frame(&same, proto::Msg::kResume, payload);
  ASSERT_EQ(same.size(), frame.size());
  EXPECT_EQ(0, std::memcmp(same.data(), frame.data(), frame.size()));
}

TEST(Protocol, CheckHeader) {
  EXPECT_EQ(check_header({10, 1, proto::kProtocolVersion}), HeaderCheck::kOk);
  EXPECT_EQ(check_header({proto::kMaxFrame, 1, proto::kProtocolVersion}), HeaderCheck::kOk);
  EXPECT_EQ(check_header({proto::kMaxFrame + 1, 1, proto::kProtocolVersion}),
            HeaderCheck::kTooLarge);
  EXPECT_EQ(check_header({10, 1, proto::kProtocolVersion + 1}), HeaderCheck::kBadVersion);
}

TEST(Protocol, EmptyPayloadFrame) {
  std::vector<uint8_t> out;
  append_frame(&out, proto::Msg::kWrite, ByteWriter());
  ASSERT_EQ(out.size(), sizeof(proto::FrameHeader));
  proto::FrameHeader h;
  std::memcpy(&h, out.data(), sizeof(h));
  EXPECT_EQ(h.size, 0u);
  EXPECT_EQ(h.type, static_cast<uint16_t>(proto::Msg::kWrite));
}

TEST(Protocol, MessageNames) {
  EXPECT_EQ(msg_name(proto::Msg::kSuspend), "Suspend");
  EXPECT_EQ(msg_name(proto::Msg::kSnapshot), "Snapshot");
  EXPECT_EQ(msg_name(proto::Msg::kSnapshotted), "Snapshotted");
  EXPECT_EQ(msg_name(proto::Msg::kExecing), "Execing");
  EXPECT_EQ(msg_name(proto::Msg::kOutside), "Outside");
  EXPECT_EQ(static_cast<uint16_t>(proto::Msg::kSnapshot), 14);
  EXPECT_EQ(static_cast<uint16_t>(proto::Msg::kSnapshotted), 23);
  EXPECT_EQ(static_cast<uint16_t>(proto::Msg::kExecing), 24);
  EXPECT_EQ(static_cast<uint16_t>(proto::Msg::kOutside), 25);
  EXPECT_EQ(msg_name(proto::Msg::kCmdRendezvous), "CmdRendezvous");
  EXPECT_EQ(static_cast<uint16_t>(proto::Msg::kCmdRendezvous), 35);
  EXPECT_EQ(msg_name(static_cast<proto::Msg>(999)), "message 999");
}

// The reference vector from the SipHash paper (appendix A).
TEST(SipHash, ReferenceVector) {
  uint8_t key[16], msg[15];
  for (int i = 0; i < 16; i++) key[i] = static_cast<uint8_t>(i);
  for (int i = 0; i < 15; i++) msg[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(siphash24(key, msg, sizeof(msg)), 0xa129ca6149be45e5ULL);
}

}  // namespace
}  // namespace ckpt
