// Remote shells of MPI launchers through ckpt_rsh (see remote_shell_env.h).
#include "remote_shell_env.h"

namespace ckpt {
namespace {

bool is_mca_option(const std::string& s) {
  return s == "--mca" || s == "-mca" || s == "--gmca" || s == "-gmca";
}

bool is_agent_name(const std::string& s) {
  return s == "plm_rsh_agent" || s == "orte_rsh_agent" || s == "pls_rsh_agent";
}

bool is_exec_option(const std::string& s) {
  return s == "-launcher-exec" || s == "--launcher-exec" || s == "-bootstrap-exec" ||
         s == "--bootstrap-exec";
}

// The user's remote shell named at argv[i] (replaced by ckpt_rsh), or "".
std::string take_from_argv(std::vector<std::string>* argv, const std::string& ckpt_rsh) {
  std::string found;
  for (size_t i = 1; i < argv->size(); i++) {
    std::string& a = (*argv)[i];
    size_t value = 0;
    if (is_mca_option(a) && i + 2 < argv->size() && is_agent_name((*argv)[i + 1])) value = i + 2;
    if (is_exec_option(a) && i + 1 < argv->size()) value = i + 1;
    if (value && (*argv)[value] != ckpt_rsh) {
      found = (*argv)[value];
      (*argv)[value] = ckpt_rsh;
    }
  }
  return found;
}

}  // namespace

std::vector<EnvSetting> wrap_remote_shells(std::vector<std::string>* argv,
                                           const std::function<const char*(const char*)>& lookup,
                                           const std::string& ckpt_rsh) {
  std::string user = take_from_argv(argv, ckpt_rsh);
  for (const char* name :
       {"OMPI_MCA_plm_rsh_agent", "HYDRA_LAUNCHER_EXEC", "HYDRA_BOOTSTRAP_EXEC"}) {
    const char* v = lookup(name);
    if (user.empty() && v && *v && ckpt_rsh != v) user = v;
  }
  std::vector<EnvSetting> out;
  const char* chosen = lookup("CKPT_RSH");
  if (!user.empty() && !(chosen && *chosen)) out.push_back({"CKPT_RSH", user});
  out.push_back({"OMPI_MCA_plm_rsh_agent", ckpt_rsh});
  // Inside a batch allocation hydra's launcher is the scheduler's (srun, ...),
  // and its exec must stay that; Open MPI then ignores plm_rsh_agent itself.
  bool batch = lookup("SLURM_JOB_ID") || lookup("PBS_JOBID") || lookup("LSB_JOBID");
  if (!batch || !user.empty()) out.push_back({"HYDRA_LAUNCHER_EXEC", ckpt_rsh});
  return out;
}

}  // namespace ckpt
