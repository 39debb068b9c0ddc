// Reading and writing the job's roster file (see roster_file.h).
#include "roster_file.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ckpt {

std::string RosterEntry::label() const {
  return std::to_string(vpid) + " (" + program + "@" + host + ")";
}

std::string roster_path(const std::string& dir) { return dir + "/" + kRosterFileName; }

std::vector<RosterEntry> read_roster(const std::string& dir) {
  std::vector<RosterEntry> out;
  std::ifstream in(roster_path(dir));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    RosterEntry e;
    if (!(words >> e.host >> e.real_pid >> e.vpid >> e.start_time)) continue;
    std::getline(words >> std::ws, e.program);
    if (e.real_pid > 0) out.push_back(std::move(e));
  }
  return out;
}

std::string write_roster(const std::string& dir, const std::vector<RosterEntry>& entries) {
  std::string path = roster_path(dir);
  if (entries.empty()) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return "cannot remove " + path + ": " + std::strerror(errno);
    return "";
  }
  std::string text =
      "# processes registered with the coordinator: host real_pid vpid start program\n";
  for (const auto& e : entries)
    text += e.host + " " + std::to_string(e.real_pid) + " " + std::to_string(e.vpid) + " " +
            std::to_string(e.start_time) + " " + e.program + "\n";
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) return "cannot write " + tmp + ": " + std::strerror(errno);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return "cannot rename " + tmp + ": " + std::strerror(errno);
  return "";
}

uint64_t process_start_time(int32_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (pid <= 0 || !std::getline(in, stat)) return 0;
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 1));
  std::string state, skip;
  fields >> state;  // field 3
  if (state == "Z" || state == "X") return 0;
  for (int field = 4; field < 22; field++) fields >> skip;
  uint64_t start = 0;
  fields >> start;
  return start;
}

Liveness liveness(const RosterEntry& entry, const std::string& local_host) {
  if (entry.host != local_host) return Liveness::kUnknown;
  uint64_t start = process_start_time(entry.real_pid);
  if (start == 0) return Liveness::kGone;
  return entry.start_time == 0 || entry.start_time == start ? Liveness::kRunning : Liveness::kGone;
}

std::string this_host_name() {
  utsname u{};
  if (::uname(&u) != 0) return "";
  return u.nodename;
}

}  // namespace ckpt
