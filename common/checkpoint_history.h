// The checkpoints a checkpoint dir still holds, read from disk: each
// committed generation dir (.ckpt_gen_N up to the one ckpt_latest names)
// with its MANIFEST (coordinator/generation_store.h). For
// ckpt_command --history and the last checkpoint in --status; works for
// generations written before durations were recorded (duration unknown).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ckpt {

struct CheckpointRecord {
  uint64_t generation = 0;
  std::string time;                     // "2026-12-06T22:40:01Z" (the commit), "" if unknown
  std::optional<uint64_t> duration_ms;  // Suspend to commit, if the MANIFEST says
  uint64_t bytes = 0;                   // the images' sizes on disk
  uint32_t processes = 0;               // images
  uint32_t restart_count = 0;
  std::string hosts;
  bool latest = false;  // the one ckpt_latest names
};

// Oldest first; empty if the dir holds no committed checkpoint.
std::vector<CheckpointRecord> checkpoint_history(const std::string& ckpt_dir);

// One record from a generation dir's MANIFEST and image files; nullopt if
// it has no readable MANIFEST.
std::optional<CheckpointRecord> read_checkpoint_record(const std::string& gen_dir);

}  // namespace ckpt
