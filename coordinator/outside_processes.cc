// Processes outside the computation (see outside_processes.h).
#include "outside_processes.h"

#include <signal.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <fstream>

#include "log.h"

namespace ckpt {
namespace {

// Whether a pid of this host still names a running (not zombie) process.
// Best effort: a reused pid counts as alive.
bool pid_alive(int32_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;  // /proc hidden: trust kill()
  size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'Z';
}

}  // namespace

std::string local_host_name() {
  utsname u{};
  return ::uname(&u) == 0 ? std::string(u.nodename) : std::string();
}

void OutsideProcesses::add(const Peer& reporter, const proto::Outside& msg) {
  OutsideProcess entry{msg.real_pid, msg.parent_vpid, reporter.process.host,
                       std::string(msg.program), std::string(msg.reason)};
  log_line("process %d (%s@%s), child of %d, is outside the computation: %s", entry.real_pid,
           entry.program.c_str(), entry.host.c_str(), entry.parent_vpid, entry.reason.c_str());
  std::erase_if(list_, [&](const OutsideProcess& e) {
    return e.real_pid == entry.real_pid && e.host == entry.host;
  });
  list_.push_back(std::move(entry));
}

void OutsideProcesses::prune(PeerTable& peers) {
  std::erase_if(list_, [&](const OutsideProcess& e) {
    if (!peers.find_process(e.parent_vpid, e.host)) return true;
    return e.host == own_host_ && !pid_alive(e.real_pid);
  });
}

}  // namespace ckpt
