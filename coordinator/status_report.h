// The answer to ckpt_command --status: the coordinator's state, one line per
// process of the computation, then the processes outside it, then those of
// the job that run without a coordinator (not registered here); as a readable
// table or as JSON (same information).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/checkpoint_history.h"
#include "common/roster_file.h"
#include "outside_processes.h"
#include "peer_table.h"

namespace ckpt {

struct StatusInputs {
  uint16_t port = 0;
  std::string dir;
  uint64_t generation = 0;  // last committed
  std::string images;       // its images' lineage (lineage_status.h), "" if unknown
  std::string state;        // idle, checkpointing, preempting
  uint32_t interval = 0;    // periodic checkpoints, seconds; 0 = off
  std::vector<const Peer*> processes;
  std::vector<OutsideProcess> outside;
  std::vector<RosterEntry> missing;      // of the job, running, not registered (job_roster.h)
  std::optional<CheckpointRecord> last;  // the committed checkpoint, from disk
};

std::string status_text(const StatusInputs& in);
std::string status_json(const StatusInputs& in);

}  // namespace ckpt
