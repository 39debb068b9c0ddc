"""e2e (MPI): examples/mpi_heat built with MPICH (mpi_heat_mpich) on 4 ranks
under `ckpt_launch mpiexec.hydra`: the ranks come from PMI_RANK, the
transport defaults of ckpt_launch (MPIR_CVAR_NOLOCAL, UCX over TCP on lo)
apply. Two checkpoint/kill/restart cycles at random points; output equal to
an uninterrupted run's; `ckpt_command --status` names ranks 0-3; images are
ckpt_mpi_heat_mpich_r<rank>_<vpid>.img.
SKIPs (exit 77) without MPICH (scripts/setup.sh installs it), and when the
job holds a resource ckpt reports as unsupported (mpi_common.py)."""

import harness
import mpi_common


def body(job, bins):
    heat = mpi_common.mpi_example(bins, "mpi_heat_mpich")
    hydra = mpi_common.launcher("mpi_mpich", ["mpiexec.hydra", "mpiexec.mpich"])
    argv = [hydra, "-n", "4", heat, "400", "128", "30"]
    mpi_common.run_mpi_scenario(job, "mpi_mpich", argv, "mpi_heat_mpich", 4)


if __name__ == "__main__":
    harness.main("mpi_mpich", body)
