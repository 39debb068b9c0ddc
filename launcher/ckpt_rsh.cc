// ckpt_rsh: the remote shell that ckpt_launch gives MPI launchers (Open MPI's
// plm_rsh_agent, hydra's launcher exec), so that remote daemons run under
// checkpoint control and their channel to the launcher survives checkpoints
// and restarts. Called like ssh:
//
//   ckpt_rsh [OPTIONS] HOST COMMAND...    (OPTIONS go to the real remote shell)
//
// The real remote shell is CKPT_RSH (default ssh; ckpt_launch puts the one
// the user chose there). It only starts `ckpt_rsh --serve` on HOST, which
// starts the relay (`ckpt_rsh --relay`, under ckpt_launch) and lets the
// remote shell end; the relay connects back by TCP and carries the command's
// stdin, stdout, stderr and exit status (rsh/local_side.h, rsh/remote_side.h).
// Outside a job (no CKPT_SECRET) it just runs the real remote shell.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "launcher/rsh/local_side.h"
#include "launcher/rsh/remote_shell_args.h"
#include "launcher/rsh/remote_side.h"

namespace {

int run_plain(const ckpt::rsh::Invocation& inv, const std::vector<std::string>& args) {
  const char* line = getenv("CKPT_RSH");
  std::vector<std::string> argv = ckpt::rsh::words(line && *line ? line : "ssh");
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  execvp(cargv[0], cargv.data());
  std::fprintf(stderr, "ckpt_rsh: %s: cannot run %s: %s\n", inv.host.c_str(), cargv[0],
               std::strerror(errno));
  return 255;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "--serve") return ckpt::rsh::serve(args[1]);
  if (args.size() == 2 && args[0] == "--relay") return ckpt::rsh::relay(args[1]);
  ckpt::rsh::Invocation inv;
  std::string error;
  if (!ckpt::rsh::parse_invocation(args, &inv, &error)) {
    std::fprintf(stderr, "ckpt_rsh: %s\n", error.c_str());
    return 255;
  }
  const char* secret = getenv("CKPT_SECRET");
  if (inv.command.empty() || !secret || !*secret) return run_plain(inv, args);
  return ckpt::rsh::run_local_side(inv);
}
