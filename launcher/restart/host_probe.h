// Before a restart across hosts starts anything: every new host must answer
// the remote shell (`RSH HOST true`), so that an unreachable host or a
// failing remote shell stops the restart at once with one line naming the
// host, before any other host restored a process (and the checkpoint stays
// as it was).
#pragma once

#include <string>
#include <vector>

namespace ckpt {

// Runs `rsh... HOST true` for every host in parallel (at most timeout_s
// seconds). False with *err = one line about the first host that failed,
// naming the remote shell as `shown` (the user's words for it).
bool probe_hosts(const std::vector<std::string>& hosts, const std::vector<std::string>& rsh,
                 const std::string& shown, int timeout_s, std::string* err);

}  // namespace ckpt
