"""2-D heat diffusion with mpi4py and NumPy, for ckpt's interpreter-loaded MPI
support (docs/mpi.md): Python loads libmpi with dlopen when `mpi4py.MPI` is
imported, long after the program started.

Usage: mpirun -np P /usr/bin/python3 mpi4py_heat.py STEPS [N] [SLEEP_MS]

An N x N grid (rows split over the ranks) with a hot left edge; each step is
one Jacobi sweep: halo rows exchanged with Sendrecv (point-to-point), then the
global change and heat summed with Allreduce. Rank 0 prints one line per step
("step K change C heat H", exact decimal), so the output is the same for every
run with the same number of ranks. SLEEP_MS (default 10) paces the steps."""

import sys
import time

import numpy as np
from mpi4py import MPI


def main():
    steps = int(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    pause = (int(sys.argv[3]) if len(sys.argv) > 3 else 10) / 1000.0
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    lo, hi = rank * n // size, (rank + 1) * n // size
    # Local rows plus one halo row on each side; the left column is held at 1.
    grid = np.zeros((hi - lo + 2, n), dtype=np.float64)
    grid[:, 0] = 1.0
    up = rank - 1 if rank > 0 else MPI.PROC_NULL
    down = rank + 1 if rank < size - 1 else MPI.PROC_NULL
    for step in range(1, steps + 1):
        comm.Sendrecv(grid[1], dest=up, sendtag=1, recvbuf=grid[-1], source=down, recvtag=1)
        comm.Sendrecv(grid[-2], dest=down, sendtag=2, recvbuf=grid[0], source=up, recvtag=2)
        new = grid.copy()
        new[1:-1, 1:-1] = 0.25 * (grid[:-2, 1:-1] + grid[2:, 1:-1] + grid[1:-1, :-2] + grid[1:-1, 2:])
        if rank == 0:
            new[1, 1:] = 0.0  # the top edge stays cold
        if rank == size - 1:
            new[-2, 1:] = 0.0  # so does the bottom edge
        local = np.array([np.abs(new[1:-1] - grid[1:-1]).sum(), new[1:-1].sum()])
        grid = new
        total = np.zeros(2)
        comm.Allreduce(local, total, op=MPI.SUM)
        if rank == 0:
            print(f"step {step} change {total[0].hex()} heat {total[1].hex()}", flush=True)
        time.sleep(pause)
    if rank == 0:
        print(f"done {steps} steps on {size} ranks", flush=True)


if __name__ == "__main__":
    main()
