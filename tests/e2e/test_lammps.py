"""e2e (a real MPI application): LAMMPS (Debian's `lmp`) runs the
Lennard-Jones melt of examples/lammps_melt.in on 2 Open MPI ranks under
`ckpt_launch`. Random checkpoint points (CKPT_E2E_SEED replays one), two
checkpoint/kill/restart cycles; the thermodynamic state printed every 10
steps (17 significant digits) and final.dump (every atom's position and
velocity after the run) must equal an uninterrupted run's. LAMMPS' other
screen lines hold timings, so the job is `sh -c "mpirun ... | grep ^step"`.
SKIPs (exit 77) when lammps or Open MPI is not installed."""

import os
import shlex
import shutil

import harness
import mpi_common


def body(job, bins):
    lmp = shutil.which("lmp")
    if not lmp:
        mpi_common.skip("lammps", "no lmp on PATH (apt-get install lammps)")
    mpirun = mpi_common.launcher("lammps", ["mpirun.openmpi", "mpirun"])
    melt = os.path.join(bins.examples_src, "lammps_melt.in")
    lammps = [mpirun, "-np", "2", lmp, "-in", melt, "-var", "nsteps", "8000", "-var", "every", "10",
              "-log", "none"]
    pipeline = f"{shlex.join(lammps)} | grep --line-buffered '^step '"
    argv = ["/bin/sh", "-c", pipeline]
    mpi_common.run_mpi_scenario(job, "lammps", argv, "lmp", 2, outputs=["final.dump"], timeout=110)


if __name__ == "__main__":
    harness.main("lammps", body)
