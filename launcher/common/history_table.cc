// The checkpoint history as a table or JSON (see history_table.h).
#include "history_table.h"

#include <algorithm>
#include <cstdio>

#include "common/text.h"

namespace ckpt {
namespace {

using Row = std::vector<std::string>;

// Right-aligned numbers, left-aligned text (the TIME column), two spaces apart.
std::string table(const std::vector<Row>& rows) {
  std::vector<size_t> width(rows[0].size(), 0);
  for (const Row& row : rows)
    for (size_t i = 0; i < row.size(); i++) width[i] = std::max(width[i], row[i].size());
  std::string out;
  for (const Row& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); i++) {
      std::string pad(width[i] - row[i].size(), ' ');
      bool left = i == 1 || i + 1 == row.size();
      line += (i ? "  " : "") + (left ? row[i] + pad : pad + row[i]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string duration_text(const CheckpointRecord& r) {
  if (!r.duration_ms) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f s", static_cast<double>(*r.duration_ms) / 1000.0);
  return buf;
}

}  // namespace

std::string history_text(const std::vector<CheckpointRecord>& records, const std::string& dir) {
  if (records.empty()) return "no committed checkpoint in " + dir + "\n";
  std::vector<Row> rows{{"GEN", "TIME", "DURATION", "SIZE", "PROCESSES", "RESTARTS", ""}};
  for (const CheckpointRecord& r : records)
    rows.push_back({std::to_string(r.generation), r.time.empty() ? "-" : r.time, duration_text(r),
                    human_bytes(r.bytes), std::to_string(r.processes),
                    std::to_string(r.restart_count), r.latest ? "latest" : ""});
  return table(rows);
}

std::string history_json(const std::vector<CheckpointRecord>& records, const std::string& dir) {
  std::string out = "{\"dir\": " + json_string(dir) + ", \"checkpoints\": [";
  for (size_t i = 0; i < records.size(); i++) {
    const CheckpointRecord& r = records[i];
    out += std::string(i ? ", " : "") + "{\"generation\": " + std::to_string(r.generation) +
           ", \"time\": " + json_string(r.time) +
           ", \"duration_ms\": " + (r.duration_ms ? std::to_string(*r.duration_ms) : "null") +
           ", \"bytes\": " + std::to_string(r.bytes) +
           ", \"processes\": " + std::to_string(r.processes) +
           ", \"restart_count\": " + std::to_string(r.restart_count) +
           ", \"latest\": " + (r.latest ? "true" : "false") + "}";
  }
  return out + "]}\n";
}

}  // namespace ckpt
