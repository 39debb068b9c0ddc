// ckpt_srun: srun as an ssh-like remote shell, for use inside a SLURM
// allocation (ckpt_launch makes it ckpt_rsh's remote shell there, and
// ckpt_restart uses it to start its restart workers on the new nodes):
//
//   ckpt_srun [OPTIONS] HOST COMMAND...
//
// runs COMMAND (its words joined by blanks, through /bin/sh -c as ssh hands
// a command to the remote user's shell, or directly when it holds no shell
// syntax) as a one-task step of the current job on node HOST:
//
//   srun --overlap --nodes=1 --ntasks=1 --nodelist=HOST --kill-on-bad-exit=0
//        --quiet [CKPT_SRUN_ARGS] /bin/sh -c COMMAND
//
// ssh's OPTIONS (Open MPI and hydra add some) are ignored; a user@ in front
// of HOST too. CKPT_SRUN names the srun to run (default: srun on PATH).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "launcher/rsh/remote_shell_args.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  ckpt::rsh::Invocation inv;
  std::string error;
  if (!ckpt::rsh::parse_invocation(args, &inv, &error)) {
    std::fprintf(stderr, "ckpt_srun: %s\n", error.c_str());
    return 255;
  }
  if (inv.command.empty()) {
    std::fprintf(stderr, "ckpt_srun: %s: no command (an interactive login is not supported)\n",
                 inv.host.c_str());
    return 255;
  }
  std::string command;
  for (const auto& w : inv.command) command += (command.empty() ? "" : " ") + w;
  // A plain command runs as the task itself (signals SLURM sends the step
  // reach it, not a shell that would die of them); anything else through sh.
  bool plain = command.find_first_of("|&;<>()$`\\\"'*?[#~=%{}\n") == std::string::npos;
  const char* srun = getenv("CKPT_SRUN");
  std::vector<std::string> out = {srun && *srun ? srun : "srun",
                                  "--overlap",
                                  "--nodes=1",
                                  "--ntasks=1",
                                  "--nodelist=" + ckpt::rsh::host_name(inv.host),
                                  "--kill-on-bad-exit=0",
                                  "--quiet"};
  if (const char* extra = getenv("CKPT_SRUN_ARGS"))
    for (auto& w : ckpt::rsh::words(extra)) out.push_back(w);
  if (plain)
    for (auto& w : ckpt::rsh::words(command)) out.push_back(w);
  else
    out.insert(out.end(), {"/bin/sh", "-c", command});
  std::vector<char*> cargv;
  for (auto& a : out) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  execvp(cargv[0], cargv.data());
  std::fprintf(stderr, "ckpt_srun: %s: cannot run %s: %s\n", inv.host.c_str(), cargv[0],
               std::strerror(errno));
  return 255;
}
