// ckpt_command --history: the checkpoints a checkpoint dir holds
// (common/checkpoint_history.h) as a table or as JSON.
#pragma once

#include <string>
#include <vector>

#include "common/checkpoint_history.h"

namespace ckpt {

// One row per generation: GEN, TIME, DURATION, SIZE, PROCESSES, RESTARTS,
// the latest marked; "no committed checkpoint in DIR" when empty.
std::string history_text(const std::vector<CheckpointRecord>& records, const std::string& dir);
// {"dir": "...", "checkpoints": [{"generation": N, "time": "...",
//  "duration_ms": N|null, "bytes": N, "processes": N, "restart_count": N,
//  "latest": bool}, ...]}
std::string history_json(const std::vector<CheckpointRecord>& records, const std::string& dir);

}  // namespace ckpt
