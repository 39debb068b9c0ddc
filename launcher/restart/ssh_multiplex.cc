// ssh connection sharing for a restart across hosts (see ssh_multiplex.h).
#include "ssh_multiplex.h"

#include <stdlib.h>

#include <filesystem>

namespace ckpt {
namespace {

// Seconds the master stays after its last session: the launch follows the
// probe at once; a master with sessions (the restore workers) stays anyway.
constexpr const char* kPersist = "ControlPersist=5";

bool mentions_control(const std::string& word) {
  return word.find("ControlMaster") != std::string::npos ||
         word.find("ControlPath") != std::string::npos ||
         word.find("ControlPersist") != std::string::npos;
}

}  // namespace

bool can_share_ssh(const std::vector<std::string>& rsh) {
  if (rsh.empty() || std::filesystem::path(rsh[0]).filename() != "ssh") return false;
  for (const std::string& w : rsh)
    if (mentions_control(w) || w == "-S") return false;
  return getenv("CKPT_SSH_SHARE") == nullptr || std::string(getenv("CKPT_SSH_SHARE")) != "0";
}

SshMultiplex::SshMultiplex(std::vector<std::string>* rsh) {
  if (!can_share_ssh(*rsh)) return;
  static std::string created;            // removed at exit too (die() skips destructors)
  char tmpl[] = "/tmp/ckpt-ssh.XXXXXX";  // short: a unix socket path holds 107 bytes
  if (!created.empty() || !mkdtemp(tmpl)) return;
  dir_ = created = tmpl;
  std::atexit([] {
    std::error_code ignored;
    std::filesystem::remove_all(created, ignored);
  });
  std::vector<std::string> options = {
      "-o", "ControlMaster=auto", "-o", "ControlPath=" + dir_ + "/%C", "-o", kPersist};
  rsh->insert(rsh->begin() + 1, options.begin(), options.end());
}

SshMultiplex::~SshMultiplex() {
  if (dir_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace ckpt
