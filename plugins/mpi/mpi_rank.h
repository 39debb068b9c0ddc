// The MPI rank of this process, as the MPI launcher put it in the
// environment (no MPI library needed): shown by `ckpt_command --status` and
// in image names. Pure and malloc-free, so the unit tests can use it.
#pragma once

#include <cstdint>

namespace ckpt {

// The variables tried, in order: the first that holds a decimal rank wins.
//   OMPI_COMM_WORLD_RANK  Open MPI (mpirun/orterun, also under srun)
//   PMIX_RANK             any PMIx launcher (Open MPI 5 prrte, srun --mpi=pmix)
//   PMI_RANK              MPICH/Intel MPI hydra, srun --mpi=pmi2
//   MV2_COMM_WORLD_RANK   MVAPICH2's mpirun_rsh
//   MPI_LOCALRANKID       hydra's node-local rank (last resort)
inline constexpr const char* kRankVariables[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                                 "MV2_COMM_WORLD_RANK", "MPI_LOCALRANKID"};

// A rank in 0..2^31-1 written in decimal (surrounding blanks refused), else -1.
int32_t parse_rank(const char* text);

// The rank from `lookup` (getenv, or a test's table), -1 when none is set.
int32_t rank_from_environment(const char* (*lookup)(const char* name));

}  // namespace ckpt
