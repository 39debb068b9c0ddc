// Processes outside the computation: programs the runtime could not follow
// (a statically linked or setuid program a process exec'd), reported with
// Outside by their parent's runtime. They are not checkpointed; status lists
// them until they end or their parent leaves the computation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ckpt/protocol.h"
#include "peer_table.h"

namespace ckpt {

struct OutsideProcess {
  int32_t real_pid = 0;
  int32_t parent_vpid = 0;
  std::string host;  // the reporting process's host
  std::string program;
  std::string reason;
};

class OutsideProcesses {
 public:
  // `own_host`: this machine's name, the only host whose pids we can check.
  explicit OutsideProcesses(std::string own_host) : own_host_(std::move(own_host)) {}

  // Records (or updates) what `reporter` said.
  void add(const Peer& reporter, const proto::Outside& msg);
  // Drops entries whose parent is no longer a live process of the
  // computation, and, on this host, those whose pid has ended.
  void prune(PeerTable& peers);
  const std::vector<OutsideProcess>& list() const { return list_; }

 private:
  std::string own_host_;
  std::vector<OutsideProcess> list_;
};

// uname's node name, as the runtime reports its host.
std::string local_host_name();

}  // namespace ckpt
