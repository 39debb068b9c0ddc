"""e2e (MPI): examples/mpi_ring on 8 Open MPI ranks (oversubscribed): 1 MiB
messages around the ring every step, each word checked on receipt; two
checkpoint/kill/restart cycles at random points, output equal to an
uninterrupted run's; `ckpt_command --status` names ranks 0-7; images are
ckpt_mpi_ring_r<rank>_<vpid>.img.
SKIPs (exit 77) only when the job holds a resource ckpt reports as
unsupported (mpi_common.py)."""

import harness
import mpi_common


def body(job, bins):
    ring = mpi_common.mpi_example(bins, "mpi_ring")
    mpirun = mpi_common.launcher("mpi_ring8", ["mpirun.openmpi", "mpirun"])
    argv = [mpirun, "-np", "8", "--oversubscribe", ring, "300", "1024", "30"]
    mpi_common.run_mpi_scenario(job, "mpi_ring8", argv, "mpi_ring", 8)


if __name__ == "__main__":
    harness.main("mpi_ring8", body)
