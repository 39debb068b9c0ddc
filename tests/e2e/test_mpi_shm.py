"""e2e (MPI): examples/mpi_heat on 4 Open MPI ranks with Open MPI's own
shared-memory defaults kept (`ckpt_launch --mpi-shm`, CKPT_MPI_SHM=1: the
vader BTL with its /dev/shm segments and CMA single-copy, osc sm): the
segments are shared memory between the ranks, saved once and mapped shared
again at restart, and CMA finds every rank under its old pid (clone3
set_tid, root). Checkpoints at random points, two checkpoint/kill/restart
cycles, then every step line and the final checksum must equal an
uninterrupted run's."""

import harness
import mpi_common


def body(job, bins):
    heat = mpi_common.mpi_example(bins, "mpi_heat")
    mpirun = mpi_common.launcher("mpi_shm", ["mpirun.openmpi", "mpirun"])
    job.env["CKPT_MPI_SHM"] = "1"
    argv = [mpirun, "-np", "4", "--oversubscribe", heat, "400", "128", "30"]
    mpi_common.run_mpi_scenario(job, "mpi_shm", argv, "mpi_heat", 4)


if __name__ == "__main__":
    harness.main("mpi_shm", body)
