// The coordinator's command-line options, with environment fallbacks
// (CKPT_COORD_PORT, CKPT_DIR, CKPT_KEEP, CKPT_INTERVAL, CKPT_REQUEUE,
// CKPT_TIMEOUT, CKPT_MAX_PENDING).
#pragma once

#include <cstdint>
#include <string>

namespace ckpt {

struct CoordinatorOptions {
  uint16_t port = 0;      // 0: any free port
  std::string port_file;  // write the bound port here once listening
  std::string listen = "0.0.0.0";
  std::string dir;  // absolute checkpoint dir
  bool daemon = false;
  bool exit_on_last = false;
  int keep = 2;            // committed generations kept
  int timeout_s = 600;     // limit for each checkpoint phase
  int interval_s = 0;      // periodic checkpoints; 0 = off
  bool requeue = false;    // ask the scheduler to requeue after a preemption checkpoint
  int max_pending = 1024;  // connections held before they authenticate
  bool help = false;       // --help: print the usage and exit
};

// Parses the environment and argv into *out; false with a one-line *err.
bool parse_coordinator_options(int argc, char** argv, CoordinatorOptions* out, std::string* err);

extern const char kCoordinatorUsage[];

}  // namespace ckpt
