// Checkpoints on disk (see checkpoint_history.h).
#include "checkpoint_history.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>

namespace ckpt {
namespace {

constexpr char kGenPrefix[] = ".ckpt_gen_";

uint64_t to_u64(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() ? v : 0;
}

// N of ".ckpt_gen_N", else 0.
uint64_t generation_of(const std::string& name) {
  if (name.rfind(kGenPrefix, 0) != 0) return 0;
  return to_u64(std::string_view(name).substr(sizeof(kGenPrefix) - 1));
}

// A "key: value" metadata line into the record.
void take_metadata(const std::string& line, CheckpointRecord* r) {
  size_t colon = line.find(": ");
  if (colon == std::string::npos) return;
  std::string key = line.substr(0, colon), value = line.substr(colon + 2);
  if (key == "time") r->time = value;
  if (key == "duration_ms") r->duration_ms = to_u64(value);
  if (key == "restart_count") r->restart_count = static_cast<uint32_t>(to_u64(value));
  if (key == "hosts") r->hosts = value;
}

}  // namespace

std::optional<CheckpointRecord> read_checkpoint_record(const std::string& gen_dir) {
  std::ifstream in(gen_dir + "/MANIFEST");
  std::string line;
  if (!in || !std::getline(in, line) || line.rfind("generation ", 0) != 0) return std::nullopt;
  CheckpointRecord r;
  r.generation = to_u64(std::string_view(line).substr(11));
  bool images = true;
  while (std::getline(in, line)) {
    if (line.empty()) {
      images = false;
      continue;
    }
    if (!images) {
      take_metadata(line, &r);
      continue;
    }
    struct stat st;
    if (::stat((gen_dir + "/" + line).c_str(), &st) == 0)
      r.bytes += static_cast<uint64_t>(st.st_size);
    r.processes++;
  }
  return r;
}

std::vector<CheckpointRecord> checkpoint_history(const std::string& ckpt_dir) {
  char target[4096];
  ssize_t n = ::readlink((ckpt_dir + "/ckpt_latest").c_str(), target, sizeof(target) - 1);
  if (n <= 0) return {};
  uint64_t latest = generation_of(std::string(target, static_cast<size_t>(n)));
  if (latest == 0) return {};
  std::vector<CheckpointRecord> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(ckpt_dir, ec)) {
    uint64_t gen = generation_of(entry.path().filename().string());
    if (gen == 0 || gen > latest) continue;  // > latest: being written, not committed
    auto record = read_checkpoint_record(entry.path().string());
    if (!record) continue;
    record->latest = gen == latest;
    out.push_back(std::move(*record));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.generation < b.generation; });
  return out;
}

}  // namespace ckpt
