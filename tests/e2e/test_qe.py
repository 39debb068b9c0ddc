"""e2e (a real MPI application): Quantum ESPRESSO (Debian's `pw.x`) runs a
plane-wave SCF of bulk silicon (2 atoms, one displaced, 252 k-points; about
50 iterations, then forces and stress) on 2 Open MPI ranks under
`ckpt_launch`. The norm-conserving pseudopotential is generated at test time
by QE's own atomic code (`ld1.x`; Debian ships none, and there is no
download). Random checkpoint points (CKPT_E2E_SEED replays one), two
checkpoint/kill/restart cycles.

Compared with an uninterrupted run, byte for byte:
- pw.x's whole output (every SCF iteration's total energy and estimated
  accuracy, the final energy, forces, stress) except the lines that hold
  times and dates ("starts on", "cpu time spent", "... CPU ... WALL",
  "terminated on"). The job is `sh -c "mpirun ... pw.x | sed -u ..."`: sed
  drops those lines and makes each SCF iteration line a "step <n>" line
  (the harness' progress); gfortran's output is unbuffered so that the
  steps show where the computation is.
- the files pw.x leaves in its outdir: the scratch wavefunction files
  (disk_io='high': si.wfc1, si.wfc2, one per rank, direct-access files open
  for the whole run and rewritten every iteration: ckpt's file rollback
  must give them back as they were at the checkpoint), and the data written
  at the end (si.save/: charge density, one wfc file per k-point). si.xml
  and si.save/data-file-schema.xml hold dates and timings and are left out.

Not tested here: an MD or relaxation run (calculation='md'/'relax'). pw.x
keeps their state between ionic steps in a file it opens, rewrites and
closes at every step (outdir/<prefix>.md, .bfgs); ckpt rolls back only
files open at the checkpoint, so after a restart pw.x reads the state of
the last step done before the kill, skips steps and the output differs.

SKIPs (exit 77) when quantum-espresso (pw.x, ld1.x) or Open MPI is missing."""

import os
import shlex
import shutil
import subprocess

import harness
import mpi_common

# ld1.x: a Troullier-Martins norm-conserving pseudopotential for Si (LDA, 3s
# and 3p projectors, local part from the smoothed all-electron potential).
LD1_INPUT = """ &input
   title='Si', zed=14.0, rel=0, config='[Ne] 3s2 3p2', iswitch=3, dft='PZ'
 /
 &inputp
   pseudotype=1, file_pseudopw='Si.pz-tm.UPF', author='ckpt-test',
   lloc=-1, rcloc=2.2, tm=.true.
 /
2
3S  1  0  2.00  0.00  2.00  2.00  0.0
3P  2  1  2.00  0.00  2.20  2.20  0.0
"""

NKPOINTS = 252  # 5x5x5 shifted grid, few symmetries left by the displaced atom

# pw.x: SCF of diamond Si with the second atom off its site, converged to
# 1e-14 Ry with slow mixing (about 50 iterations, each a Davidson
# diagonalization at every k-point), then forces and stress;
# disk_io='high' keeps the wavefunctions in scratch files.
PW_INPUT = """ &control
    calculation = 'scf'
    prefix = 'si'
    outdir = './out'
    pseudo_dir = '{pseudo_dir}'
    tprnfor = .true.
    tstress = .true.
    disk_io = 'high'
 /
 &system
    ibrav = 2, celldm(1) = 10.20, nat = 2, ntyp = 1,
    ecutwfc = 16.0
 /
 &electrons
    conv_thr = 1.0d-14
    mixing_beta = 0.03
    mixing_ndim = 2
 /
ATOMIC_SPECIES
 Si 28.086 Si.pz-tm.UPF
ATOMIC_POSITIONS alat
 Si 0.00 0.00 0.00
 Si 0.27 0.24 0.25
K_POINTS automatic
 5 5 5 1 1 1
"""

# Drops the lines holding times and dates; SCF iteration lines become the
# "step <n>" lines the harness counts. sed -u reads and writes line by line.
FILTER = [r"/starts on\|cpu time spent up to now\|CPU.*WALL\|terminated on/d",
          r"s/^ *iteration # *\([0-9][0-9]*\)/step \1:/"]

OUTPUTS = ["out/si.wfc1", "out/si.wfc2", "out/si.save/charge-density.dat"] + [
    f"out/si.save/wfc{k}.dat" for k in range(1, NKPOINTS + 1)]


def make_pseudo(job, ld1):
    pseudo_dir = job.path("pseudo")
    os.makedirs(pseudo_dir)
    r = subprocess.run([ld1], input=LD1_INPUT, capture_output=True, text=True, cwd=pseudo_dir, env=job.env,
                       timeout=job.remaining(60))
    upf = os.path.join(pseudo_dir, "Si.pz-tm.UPF")
    if r.returncode != 0 or not os.path.exists(upf):
        raise harness.TestFailure(f"ld1.x could not generate the Si pseudopotential (exit {r.returncode}):\n"
                                  f"{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    harness.log(f"qe: ld1.x generated {upf} ({os.path.getsize(upf)} bytes)")
    return pseudo_dir


def body(job, bins):
    pw, ld1 = shutil.which("pw.x"), shutil.which("ld1.x")
    if not pw or not ld1:
        mpi_common.skip("qe", "no pw.x or ld1.x on PATH (apt-get install quantum-espresso)")
    mpirun = mpi_common.launcher("qe", ["mpirun.openmpi", "mpirun"])
    job.env["OMP_NUM_THREADS"] = "1"  # 2 ranks of one thread on 2 cores
    # gfortran buffers a pipe's output in 8 KiB blocks: unbuffered, the step
    # lines the harness waits for tell where the computation is.
    job.env["GFORTRAN_UNBUFFERED_PRECONNECTED"] = "y"
    pseudo_dir = make_pseudo(job, ld1)
    si_in = job.path("si.in")
    with open(si_in, "w") as f:
        f.write(PW_INPUT.format(pseudo_dir=pseudo_dir))
    qe = [mpirun, "-np", "2", pw, "-in", si_in]
    sed = ["sed", "-u"] + [arg for expr in FILTER for arg in ("-e", expr)]
    pipeline = f"{shlex.join(qe)} | {shlex.join(sed)}"
    argv = ["/bin/sh", "-c", pipeline]
    mpi_common.run_mpi_scenario(job, "qe", argv, "pw.x", 2, outputs=OUTPUTS, timeout=400)


if __name__ == "__main__":
    harness.main("qe", body)
