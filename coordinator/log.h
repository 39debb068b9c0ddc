// The coordinator's log: one timestamped line per event on stderr (which is
// $CKPT_DIR/ckpt_coordinator.log when daemonized).
#pragma once

namespace ckpt {

[[gnu::format(printf, 1, 2)]] void log_line(const char* fmt, ...);

}  // namespace ckpt
