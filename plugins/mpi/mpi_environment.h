// Checkpoint-friendly MPI transport settings that ckpt_launch puts in the
// job's environment (docs/mpi.md explains each one).
//
// A restored rank gets its memory and descriptors back, but not what the
// kernel keeps outside them for a transport: another process's memory read
// by pid (CMA, process_vm_readv), a shared-memory segment with a peer, an
// RDMA device. The defaults make Open MPI and MPICH talk over TCP on the
// loopback interface only (what the socket support restores), unless the
// user chose otherwise: a variable already in the environment, or given on
// the launcher's command line (mpirun --mca NAME, -x NAME; mpiexec -genv
// NAME, -env NAME), is left alone.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace ckpt {

struct EnvSetting {
  std::string name;
  std::string value;
};

struct MpiEnvOptions {
  // Keep the intra-node shared-memory transports (Open MPI's vader with its
  // single-copy defaults, MPICH's shm): faster, but checkpointable only with
  // shared memory support, and CMA only when the pids come back.
  bool shared_memory = false;
  // The job spans hosts (the launcher's command line names hosts, or
  // CKPT_MPI_ACROSS_HOSTS=1): no loopback-only interface settings.
  bool across_hosts = false;
};

// The variables to set for a job whose command line is `argv` (the program
// and its arguments; an MPI launcher's options are read from it), given the
// current environment `lookup` (name -> value or nullptr). In the order of
// the table in mpi_environment.cc.
std::vector<EnvSetting> mpi_environment_defaults(
    const std::vector<std::string>& argv, const std::function<const char*(const char*)>& lookup,
    const MpiEnvOptions& options);

// Whether argv names `variable` on an MPI launcher's command line: for
// OMPI_MCA_x, "--mca x" / "-mca x" / "--gmca x"; for PMIX_MCA_x,
// "--pmixmca x" / "--gpmixmca x"; for any variable, "-x NAME[=V]",
// "-genv NAME [V]", "-env NAME [V]" and "--env NAME[=V]".
// Every variable name the table may set (ckpt_rsh passes them to remote hosts).
std::vector<std::string> mpi_environment_names();

// Whether argv (an MPI launcher's command line) names hosts: --host/-H,
// --hostfile, --machinefile, -hosts, -f, -hostfile.
bool launcher_names_hosts(const std::vector<std::string>& argv);

bool launcher_sets(const std::vector<std::string>& argv, const std::string& variable);

}  // namespace ckpt
