"""e2e (MPI): checkpoints while ranks are blocked in MPI_Recv. examples/mpi_ring
in token mode on 3 Open MPI ranks: rank 0 sleeps 400 ms before it sends each
step's message, so ranks 1 and 2 spend nearly all their time inside a
blocking MPI_Recv (and rank 0 in its sleep or its own MPI_Recv) when the
checkpoint comes. Two checkpoint/kill/restart cycles; the message contents
are checked on receipt and the output must equal an uninterrupted run's;
`ckpt_command --status` names ranks 0-2.
SKIPs (exit 77) only when the job holds a resource ckpt reports as
unsupported (mpi_common.py)."""

import harness
import mpi_common


def body(job, bins):
    ring = mpi_common.mpi_example(bins, "mpi_ring")
    mpirun = mpi_common.launcher("mpi_recv_block", ["mpirun.openmpi", "mpirun"])
    argv = [mpirun, "-np", "3", "--oversubscribe", ring, "60", "256", "0", "token", "400"]
    mpi_common.run_mpi_scenario(job, "mpi_recv_block", argv, "mpi_ring", 3, first_steps=3)


if __name__ == "__main__":
    harness.main("mpi_recv_block", body)
