// The status report (see status_report.h).
#include "status_report.h"

#include <algorithm>
#include <cstdio>

#include "common/text.h"

namespace ckpt {
namespace {

using Row = std::vector<std::string>;

// Columns padded to their widest cell, two spaces apart, rows indented.
std::string table(const std::vector<Row>& rows) {
  std::vector<size_t> width;
  for (const Row& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); i++) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const Row& row : rows) {
    std::string line = " ";
    for (size_t i = 0; i < row.size(); i++) {
      line += " " + row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 1, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string process_json(const Peer& p) {
  const ProcessRecord& r = p.process;
  return "{\"vpid\": " + std::to_string(r.vpid) + ", \"ppid\": " + std::to_string(r.vppid) +
         ", \"real_pid\": " + std::to_string(r.real_pid) + ", \"rank\": " + std::to_string(r.rank) +
         ", \"restart_count\": " + std::to_string(r.restart_count) +
         ", \"program\": " + json_string(r.program) + ", \"host\": " + json_string(r.host) +
         ", \"state\": " + json_string(state_name(p.state)) + "}";
}

std::string outside_json(const OutsideProcess& o) {
  return "{\"real_pid\": " + std::to_string(o.real_pid) +
         ", \"parent_vpid\": " + std::to_string(o.parent_vpid) +
         ", \"program\": " + json_string(o.program) + ", \"host\": " + json_string(o.host) +
         ", \"reason\": " + json_string(o.reason) + "}";
}

std::string missing_json(const RosterEntry& e) {
  return "{\"vpid\": " + std::to_string(e.vpid) + ", \"real_pid\": " + std::to_string(e.real_pid) +
         ", \"program\": " + json_string(e.program) + ", \"host\": " + json_string(e.host) + "}";
}

std::string seconds_text(uint64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f s", static_cast<double>(ms) / 1000.0);
  return buf;
}

std::string last_text(const CheckpointRecord& r) {
  std::string out = "last checkpoint: generation " + std::to_string(r.generation);
  if (!r.time.empty()) out += " at " + r.time;
  out += ", " + plural(r.processes, "process", "processes") + ", " + human_bytes(r.bytes);
  out += r.duration_ms ? ", took " + seconds_text(*r.duration_ms) : ", duration not recorded";
  return out + "\n";
}

std::string last_json(const std::optional<CheckpointRecord>& last) {
  if (!last) return "null";
  const CheckpointRecord& r = *last;
  return "{\"generation\": " + std::to_string(r.generation) + ", \"time\": " + json_string(r.time) +
         ", \"processes\": " + std::to_string(r.processes) +
         ", \"bytes\": " + std::to_string(r.bytes) +
         ", \"duration_ms\": " + (r.duration_ms ? std::to_string(*r.duration_ms) : "null") + "}";
}

}  // namespace

std::string status_text(const StatusInputs& in) {
  std::string out = "coordinator: port " + std::to_string(in.port) + ", dir " + in.dir +
                    ", generation " + std::to_string(in.generation) + ", " +
                    plural(in.processes.size(), "process", "processes") + ", state " + in.state;
  if (in.interval) out += ", interval " + std::to_string(in.interval) + " s";
  out += "\n";
  if (in.last) out += last_text(*in.last);
  if (!in.images.empty()) out += in.images + "\n";
  if (!in.processes.empty()) {
    std::vector<Row> rows{{"VPID", "PPID", "PROGRAM", "HOST", "STATE", "RANK", "RESTARTS"}};
    for (const Peer* p : in.processes) {
      const ProcessRecord& r = p->process;
      rows.push_back({std::to_string(r.vpid), std::to_string(r.vppid), r.program, r.host,
                      state_name(p->state), r.rank >= 0 ? std::to_string(r.rank) : "-",
                      std::to_string(r.restart_count)});
    }
    out += table(rows);
  }
  if (!in.outside.empty()) {
    out += "outside the computation (not checkpointed): " +
           plural(in.outside.size(), "process", "processes") + "\n";
    std::vector<Row> rows{{"PID", "PARENT", "PROGRAM", "HOST", "REASON"}};
    for (const OutsideProcess& o : in.outside)
      rows.push_back(
          {std::to_string(o.real_pid), std::to_string(o.parent_vpid), o.program, o.host, o.reason});
    out += table(rows);
  }
  if (!in.missing.empty()) {
    out += "warning: " + plural(in.missing.size(), "process", "processes") + " of the job " +
           (in.missing.size() == 1 ? "runs" : "run") +
           " without a coordinator (not registered here yet; they retry every few "
           "seconds; a checkpoint now is refused)\n";
    std::vector<Row> rows{{"VPID", "PID", "PROGRAM", "HOST"}};
    for (const RosterEntry& e : in.missing)
      rows.push_back({std::to_string(e.vpid), std::to_string(e.real_pid), e.program, e.host});
    out += table(rows);
  }
  return out;
}

std::string status_json(const StatusInputs& in) {
  std::string out = "{\"port\": " + std::to_string(in.port) + ", \"dir\": " + json_string(in.dir) +
                    ", \"generation\": " + std::to_string(in.generation) +
                    ", \"images\": " + json_string(in.images) +
                    ", \"interval\": " + std::to_string(in.interval) +
                    ", \"process_count\": " + std::to_string(in.processes.size()) +
                    ", \"state\": " + json_string(in.state) +
                    ", \"last_checkpoint\": " + last_json(in.last) + ", \"processes\": [";
  for (size_t i = 0; i < in.processes.size(); i++)
    out += (i ? ", " : "") + process_json(*in.processes[i]);
  out += "], \"outside\": [";
  for (size_t i = 0; i < in.outside.size(); i++)
    out += (i ? ", " : "") + outside_json(in.outside[i]);
  out += "], \"missing\": [";
  for (size_t i = 0; i < in.missing.size(); i++)
    out += (i ? ", " : "") + missing_json(in.missing[i]);
  return out + "]}\n";
}

}  // namespace ckpt
