"""e2e (sockets): an Open MPI job over TCP, `mpirun -np 4 --oversubscribe
mpi_ring_tcp` with OMPI_MCA_btl=self,tcp, survives two checkpoint/kill/restart
cycles of the whole tree (mpirun/orterun and its four ranks). Its sockets are
the hard case of TCP restore: listeners bound to 0.0.0.0 and [::] on ports
the kernel chose (without SO_REUSEADDR), connections accepted from them
(sharing the listener's port) on the host's own address as well as on
127.0.0.1 (the PMIx server), several clients of one listener, bytes in
flight (256 KiB blocks around the ring), and the TIME_WAIT remnants of the
killed run on every one of those ports at restart. The ranks check every
value, block and sum they receive against a local replay; stdout must equal
an uninterrupted run's. Skipped (77) where MPI is not installed."""

import os
import shutil
import sys

import harness

RANKS = 4
STEPS = 60
DELAY_US = 40000


def body(job, bins):
    prog = harness.e2e_program(bins, "mpi_ring_tcp")
    mpirun = shutil.which("mpirun")
    job.env.update({
        "OMPI_MCA_btl": "self,tcp",
        "OMPI_ALLOW_RUN_AS_ROOT": "1",
        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        # No shared-memory transport and no attempt to use other networks.
        "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
        "OMPI_MCA_pml": "ob1",
    })
    argv = [mpirun, "-np", str(RANKS), "--oversubscribe", prog, str(STEPS), str(DELAY_US)]
    sc = harness.Scenario("mpi_tcp", lambda work: argv, first_steps=5, tree=True)
    harness.run_cycles(job, sc)


def mpi_missing():
    if not shutil.which("mpirun"):
        return "mpirun is not on PATH"
    try:
        harness.e2e_program(harness.Binaries(), "mpi_ring_tcp")
    except harness.TestFailure as e:
        return f"{e} (meson found no MPI)"
    return None


if __name__ == "__main__":
    why = mpi_missing()
    if why:
        print(f"SKIP mpi_tcp: {why}", flush=True)
        sys.exit(harness.SKIP_EXIT)
    harness.main("mpi_tcp", body)
