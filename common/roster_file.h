// The job's roster file, <ckpt dir>/.ckpt_processes: the processes
// registered with the job's coordinator, one per line, rewritten by the
// coordinator whenever that set changes and removed when none is left. It
// outlives a coordinator that dies (SIGKILL, its node lost), so that the
// next coordinator knows whom to expect back and ckpt_command can say that
// processes of the job run without a coordinator.
//
//   # comment lines
//   <host> <real pid> <vpid> <start time> <program>
//
// start time: field 22 of /proc/<pid>/stat (clock ticks since boot) when the
// coordinator runs on the process's host, else 0; with the pid it tells a
// running process from a later one that reuses its pid.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ckpt {

inline constexpr const char* kRosterFileName = ".ckpt_processes";

struct RosterEntry {
  std::string host;
  int32_t real_pid = 0;
  int32_t vpid = 0;
  uint64_t start_time = 0;
  std::string program;

  // "1234 (prog@host)", as the coordinator names processes.
  std::string label() const;
};

enum class Liveness { kRunning, kGone, kUnknown /* on another host */ };

std::string roster_path(const std::string& dir);
// The entries of the roster file; none if it is missing or unreadable
// (malformed lines are skipped).
std::vector<RosterEntry> read_roster(const std::string& dir);
// Replaces the roster file atomically (tmp + rename); an empty list removes
// it. "" or an error line.
std::string write_roster(const std::string& dir, const std::vector<RosterEntry>& entries);

// Field 22 of /proc/<pid>/stat; 0 if there is no such process or it is a zombie.
uint64_t process_start_time(int32_t pid);
// Whether the entry's process still runs, seen from `local_host`.
Liveness liveness(const RosterEntry& entry, const std::string& local_host);
// This machine's host name (as processes report theirs: uname's nodename).
std::string this_host_name();

}  // namespace ckpt
