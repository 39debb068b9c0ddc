// What ckpt_command --checkpoint shows: on a terminal a live progress line
// (processes stopped and written of N, bytes, MiB/s, elapsed time) redrawn
// in place, then one summary line (generation, processes, size, time); or
// one JSON object for scripts.
#pragma once

#include <cstdint>
#include <string>

#include "ckpt/protocol.h"

namespace ckpt {

// "checkpoint 3: stopped 2/2, written 1/2, 12.0 MiB, 30.5 MiB/s, 0.4 s".
std::string progress_line(const proto::CmdProgress& p, uint64_t elapsed_ms);

// The summary of a reply to CmdCheckpoint: "checkpoint 3 committed: 2
// processes, 12.0 MiB in 0.412 s (29.1 MiB/s)" (the time to the ms) plus whatever the
// coordinator added after its own figures (warnings, "killed ..."); the
// coordinator's text as is when the reply has no figures (a failure, or an
// older coordinator).
std::string checkpoint_summary(const proto::CmdReply& reply);

// {"ok": true, "generation": 3, "processes": 2, "bytes": N, "duration_ms": M,
//  "dir": "...", "message": "..."}; a failure: {"ok": false, "error": "..."}.
std::string checkpoint_json(const proto::CmdReply& reply, const std::string& dir);

// "29.3 MiB/s" for bytes over ms ("-" when no time passed).
std::string rate_text(uint64_t bytes, uint64_t ms);

}  // namespace ckpt
