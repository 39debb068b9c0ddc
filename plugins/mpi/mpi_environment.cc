// MPI transport defaults (see mpi_environment.h).
#include "mpi_environment.h"

namespace ckpt {
namespace {

enum class When { kAlways, kNoShm, kOneHost, kAcrossHosts };

struct Default {
  const char* name;
  const char* value;
  When when;
};

// Open MPI 4.x (ob1 + BTLs, ORTE/PMIx), then MPICH (hydra; ch4:ucx on Debian).
constexpr Default kDefaults[] = {
    // Point-to-point through ob1 and the BTLs below, never UCX or an MTL.
    {"OMPI_MCA_pml", "ob1", When::kAlways},
    {"OMPI_MCA_btl", "self,tcp", When::kNoShm},
    // vader's large messages read the peer's memory by pid (CMA).
    {"OMPI_MCA_btl_vader_single_copy_mechanism", "none", When::kNoShm},
    // One-sided: neither UCX nor the shared-memory window.
    {"OMPI_MCA_osc", "^ucx,sm", When::kNoShm},
    // One node: loopback only, IPv4 only (fewer sockets to restore).
    {"OMPI_MCA_btl_tcp_if_include", "lo", When::kOneHost},
    {"OMPI_MCA_btl_tcp_disable_family", "6", When::kAlways},
    {"OMPI_MCA_oob_tcp_if_include", "lo", When::kOneHost},
    {"OMPI_MCA_oob_tcp_disable_ipv6_family", "1", When::kAlways},
    // Across hosts: ports the kernel chooses, not the same 1024, 1025, ... on
    // every host, which would clash when a restart puts two hosts on one.
    {"OMPI_MCA_btl_tcp_port_min_v4", "0", When::kAcrossHosts},
    {"OMPI_MCA_btl_tcp_port_min_v6", "0", When::kAcrossHosts},
    // PMIx keeps its key-value store in a hash table, not in shared files of
    // the session directory mapped by every rank.
    {"PMIX_MCA_gds", "hash", When::kAlways},
    // MPICH: no shared memory between local ranks; UCX over TCP on lo.
    {"MPIR_CVAR_NOLOCAL", "1", When::kNoShm},
    {"UCX_TLS", "self,tcp", When::kNoShm},
    {"UCX_NET_DEVICES", "lo", When::kOneHost},
};

bool name_matches(const std::string& arg, const std::string& variable) {
  // NAME or NAME=VALUE
  return arg == variable ||
         (arg.size() > variable.size() && arg.compare(0, variable.size(), variable) == 0 &&
          arg[variable.size()] == '=');
}

}  // namespace

std::vector<std::string> mpi_environment_names() {
  std::vector<std::string> out;
  for (const Default& d : kDefaults) out.emplace_back(d.name);
  return out;
}

bool launcher_names_hosts(const std::vector<std::string>& argv) {
  static const char* const kHostOptions[] = {
      "--host",       "-host",  "-H",      "--hostfile", "-hostfile",         "--machinefile",
      "-machinefile", "-hosts", "--hosts", "-f",         "--default-hostfile"};
  for (size_t i = 1; i + 1 < argv.size(); i++)
    for (const char* opt : kHostOptions)
      if (argv[i] == opt) return true;
  return false;
}

bool launcher_sets(const std::vector<std::string>& argv, const std::string& variable) {
  std::string mca;  // the MCA parameter name, for OMPI_MCA_/PMIX_MCA_ variables
  bool pmix = false;
  if (variable.starts_with("OMPI_MCA_")) mca = variable.substr(9);
  if (variable.starts_with("PMIX_MCA_")) mca = variable.substr(9), pmix = true;
  for (size_t i = 0; i + 1 < argv.size(); i++) {
    const std::string& opt = argv[i];
    const std::string& next = argv[i + 1];
    if (opt == "-x" || opt == "-genv" || opt == "-env" || opt == "--env" || opt == "--genv") {
      if (name_matches(next, variable)) return true;
    } else if (!mca.empty()) {
      bool ompi_opt = opt == "--mca" || opt == "-mca" || opt == "--gmca" || opt == "-gmca";
      bool pmix_opt = opt == "--pmixmca" || opt == "-pmixmca" || opt == "--gpmixmca";
      if ((pmix ? pmix_opt : ompi_opt) && next == mca) return true;
    }
  }
  return false;
}

std::vector<EnvSetting> mpi_environment_defaults(
    const std::vector<std::string>& argv, const std::function<const char*(const char*)>& lookup,
    const MpiEnvOptions& options) {
  std::vector<EnvSetting> out;
  for (const Default& d : kDefaults) {
    if (d.when == When::kNoShm && options.shared_memory) continue;
    if (d.when == When::kOneHost && options.across_hosts) continue;
    if (d.when == When::kAcrossHosts && !options.across_hosts) continue;
    if (lookup(d.name) != nullptr || launcher_sets(argv, d.name)) continue;
    out.push_back({d.name, d.value});
  }
  return out;
}

}  // namespace ckpt
