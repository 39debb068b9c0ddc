"""e2e (MPI from an interpreter): examples/mpi4py_heat.py, a NumPy heat solver
on 2 Open MPI ranks of Debian's python3 with python3-mpi4py. Python loads
libmpi with dlopen when it imports mpi4py.MPI, so libckpt_mpi.so must find
the real MPI_Init_thread in a library loaded after start-up. Random
checkpoint points (CKPT_E2E_SEED replays one), two checkpoint/kill/restart
cycles; every step line (Sendrecv halos, Allreduce sums, printed exactly)
must equal an uninterrupted run's. SKIPs (exit 77) when python3-mpi4py or
python3-numpy (for /usr/bin/python3) or Open MPI is not installed."""

import os
import subprocess

import harness
import mpi_common

PYTHON = "/usr/bin/python3"


def body(job, bins):
    probe = subprocess.run([PYTHON, "-c", "import mpi4py, numpy"], capture_output=True) if os.path.exists(
        PYTHON) else None
    if probe is None or probe.returncode != 0:
        mpi_common.skip("mpi4py", f"{PYTHON} cannot import mpi4py and numpy "
                                  "(apt-get install python3-mpi4py python3-numpy)")
    mpirun = mpi_common.launcher("mpi4py", ["mpirun.openmpi", "mpirun"])
    script = os.path.join(bins.examples_src, "mpi4py_heat.py")
    argv = [mpirun, "-np", "2", PYTHON, script, "300", "128", "20"]
    # Images are named after the executable: python3 is a link to python3.X.
    program = os.path.basename(os.path.realpath(PYTHON))
    mpi_common.run_mpi_scenario(job, "mpi4py", argv, program, 2, timeout=110)


if __name__ == "__main__":
    harness.main("mpi4py", body)
