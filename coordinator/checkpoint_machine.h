// The checkpoint state machine: one coordinated checkpoint of every process
// of the computation.
//
//   idle --start--> suspending --all Suspended--> snapshotting
//     --all Snapshotted--> writing --all Written--> commit (GenerationStore,
//     with the job metadata in the MANIFEST) --> Resume{committed=1} to all
//     --> idle
//
// Snapshot goes out only once every participant has stopped its threads, so
// state shared between processes (pipes) is captured while nobody runs.
//
// Participants: the processes registered at start, plus every process that
// registers while the machine is suspending (a forked child: its parent
// defers its own suspension until the child registered); it is sent Suspend
// at once. A process that registers while snapshotting or writing is not
// part of the checkpoint.
//
// exec: a participant that sent Execing and disconnects while suspending
// does not fail the checkpoint. Its slot waits for its successor, the next
// process to register with the same vpid and host, and only the successor's
// Suspended counts. A successor that does not come before the phase timeout
// fails the checkpoint, naming the process; an exec while snapshotting or
// writing fails it at once.
//
// Any failure (a process answers ok=0, disconnects, or misses the phase
// timeout; an image is missing; the commit fails) sends Resume{committed=0}
// to the processes still connected, removes the generation dir, and leaves
// the previous committed generation untouched.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ckpt/protocol.h"
#include "generation_store.h"
#include "job_metadata.h"
#include "peer_table.h"

namespace ckpt {

struct CheckpointResult {
  bool ok = false;
  std::string text;  // one line, e.g. "checkpoint 3 committed: 2 images, ..."
  // A committed checkpoint's figures (0 otherwise).
  uint64_t generation = 0;
  uint32_t processes = 0;
  uint64_t bytes = 0;
  uint64_t duration_ms = 0;
};

class CheckpointMachine {
 public:
  enum class Phase { kIdle, kSuspending, kSnapshotting, kWriting };

  CheckpointMachine(PeerTable& peers, GenerationStore& store, std::chrono::seconds phase_timeout,
                    JobMetadata job = {})
      : peers_(peers), store_(store), phase_timeout_(phase_timeout), job_(std::move(job)) {}

  bool active() const { return phase_ != Phase::kIdle; }
  // Asked before each checkpoint starts: "" to go on, else why not (e.g.
  // processes of the job that are not registered: job_roster.h).
  void set_gate(std::function<std::string()> gate) { gate_ = std::move(gate); }
  // Told how far the running checkpoint is when it starts and after each
  // reply of a process (for ckpt_command's progress display).
  void set_progress(std::function<void(const proto::CmdProgress&)> progress) {
    progress_ = std::move(progress);
  }
  // Starts a checkpoint. Fails at once (result returned) when there is no
  // process or the generation dir cannot be created; nullopt once started.
  // `last`: the computation is killed once it commits (proto::Suspend::last).
  std::optional<CheckpointResult> start(Clock::time_point now, bool last = false);

  // A process was welcomed: while suspending, it joins the checkpoint.
  void on_registered(Peer& peer);
  void on_suspended(Peer& peer, const proto::Suspended& msg);
  void on_snapshotted(Peer& peer, const proto::Snapshotted& msg);
  void on_written(Peer& peer, const proto::Written& msg);
  void on_disconnect(Peer& peer);
  void on_tick(Clock::time_point now);
  std::optional<Clock::time_point> deadline() const;

  // The running checkpoint has yet to suspend this process (it is enlisted
  // and has not answered Suspend): its image will show what it did until now.
  bool yet_to_suspend(PeerId id) const;

  // The result of the checkpoint that just ended, once.
  std::optional<CheckpointResult> take_result();

 private:
  struct Participant {
    Participant(PeerId id_, ProcessRecord process_) : id(id_), process(std::move(process_)) {}
    PeerId id;
    ProcessRecord process;  // copied: the peer may be gone when we report
    bool replied = false;
    bool gone = false;
    bool awaiting_successor = false;  // exec'd; its new image has not registered yet
    std::string image;
  };

  void enlist(Peer& peer);
  void suspend(Peer& peer);
  Participant* find(PeerId id);
  Participant* predecessor(const ProcessRecord& process);
  Peer* live(const Participant& part);  // its peer, unless disconnected
  Participant* take_reply(Peer& peer, Phase phase);
  bool all_replied() const;
  void begin_phase(Phase next, Clock::time_point now);
  void commit();
  void fail(const Participant* culprit, const std::string& reason);
  void finish(bool ok, std::string text);
  void report_progress();
  std::string prefix() const { return "checkpoint " + std::to_string(gen_); }

  PeerTable& peers_;
  GenerationStore& store_;
  std::chrono::seconds phase_timeout_;
  JobMetadata job_;
  std::function<std::string()> gate_;
  std::function<void(const proto::CmdProgress&)> progress_;

  Phase phase_ = Phase::kIdle;
  uint64_t gen_ = 0;
  std::string dir_;          // the generation dir, for late joiners' Suspend
  bool many_hosts_ = false;  // image names carry the host
  bool last_ = false;        // the computation is killed once it commits
  std::vector<Participant> parts_;
  uint32_t stopped_ = 0;  // Suspended ok, this checkpoint
  uint32_t written_ = 0;  // Written ok
  uint64_t bytes_ = 0;    // their images' bytes
  Clock::time_point started_;
  // When the Snapshot and Write phases began (the log splits the time by phase).
  Clock::time_point snapshot_at_, write_at_;
  Clock::time_point deadline_;
  std::optional<CheckpointResult> result_;
};

}  // namespace ckpt
