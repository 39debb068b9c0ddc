// One ssh connection per new host for a restart across hosts. The
// reachability probe (`ssh HOST true`) and the launch of the host's restore
// worker would otherwise each pay a full ssh handshake (0.7 s here); with
// OpenSSH's connection sharing the probe opens a master connection that the
// launch reuses. Only for an `ssh` remote shell whose options do not set
// ControlMaster/ControlPath themselves; any other remote shell is left as is.
#pragma once

#include <string>
#include <vector>

namespace ckpt {

class SshMultiplex {
 public:
  // Adds the connection-sharing options to rsh when it is plain OpenSSH.
  explicit SshMultiplex(std::vector<std::string>* rsh);
  // Removes the private directory of the control sockets.
  ~SshMultiplex();
  SshMultiplex(const SshMultiplex&) = delete;
  SshMultiplex& operator=(const SshMultiplex&) = delete;

  bool active() const { return !dir_.empty(); }

 private:
  std::string dir_;
};

// True when rsh is an ssh command that can share connections.
bool can_share_ssh(const std::vector<std::string>& rsh);

}  // namespace ckpt
