// The coordinator protocol, version 2: TCP, length-prefixed frames.
//
//   frame   = FrameHeader{u32 size; u16 type; u16 version} + `size` payload bytes
//   connect : coordinator sends Challenge{nonce}; the peer answers Hello whose
//             proof is SipHash-2-4(job secret, nonce || role); a wrong proof
//             or version gets Reject{reason} and the connection is closed.
//
// A checkpoint, as seen by each process:
//   Suspend{generation, dir} -> stop user threads          -> Suspended{ok}
//   Snapshot{generation}     -> capture shared state       -> Snapshotted{ok}
//   Write                    -> write image into dir       -> Written{ok, image}
//   Resume{committed}        -> resume user threads
// Each request goes out once every process answered the previous one: a
// Snapshot is sent only when every process of the computation has stopped.
// The coordinator commits the generation between the last Written and Resume.
// A process that registers while processes are being suspended (a forked
// child, or the new image after an Execing process exec'd) is sent Suspend
// at once and is part of that checkpoint.
//
// The application's own request (ckpt_checkpoint() of ckpt.h), empty payload:
//   CheckpointRequest -> [a whole checkpoint, as above] -> CheckpointDone
// CheckpointDone carries CmdReply{ok, text} and follows that checkpoint's
// Resume on the same connection. The request is served by the checkpoint
// being taken if that has not suspended the process yet, else by the next.
//
// A multi-host restart: each ckpt_restart sends CmdRendezvous and waits for
// the reply until every old host of the checkpoint has been published.
//
// Version 2 added Snapshot/Snapshotted, Execing and Outside; CmdRendezvous,
// CmdHold and CheckpointRequest/CheckpointDone came later without a version
// change (a coordinator that predates them closes the connection on
// receiving them, as on any unknown command), and so did the trailing fields
// of a process's Hello (committed_generation, rejoining, nonce: absent means
// 0) and of Welcome (proof: the coordinator's answer to the process's
// nonce). A runtime
// refuses a Welcome that does not answer its nonce, so this runtime needs a
// coordinator of this version.
//
// A process whose coordinator is gone (killed, its node lost) runs on and
// connects again, with backoff, to the same address: its Hello then says
// rejoining=1 and carries the last generation it saw committed, so the next
// coordinator started there (same checkpoint dir, hence same secret) takes
// it back with its identity (see coordinator/job_roster.h).
// Payload encoders are malloc-free (ByteWriter), so the runtime can use them
// on the checkpoint path.
#pragma once

#include <cstdint>
#include <string_view>

#include "ckpt/byte_codec.h"

namespace ckpt::proto {

inline constexpr uint16_t kProtocolVersion = 2;
inline constexpr uint16_t kDefaultPort = 7781;
inline constexpr uint32_t kMaxFrame = 1u << 24;
inline constexpr size_t kNonceSize = 16;

struct FrameHeader {
  uint32_t size;
  uint16_t type;
  uint16_t version;
};
static_assert(sizeof(FrameHeader) == 8);

enum class Msg : uint16_t {
  kChallenge = 1,  // coordinator -> peer
  kHello = 2,      // peer -> coordinator
  kWelcome = 3,    // coordinator -> peer
  kReject = 4,     // coordinator -> peer, then close

  kSuspend = 10,  // coordinator -> process
  kWrite = 11,
  kResume = 12,
  kKill = 13,
  kSnapshot = 14,
  kCheckpointDone = 15,  // the answer to CheckpointRequest (payload: CmdReply)

  kSuspended = 20,  // process -> coordinator
  kWritten = 21,
  kPreempt = 22,  // a preemption signal arrived: checkpoint, then end the job
  kSnapshotted = 23,
  kExecing = 24,  // about to execve (empty payload); the new image registers again
  kOutside = 25,  // a process left outside the computation (see Outside)
  // The application asks for a checkpoint (ckpt.h).
  kCheckpointRequest = 26,
  // About to exit on its own (exit, _exit; empty payload): a disconnect
  // that follows is a clean end, not a process killed or a host lost.
  kExiting = 27,

  kCmdCheckpoint = 30,  // command -> coordinator
  kCmdStatus = 31,
  kCmdKill = 32,
  kCmdQuit = 33,
  kCmdInterval = 34,    // set the periodic checkpoint interval
  kCmdRendezvous = 35,  // publish a blob, wait for the other hosts (see CmdRendezvous)
  kCmdHold = 36,        // processes are about to register: do not exit (see CmdHold)

  kCmdReply = 40,     // coordinator -> command
  kCmdProgress = 41,  // coordinator -> command, while its checkpoint runs (see CmdProgress)
};

// kCoordinator only in proofs: the coordinator's, over a process's nonce.
enum class Role : uint8_t { kProcess = 1, kCommand = 2, kCoordinator = 3 };

struct Challenge {
  uint8_t nonce[kNonceSize] = {};
  void encode(ByteWriter& w) const { w.put_bytes(nonce, kNonceSize); }
  bool decode(ByteReader& r);
};

// What a process tells the coordinator about itself.
struct ProcessInfo {
  int32_t vpid = 0;
  int32_t vppid = 0;
  int32_t real_pid = 0;
  int32_t rank = -1;  // MPI rank, -1 if none
  uint32_t restart_count = 0;
  std::string_view host;
  std::string_view program;           // short name, used in image names
  uint64_t committed_generation = 0;  // the last commit this process took part in
  uint8_t rejoining = 0;              // 1: it lost its coordinator and registers again
  // The process's own challenge: Welcome proves the coordinator knows the
  // secret too, so that a process never serves whatever listens on a port
  // its dead coordinator left. has_nonce = 0: none asked (older runtimes).
  uint8_t has_nonce = 0;
  uint8_t nonce[kNonceSize] = {};
};

struct Hello {
  uint64_t proof = 0;
  Role role = Role::kCommand;
  ProcessInfo process;  // role == kProcess only
  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

struct Welcome {
  uint64_t generation = 0;  // last committed generation
  std::string_view ckpt_dir;
  // prove(secret, the process's Hello nonce, Role::kCoordinator); 0 for
  // commands and processes that sent no nonce (trailing, absent = 0).
  uint64_t proof = 0;
  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

struct TextMsg {  // Reject and anything else that carries one string
  std::string_view text;
  void encode(ByteWriter& w) const { w.put_str(text); }
  bool decode(ByteReader& r) {
    text = r.str();
    return r.ok();
  }
};

struct Suspend {
  uint64_t generation = 0;
  std::string_view dir;  // absolute directory to write the image into
  // The computation spans several hosts: image names carry the host, as
  // pids of different hosts may be equal.
  uint8_t name_host = 0;
  // The computation is killed once this checkpoint commits (a preemption,
  // `ckpt_command --checkpoint --kill`): the shortest commit wins, what the
  // application would lose afterwards does not count. Absent (a sender
  // older than this field): 0.
  uint8_t last = 0;
  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

struct Resume {
  uint8_t committed = 0;
  uint64_t generation = 0;
  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

struct Suspended {
  uint8_t ok = 1;
  std::string_view error;
  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

// Snapshot: every process has stopped; capture state shared with others.
struct Snapshot {
  uint64_t generation = 0;
  void encode(ByteWriter& w) const { w.put_u64(generation); }
  bool decode(ByteReader& r) {
    generation = r.u64();
    return r.ok();
  }
};

// The answer to Snapshot: the same payload as Suspended (ok, error).
using Snapshotted = Suspended;

// A process the runtime could not follow (a statically linked or setuid
// program it exec'd or is about to): not checkpointed, listed by status.
struct Outside {
  int32_t real_pid = 0;
  int32_t parent_vpid = 0;  // the virtual pid of its parent in the computation
  std::string_view program;
  std::string_view reason;  // e.g. "statically linked", "setuid"
  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

struct Written {
  uint8_t ok = 1;
  std::string_view error;
  std::string_view image;  // file name inside the generation dir
  uint64_t bytes = 0;
  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

// Kill: how the processes end. exit_status < 0 (or an empty payload, as
// sent by version-1 coordinators) means SIGKILL; otherwise exit(exit_status).
struct Kill {
  int32_t exit_status = -1;
  void encode(ByteWriter& w) const { w.put_u32(static_cast<uint32_t>(exit_status)); }
  bool decode(ByteReader& r) {
    if (r.remaining() == 0) return true;
    exit_status = static_cast<int32_t>(r.u32());
    return r.ok();
  }
};

struct Preempt {
  uint32_t signo = 0;
  void encode(ByteWriter& w) const { w.put_u32(signo); }
  bool decode(ByteReader& r) {
    signo = r.u32();
    return r.ok();
  }
};

// CmdCheckpoint: an empty payload means flags = 0.
inline constexpr uint8_t kCheckpointThenKill = 1;
// The command wants CmdProgress frames until its CmdReply (added later
// without a version change: an older coordinator ignores the bit).
inline constexpr uint8_t kCheckpointProgress = 2;
struct CmdCheckpoint {
  uint8_t flags = 0;
  void encode(ByteWriter& w) const { w.put_u8(flags); }
  bool decode(ByteReader& r) {
    if (r.remaining() == 0) return true;
    flags = r.u8();
    return r.ok();
  }
};

struct CmdInterval {
  uint32_t seconds = 0;  // 0 = no periodic checkpoints
  void encode(ByteWriter& w) const { w.put_u32(seconds); }
  bool decode(ByteReader& r) {
    seconds = r.u32();
    return r.ok();
  }
};

// CmdHold: ckpt_launch and ckpt_restart, before they start processes that
// will register: the coordinator must not exit (--exit-on-last) for `seconds`
// or until a process registers, whichever comes first. Reply CmdReply{ok=1}.
// A coordinator already on its way out closes the connection without a
// reply: the launcher then starts a new one.
struct CmdHold {
  uint32_t seconds = 0;
  void encode(ByteWriter& w) const { w.put_u32(seconds); }
  bool decode(ByteReader& r) {
    seconds = r.u32();
    return r.ok();
  }
};

// Exit status of every process after a preemption checkpoint (128 + SIGTERM,
// as if the scheduler's signal had ended it).
inline constexpr int32_t kPreemptExitStatus = 143;

struct CmdStatus {
  uint8_t json = 0;
  void encode(ByteWriter& w) const { w.put_u8(json); }
  bool decode(ByteReader& r) {
    json = r.u8();
    return r.ok();
  }
};

// CmdRendezvous: one ckpt_restart of a multi-host restart publishes `blob`
// (opaque: new addresses, listener ports) for the old hosts it restores,
// `members`, and waits. `round` names one restart attempt; `expected` is how
// many distinct member names complete it. The reply, CmdReply{ok=1}, comes
// once the union of the round's members reaches `expected` (at once if it
// already has); its text is the list of the round's blobs, one per request in
// arrival order (a request naming a member published before replaces the
// older request's whole contribution), encoded as u32 count + count x str
// (see encode_blob_list/decode_blob_list). ok=0 with a one-line reason if
// `expected` disagrees with the round's or the request is malformed.
inline constexpr char kMemberSeparator = '\n';
struct CmdRendezvous {
  std::string_view round;
  uint32_t expected = 0;
  std::string_view members;  // names separated by kMemberSeparator
  std::string_view blob;
  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

// The reply text of CmdRendezvous: `count` blobs from `blob(i)`.
template <typename BlobAt>
void encode_blob_list(ByteWriter& w, uint32_t count, BlobAt blob) {
  w.put_u32(count);
  for (uint32_t i = 0; i < count; i++) w.put_str(blob(i));
}
// Calls each(view) per blob; false if `text` is not exactly one such list
// (`each` may have seen the blobs before the fault).
template <typename Each>
bool decode_blob_list(std::string_view text, Each each) {
  ByteReader r(text.data(), text.size());
  uint32_t count = r.u32();
  for (uint32_t i = 0; i < count && r.ok(); i++) {
    std::string_view blob = r.str();
    if (r.ok()) each(blob);
  }
  return r.ok() && r.remaining() == 0;
}

// The reply to every command. A checkpoint's reply also carries its
// figures (trailing fields, added later: absent means 0).
struct CmdReply {
  uint8_t ok = 0;
  std::string_view text;
  uint64_t generation = 0;   // the checkpoint's generation
  uint32_t processes = 0;    // images written
  uint64_t bytes = 0;        // their total size
  uint64_t duration_ms = 0;  // from the start of Suspend to the commit
  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

// CmdProgress: how far the running checkpoint is, sent to a command that
// asked with kCheckpointProgress each time a process stops or has written
// its image (and when the checkpoint starts).
enum class ProgressPhase : uint8_t { kSuspending = 0, kSnapshotting = 1, kWriting = 2 };
struct CmdProgress {
  uint64_t generation = 0;
  ProgressPhase phase = ProgressPhase::kSuspending;
  uint32_t processes = 0;  // taking part
  uint32_t stopped = 0;    // answered Suspend
  uint32_t written = 0;    // answered Write
  uint64_t bytes = 0;      // written so far
  uint64_t elapsed_ms = 0;
  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

// Write one frame (header + payload) into `out`.
void put_frame(ByteWriter& out, Msg type, const ByteWriter& payload);

// The secret's proof for a nonce and role.
uint64_t prove(const uint8_t key[16], const uint8_t nonce[kNonceSize], Role role);

}  // namespace ckpt::proto
