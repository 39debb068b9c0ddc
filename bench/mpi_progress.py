#!/usr/bin/env python3
"""Progress of an MPI application around checkpoints and after a restart:
does the job go on right after the checkpoint's pause, or does it stall?

    python3 bench/mpi_progress.py --build build [--ranks 2] [--size 10]
                                  [--checkpoints 5] [--every 1.0] [--shm] [--log]
                                  [--no-mpi-defaults] [--mpirun-arg=ARG ...]

Runs LAMMPS (Debian's `lmp`, examples/lammps_melt.in: a Lennard-Jones melt
of 4*size^3 atoms, a line every `--lines-every` steps) under ckpt_launch
mpirun, stamps every step line as it arrives, takes `--checkpoints`
checkpoints `--every` seconds apart, then kills the job, restarts it and
lets it run `--after` seconds more, with one more checkpoint (of the
restored job, row "restored") halfway. For each checkpoint it prints how long
`ckpt_command --checkpoint` took (the pause is at most that), the gap
between the step lines around it, and the time lost: that gap minus the
median gap between lines. A stall after the checkpoint shows as time lost
well beyond the command's duration. After the restart: time from
`ckpt_restart` to the first new step line, and the median gap after it
against the one before. Needs lammps and Open MPI (exit 77 without them).
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEP = re.compile(rb"^step (\d+)")


class Stamper(threading.Thread):
    """Reads a pipe and keeps (monotonic time, step) for each step line."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.lines = stream, []

    def run(self):
        for line in iter(self.stream.readline, b""):
            m = STEP.match(line)
            if m:
                self.lines.append((time.monotonic(), int(m.group(1))))


def gaps_around(lines, t0, t1):
    """The gap between the last line before t0 and the first line after t1."""
    before = [t for t, _ in lines if t <= t0]
    after = [t for t, _ in lines if t >= t1]
    if not before or not after:
        return None
    return after[0] - before[-1]


def median_gap(lines):
    g = [b[0] - a[0] for a, b in zip(lines, lines[1:])]
    return statistics.median(g) if g else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--size", type=int, default=10, help="lattice cells per side (4*size^3 atoms)")
    ap.add_argument("--lines-every", type=int, default=5, help="steps between step lines")
    ap.add_argument("--checkpoints", type=int, default=5)
    ap.add_argument("--every", type=float, default=1.0, help="seconds between checkpoints")
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--after", type=float, default=4.0, help="seconds to watch after the restart")
    ap.add_argument("--shm", action="store_true", help="ckpt_launch --mpi-shm (vader) instead of TCP")
    ap.add_argument("--log", action="store_true", help="LAMMPS writes its log.lammps (default: -log none)")
    ap.add_argument("--no-mpi-defaults", action="store_true", help="ckpt_launch --no-mpi-defaults")
    ap.add_argument("--mpirun-arg", action="append", default=[], help="one more mpirun argument (repeat)")
    args = ap.parse_args()
    lmp, mpirun = shutil.which("lmp"), shutil.which("mpirun.openmpi") or shutil.which("mpirun")
    if not lmp or not mpirun:
        print("SKIP: needs lmp (lammps) and Open MPI's mpirun")
        return 77
    build = os.path.abspath(args.build)
    launch, command, restart = (os.path.join(build, "launcher", n)
                                for n in ("ckpt_launch", "ckpt_command", "ckpt_restart"))
    work = tempfile.mkdtemp(prefix="ckpt-mpi-progress-")
    env = dict(os.environ, CKPT_DIR=os.path.join(work, "ckpt"), OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env.setdefault("CKPT_COORD_PORT", str(20000 + os.getpid() % 20000))
    os.makedirs(env["CKPT_DIR"])
    melt = os.path.join(SOURCE_ROOT, "examples", "lammps_melt.in")
    job = [mpirun, "-np", str(args.ranks), "--oversubscribe", *args.mpirun_arg, lmp, "-in", melt, "-var",
           "size", str(args.size), "-var", "nsteps", "10000000", "-var", "every", str(args.lines_every)]
    job += [] if args.log else ["-log", "none"]
    opts = (["--mpi-shm"] if args.shm else []) + (["--no-mpi-defaults"] if args.no_mpi_defaults else [])

    def ckpt(*a):
        t = time.monotonic()
        r = subprocess.run([command, *a], env=env, capture_output=True, text=True, timeout=120)
        return t, time.monotonic(), (r.stdout + r.stderr).strip()

    proc = subprocess.Popen([launch, *opts, *job], env=env, cwd=work, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    stamps = Stamper(proc.stdout)
    stamps.start()
    time.sleep(args.warmup)
    marks = []
    for _ in range(args.checkpoints):
        marks.append(ckpt("--checkpoint"))
        time.sleep(args.every)
    before = list(stamps.lines)
    ckpt("--kill")
    proc.wait(timeout=60)
    stamps.join(timeout=5)
    t_restart = time.monotonic()
    proc = subprocess.Popen([restart, env["CKPT_DIR"]], env=env, cwd=work, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    again = Stamper(proc.stdout)
    again.start()
    time.sleep(args.after / 2)
    marks_restored = [ckpt("--checkpoint")]  # a checkpoint of the restored job
    time.sleep(args.after / 2)
    ckpt("--kill")
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)

    med = median_gap(before)
    mode = "shared memory (--mpi-shm)" if args.shm else "TCP"
    print(f"LAMMPS melt, {4 * args.size ** 3} atoms, {args.ranks} ranks, {mode}: "
          f"{len(before)} step lines before the kill, median gap {med * 1000:.0f} ms "
          f"({args.lines_every / med:.0f} steps/s)")
    print(f"{'checkpoint':>10} {'command (ms)':>13} {'line gap (ms)':>14} {'time lost (ms)':>15}  result")
    rows = [(str(i), m, before) for i, m in enumerate(marks, 1)]
    rows += [("restored", m, again.lines) for m in marks_restored]
    for label, (t0, t1, out), lines in rows:
        gap = gaps_around(lines, t0, t1)
        lost = f"{(gap - med) * 1000:15.0f}" if gap is not None else f"{'-':>15}"
        gap_s = f"{gap * 1000:14.0f}" if gap is not None else f"{'-':>14}"
        print(f"{label:>10} {(t1 - t0) * 1000:13.0f} {gap_s} {lost}  {out.splitlines()[-1] if out else ''}")
    lines = again.lines
    if lines:
        print(f"restart: first step line {(lines[0][0] - t_restart) * 1000:.0f} ms after ckpt_restart started; "
              f"then {len(lines)} lines in {args.after:.0f} s (one checkpoint among them), median gap {median_gap(lines) * 1000:.0f} ms "
              f"(before the kill: {med * 1000:.0f} ms), largest gap "
              f"{max((b[0] - a[0] for a, b in zip(lines, lines[1:])), default=0) * 1000:.0f} ms")
    else:
        print("restart: no step line after the restart")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
