// ckpt inside a SLURM allocation of several nodes (see slurm_allocation.h).
#include "slurm_allocation.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace ckpt {
namespace {

// "1-3,07,10" -> the numbers with their zero padding, appended to prefix.
bool expand_ranges(const std::string& prefix, const std::string& ranges,
                   std::vector<std::string>* out) {
  size_t at = 0;
  while (at <= ranges.size()) {
    size_t end = ranges.find(',', at);
    if (end == std::string::npos) end = ranges.size();
    std::string part = ranges.substr(at, end - at);
    size_t dash = part.find('-');
    std::string lo = part.substr(0, dash),
                hi = dash == std::string::npos ? lo : part.substr(dash + 1);
    if (lo.empty() || hi.empty() || lo.find_first_not_of("0123456789") != std::string::npos ||
        hi.find_first_not_of("0123456789") != std::string::npos || lo.size() > 9 || hi.size() > 9)
      return false;
    long a = std::atol(lo.c_str()), b = std::atol(hi.c_str());
    if (b < a || b - a > 100000) return false;
    for (long n = a; n <= b; n++) {
      std::string digits = std::to_string(n);
      if (digits.size() < lo.size()) digits.insert(0, lo.size() - digits.size(), '0');
      out->push_back(prefix + digits);
    }
    at = end + 1;
  }
  return true;
}

long number(const char* v) { return v && *v ? std::atol(v) : 0; }

}  // namespace

bool expand_nodelist(const std::string& list, std::vector<std::string>* out, std::string* err) {
  out->clear();
  size_t i = 0;
  while (i < list.size()) {
    size_t stop = list.find_first_of(",[", i);
    std::string prefix = list.substr(i, stop == std::string::npos ? std::string::npos : stop - i);
    if (stop != std::string::npos && list[stop] == '[') {
      size_t close = list.find(']', stop);
      if (close == std::string::npos ||
          !expand_ranges(prefix, list.substr(stop + 1, close - stop - 1), out)) {
        *err = "cannot read the SLURM node list " + list;
        return false;
      }
      i = close + 1;
      if (i < list.size() && list[i] != ',') {
        *err = "cannot read the SLURM node list " + list;
        return false;
      }
      i++;
      continue;
    }
    if (!prefix.empty()) out->push_back(prefix);
    if (stop == std::string::npos) break;
    i = stop + 1;
  }
  if (out->empty()) *err = "the SLURM node list is empty";
  return !out->empty();
}

bool in_multinode_allocation(const EnvLookup& lookup) {
  const char* off = lookup("CKPT_SLURM");
  if (off && std::strcmp(off, "0") == 0) return false;
  if (!lookup("SLURM_JOB_ID")) return false;
  long nodes = number(lookup("SLURM_JOB_NUM_NODES"));
  if (nodes == 0) nodes = number(lookup("SLURM_NNODES"));
  return nodes > 1;
}

std::vector<EnvSetting> slurm_launch_env(const EnvLookup& lookup, const std::string& ckpt_rsh,
                                         const std::string& ckpt_srun) {
  std::vector<EnvSetting> out;
  if (!in_multinode_allocation(lookup)) return out;
  auto unset = [&](const char* name) {
    const char* v = lookup(name);
    return !v || !*v;
  };
  if (unset("OMPI_MCA_plm")) out.push_back({"OMPI_MCA_plm", "rsh"});
  if (unset("HYDRA_LAUNCHER")) out.push_back({"HYDRA_LAUNCHER", "ssh"});
  if (unset("HYDRA_LAUNCHER_EXEC")) out.push_back({"HYDRA_LAUNCHER_EXEC", ckpt_rsh});
  if (unset("CKPT_RSH")) out.push_back({"CKPT_RSH", ckpt_srun});
  out.push_back({"CKPT_MPI_ACROSS_HOSTS", "1"});
  return out;
}

bool map_onto_allocation(const std::vector<std::string>& old_hosts, const std::string& main_host,
                         const std::vector<std::string>& nodes, const std::string& here,
                         std::string* spec, std::string* err) {
  if (std::find(nodes.begin(), nodes.end(), here) == nodes.end()) {
    *err = "this node " + here + " is not in SLURM_JOB_NODELIST";
    return false;
  }
  if (std::find(old_hosts.begin(), old_hosts.end(), main_host) == old_hosts.end()) {
    *err = "the checkpoint has no process on " + main_host;
    return false;
  }
  std::vector<std::string> others(old_hosts), targets;
  std::erase(others, main_host);
  std::sort(others.begin(), others.end());
  for (const auto& n : nodes)
    if (n != here) targets.push_back(n);
  if (targets.empty()) targets.push_back(here);  // a one-node allocation takes every old host
  *spec = main_host + "=" + here;
  for (size_t i = 0; i < others.size(); i++)
    *spec += "," + others[i] + "=" + targets[i % targets.size()];
  return true;
}

bool step_nodes(const EnvLookup& lookup, std::vector<std::string>* nodes, std::string* err) {
  const char* list = lookup("SLURM_STEP_NODELIST");
  if (!list || !*list) {
    *err = "SLURM_STEP_NODELIST is not set";
    return false;
  }
  return expand_nodelist(list, nodes, err);
}

std::string step_coordinator_node(const EnvLookup& lookup, std::string* here) {
  const char* off = lookup("CKPT_SLURM");
  const char* chosen = lookup("CKPT_COORD_HOST");
  const char* me = lookup("SLURMD_NODENAME");
  if ((off && std::strcmp(off, "0") == 0) || (chosen && *chosen) || !lookup("SLURM_STEP_ID") ||
      number(lookup("SLURM_STEP_NUM_NODES")) < 2 || !me || !*me)
    return "";
  std::vector<std::string> nodes;
  std::string err;
  if (!step_nodes(lookup, &nodes, &err)) return "";
  *here = me;
  return nodes.front();
}

}  // namespace ckpt
