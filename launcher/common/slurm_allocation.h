// What ckpt does inside a SLURM allocation of several nodes (docs/schedulers.md,
// "Multi-node jobs"):
//
// - at launch, MPI launchers start their remote daemons through ckpt_rsh
//   with srun as its remote shell (ckpt_srun), so that the daemons are steps
//   of the job and run under checkpoint control: Open MPI's plm becomes rsh
//   (its default inside an allocation is plm slurm, which runs srun itself,
//   outside ckpt's reach), hydra's launcher becomes ssh with ckpt_rsh;
// - at restart, a checkpoint of several hosts is mapped onto the nodes of
//   SLURM_JOB_NODELIST without the user naming them: the host of the
//   process the user launched (mpirun) goes to this node (the batch host),
//   the other old hosts, by name, to the other nodes in their order; with
//   fewer new nodes than old hosts, the old hosts are packed round robin
//   onto them;
// - every task of a step over several nodes (`srun ckpt_launch PROG`) joins
//   one coordinator, on the step's first node, and at restart each task
//   restores the old hosts that fall to its node (the same mapping, the
//   step's first node taking the first old host by name).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "plugins/mpi/mpi_environment.h"

namespace ckpt {

using EnvLookup = std::function<const char*(const char*)>;

// SLURM's compact node list ("ckh[1-3],node07,gpu[01-02,05]") as names.
// false with *err when it is malformed.
bool expand_nodelist(const std::string& list, std::vector<std::string>* out, std::string* err);

// True inside a SLURM allocation of more than one node (SLURM_JOB_ID and
// SLURM_JOB_NUM_NODES or SLURM_NNODES > 1), unless CKPT_SLURM=0.
bool in_multinode_allocation(const EnvLookup& lookup);

// The variables that make MPI launchers start their daemons with srun under
// ckpt (see above). Variables the user set stay theirs.
std::vector<EnvSetting> slurm_launch_env(const EnvLookup& lookup, const std::string& ckpt_rsh,
                                         const std::string& ckpt_srun);

// The --hosts spec ("OLD=NEW,...") that puts `old_hosts` (main_host: the
// host of the launched process) onto `nodes`, `here` (this node, which must
// be one of them) taking main_host. false with *err (one line) when it
// cannot be done.
bool map_onto_allocation(const std::vector<std::string>& old_hosts, const std::string& main_host,
                         const std::vector<std::string>& nodes, const std::string& here,
                         std::string* spec, std::string* err);

// For a task of a SLURM step over several nodes (SLURM_STEP_NUM_NODES > 1)
// when CKPT_COORD_HOST is not set and CKPT_SLURM is not 0: the step's first
// node, where the job's coordinator runs; else "". *here gets this node
// (SLURMD_NODENAME).
std::string step_coordinator_node(const EnvLookup& lookup, std::string* here);

// The step's nodes (SLURM_STEP_NODELIST) when step_coordinator_node applies.
bool step_nodes(const EnvLookup& lookup, std::vector<std::string>* nodes, std::string* err);

}  // namespace ckpt
