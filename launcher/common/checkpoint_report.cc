// ckpt_command's checkpoint progress and summary (see checkpoint_report.h).
#include "checkpoint_report.h"

#include <cstdio>

#include "common/text.h"

namespace ckpt {
namespace {

std::string seconds(uint64_t ms, const char* format) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), format, static_cast<double>(ms) / 1000.0);
  return buf;
}

std::string of(uint32_t n, uint32_t total) {
  return std::to_string(n) + "/" + std::to_string(total);
}

}  // namespace

std::string rate_text(uint64_t bytes, uint64_t ms) {
  if (ms == 0) return "-";
  char buf[32];
  std::snprintf(
      buf, sizeof(buf), "%.1f MiB/s",
      static_cast<double>(bytes) / (1024.0 * 1024.0) / (static_cast<double>(ms) / 1000.0));
  return buf;
}

std::string progress_line(const proto::CmdProgress& p, uint64_t elapsed_ms) {
  std::string out = "checkpoint " + std::to_string(p.generation) + ": stopped " +
                    of(p.stopped, p.processes) + ", written " + of(p.written, p.processes) + ", " +
                    human_bytes(p.bytes);
  if (p.written) out += ", " + rate_text(p.bytes, p.elapsed_ms);
  return out + ", " + seconds(elapsed_ms, "%.1f s");
}

std::string checkpoint_summary(const proto::CmdReply& reply) {
  std::string text(reply.text);
  if (!reply.ok || reply.generation == 0) return text;
  std::string head = "checkpoint " + std::to_string(reply.generation) + " committed: ";
  std::string out = head + std::to_string(reply.processes) +
                    (reply.processes == 1 ? " process, " : " processes, ") +
                    human_bytes(reply.bytes) + " in " + seconds(reply.duration_ms, "%.3f s") +
                    " (" + rate_text(reply.bytes, reply.duration_ms) + ")";
  // The coordinator's own figures end with " ms"; keep what follows them.
  if (text.rfind(head, 0) == 0) {
    if (size_t ms = text.find(" ms"); ms != std::string::npos) out += text.substr(ms + 3);
  }
  return out;
}

std::string checkpoint_json(const proto::CmdReply& reply, const std::string& dir) {
  if (!reply.ok) return "{\"ok\": false, \"error\": " + json_string(reply.text) + "}";
  return "{\"ok\": true, \"generation\": " + std::to_string(reply.generation) +
         ", \"processes\": " + std::to_string(reply.processes) +
         ", \"bytes\": " + std::to_string(reply.bytes) +
         ", \"duration_ms\": " + std::to_string(reply.duration_ms) +
         ", \"dir\": " + json_string(dir) + ", \"message\": " + json_string(reply.text) + "}";
}

}  // namespace ckpt
