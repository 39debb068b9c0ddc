// The peer table: every connection the coordinator holds, what it is (a
// process of the job, a command, or not yet authenticated) and, for
// processes, who they are and where they stand in a checkpoint.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ckpt/protocol.h"
#include "connection.h"

namespace ckpt {

using PeerId = uint64_t;
using Clock = std::chrono::steady_clock;

enum class PeerKind { kUnauthenticated, kProcess, kCommand };
enum class ProcessState { kRunning, kSuspending, kSnapshotting, kWriting };
const char* state_name(ProcessState state);

// ProcessInfo (protocol.h) with owned strings.
struct ProcessRecord {
  int32_t vpid = 0;
  int32_t vppid = 0;
  int32_t real_pid = 0;
  int32_t rank = -1;
  uint32_t restart_count = 0;
  std::string host;
  std::string program;
  uint64_t committed_generation = 0;  // the last commit it says it took part in
  bool rejoining = false;             // it lost its previous coordinator
  uint64_t start_time = 0;            // on the coordinator's host: /proc start time (job_roster.h)

  static ProcessRecord from(const proto::ProcessInfo& info);
  // "1234 (prog@host)", how messages name a process.
  std::string label() const;
};

struct Peer {
  Peer(PeerId id_, ScopedFd fd) : id(id_), conn(std::move(fd)) {}

  PeerId id;
  Connection conn;
  PeerKind kind = PeerKind::kUnauthenticated;
  std::string address;    // "127.0.0.1:40312", for the log
  bool reported = false;  // dropped before authenticating, and logged (BadPeerLog)
  uint8_t nonce[proto::kNonceSize] = {};
  Clock::time_point connected_at = Clock::now();
  bool epollout = false;  // EPOLLOUT currently requested
  bool closing = false;   // close once the output is flushed
  bool dead = false;      // disconnected; removed at the end of the loop turn

  // Processes only.
  ProcessRecord process;
  ProcessState state = ProcessState::kRunning;
  // It sent Execing: its disconnection is an exec, and its successor (the
  // next Hello with the same vpid and host) takes its place. Cleared by its
  // next frame of any kind (the exec failed and it carries on).
  bool execing = false;
  bool exiting = false;  // said it exits on its own (Msg::kExiting)
  // A reply (Suspended, Snapshotted or Written) still owed for a checkpoint that was
  // aborted: when it arrives it is dropped, not taken for the next one.
  std::optional<proto::Msg> stale_reply;

  // Commands only.
  bool command_pending = false;
};

class PeerTable {
 public:
  Peer& add(ScopedFd fd);
  Peer* find(PeerId id);
  // Live (not dead) processes, oldest first.
  std::vector<Peer*> processes();
  // The live process with this vpid on this host, if any.
  Peer* find_process(int32_t vpid, const std::string& host);
  size_t process_count();
  template <typename Fn>
  void for_each(Fn fn) {
    for (auto& [id, peer] : peers_) fn(peer);
  }
  // Erases dead peers (closing their sockets).
  void remove_dead();

 private:
  std::map<PeerId, Peer> peers_;
  PeerId next_id_ = 1;  // 0 is the listening socket in epoll
};

}  // namespace ckpt
