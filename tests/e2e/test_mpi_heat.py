"""e2e (MPI): examples/mpi_heat on 4 Open MPI ranks (oversubscribed on a
small machine) under `ckpt_launch mpirun`: checkpoints at random points
(CKPT_E2E_SEED replays one), two checkpoint/kill/restart cycles, then the
final checksum and every step line must equal an uninterrupted run's.
Before each checkpoint `ckpt_command --status` must name ranks 0-3, and the
images of the ranks must be ckpt_mpi_heat_r<rank>_<vpid>.img.
SKIPs (exit 77) only when the job holds a resource ckpt reports as
unsupported (mpi_common.py)."""

import harness
import mpi_common


def body(job, bins):
    heat = mpi_common.mpi_example(bins, "mpi_heat")
    mpirun = mpi_common.launcher("mpi_heat", ["mpirun.openmpi", "mpirun"])
    argv = [mpirun, "-np", "4", "--oversubscribe", heat, "400", "128", "30"]
    mpi_common.run_mpi_scenario(job, "mpi_heat", argv, "mpi_heat", 4)


if __name__ == "__main__":
    harness.main("mpi_heat", body)
