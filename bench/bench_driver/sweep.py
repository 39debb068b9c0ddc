"""Time lost per checkpoint by a program that sweeps its memory (bench_sweep:
SIZE MiB of mixed data, one word of every 4 KiB page written each step),
measured from its progress rate, not from a pause sample.

Two programs: bench_sweep (one process, SIZE MiB) and bench_mpi_sweep
(mpirun -np 2, Open MPI over TCP, each rank sweeping MPI_MIB MiB, then an
MPI_Allreduce each step). Per write mode (CKPT_WRITE_MODE: fork = the
copy-on-write child alone, the behaviour before copy-first existed; auto =
the runtime's choice; copy):
  1. launch under ckpt_launch with its own coordinator; the program prints
     "progress <CLOCK_MONOTONIC ns> <steps>" every 50 ms;
  2. rate before: steps per second over `baseline_s` before the first
     checkpoint;
  3. `n` checkpoints (`ckpt_command --checkpoint`, returns once committed),
     `gap_s` apart, then `settle_s` more;
  4. rate after: over `baseline_s` after that window; the undisturbed rate is
     the mean of before and after (the machine's other load moves both);
  5. lost time per checkpoint = (rate x window - steps made in the window)
     / rate / n, the window running from just before the first checkpoint to
     `settle_s` after the last one committed.
The floors come from the same program on the same data (`--floors`): one
copy of SIZE into a new buffer and into a touched one, and one fork().
"""

import bisect
import os
import shutil
import statistics
import subprocess
import time

from .procs import BenchError, Job, descendants, log


def read_progress(path):
    """[(t_ns, steps)] from the program's output."""
    points = []
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[0] == "progress":
                    points.append((int(parts[1]), int(parts[2])))
    except OSError:
        pass
    return points


def steps_at(points, t_ns):
    """Steps done at t_ns, interpolated between the two reports around it."""
    times = [p[0] for p in points]
    i = bisect.bisect_left(times, t_ns)
    if i == 0 or i == len(points):
        raise BenchError("the progress reports do not cover the measurement window")
    (t0, s0), (t1, s1) = points[i - 1], points[i]
    return s0 + (s1 - s0) * (t_ns - t0) / (t1 - t0)


def wait_progress(path, t_ns, proc, timeout):
    deadline = time.monotonic() + timeout
    while True:
        pts = read_progress(path)
        if pts and pts[-1][0] > t_ns:
            return pts
        if proc.poll() is not None:
            raise BenchError(f"bench_sweep exited with status {proc.returncode}")
        if time.monotonic() > deadline:
            raise BenchError("bench_sweep made no progress")
        time.sleep(0.02)


def run_floors(bins, mib):
    job_env = {k: v for k, v in os.environ.items() if not k.startswith("CKPT_")}
    out = subprocess.run([bins.sweep, "--mib", str(mib), "--floors"], capture_output=True, text=True,
                         timeout=300, env=job_env).stdout
    fields = dict(kv.split("=") for kv in out.split()[1:]) if out.startswith("floors") else {}
    if not fields:
        raise BenchError(f"bench_sweep --floors printed {out!r}")
    return {k: float(v) for k, v in fields.items()}


APP_NICE = -10
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_btl": "self,tcp",
           "OMPI_MCA_pml": "ob1", "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}


def cpu_seconds(root_pid, comm):
    """CPU time (user + system) of root_pid and its descendants named comm:
    the application's processes, not the forked image writers."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in [root_pid] + descendants(root_pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if name == comm[:15]:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def longest_gap(pts, t0, t1):
    """Longest interval between two progress reports in [t0, t1], in s."""
    inside = [t for t, _ in pts if t0 <= t <= t1]
    return max((b - a for a, b in zip(inside, inside[1:])), default=0) / 1e9


def rate_between(pts, t0, t1):
    return (steps_at(pts, t1) - steps_at(pts, t0)) / ((t1 - t0) / 1e9)


def run_mode(bins, workdir, case, argv, env, comm, mode, n, gap_s, baseline_s, settle_s):
    """One program in one write mode: rates before and after, lost time per checkpoint."""
    job = Job(f"sweep-{case}-{mode}", bins, workdir)
    job.env.update(env)
    if mode != "default":
        job.env["CKPT_WRITE_MODE"] = mode
    result = {"case": case, "mode": mode, "checkpoints": n}
    try:
        job.start_coordinator()
        out = job.path("app.out")
        # As root, the program (and so its image writer) runs at nice -10, so
        # that other load on the machine (builds at nice 10) moves the
        # figures less; both write modes are measured the same way.
        prefix = ["nice", "-n", str(APP_NICE)] if os.geteuid() == 0 else []
        result["nice"] = APP_NICE if prefix else 0
        proc = job.start([*prefix, bins.launch, *argv], "app", stdout=out)
        first = wait_progress(out, 0, proc, 180)[0][0]
        time.sleep(0.5)  # past start-up
        base_start = time.monotonic_ns()
        cpu0 = cpu_seconds(proc.pid, comm)
        time.sleep(baseline_s)
        start_ns = time.monotonic_ns()
        cpu1 = cpu_seconds(proc.pid, comm)
        runs = []
        for i in range(n):
            rc, text, err, dt = job.command("--checkpoint", timeout=300)
            if rc != 0:
                raise BenchError(f"ckpt_command --checkpoint exited {rc}: {(err or text).strip()[-300:]}")
            images = job.images()
            runs.append({"checkpoint_s": dt, "image_bytes": sum(os.path.getsize(p) for p in images)})
            log(f"  sweep {case}, {mode}: checkpoint {i + 1} committed in {dt:.2f}s")
            time.sleep(gap_s if i + 1 < n else settle_s)
        end_ns = time.monotonic_ns()
        cpu2 = cpu_seconds(proc.pid, comm)
        time.sleep(baseline_s)  # the rate after
        after_end = time.monotonic_ns()
        pts = wait_progress(out, after_end, proc, 30)
        assert first <= base_start
        before = rate_between(pts, base_start, start_ns)
        after = rate_between(pts, end_ns, after_end)
        rate = (before + after) / 2  # undisturbed: the mean of the rates before and after
        made = steps_at(pts, end_ns) - steps_at(pts, start_ns)
        expected = rate * (end_ns - start_ns) / 1e9
        # The same in the application's CPU time, which other load on the
        # machine moves less: steps per CPU second before, CPU spent in the
        # window beyond what the steps made would have cost.
        steps_per_cpu = (steps_at(pts, start_ns) - steps_at(pts, base_start)) / max(cpu1 - cpu0, 1e-3)
        result.update({
            "cpu_lost_per_checkpoint_s": ((cpu2 - cpu1) - made / steps_per_cpu) / n,
            "longest_gap_s": longest_gap(pts, start_ns, end_ns),
            "rate_before": before, "rate_after": after, "step_ms": 1000 / rate,
            "window_s": (end_ns - start_ns) / 1e9, "steps_expected": expected, "steps_made": made,
            "lost_per_checkpoint_s": (expected - made) / rate / n,
            "checkpoint_s": statistics.median(r["checkpoint_s"] for r in runs),
            "image_bytes": runs[-1]["image_bytes"], "runs": runs,
        })
        log(f"  sweep {case}, {mode}: {before:.0f} steps/s before, {after:.0f} after, "
            f"{result['lost_per_checkpoint_s']:.3f} s lost per checkpoint "
            f"({result['cpu_lost_per_checkpoint_s']:.3f} s of its CPU), longest gap {result['longest_gap_s']:.3f} s")
        job.kill_processes([proc])
    finally:
        job.cleanup()
    return result


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


MEDIAN_KEYS = ["lost_per_checkpoint_s", "cpu_lost_per_checkpoint_s", "longest_gap_s", "rate_before", "rate_after",
               "step_ms", "checkpoint_s", "image_bytes", "loadavg"]


def run_sweep(bins, workdir, mib=1024, mpi_mib=256, modes=("fork", "auto"), n=3, rounds=3, gap_s=1.5,
              baseline_s=2.0, settle_s=2.0):
    """The sweep part: floors, then `rounds` rounds of each program in each
    mode, the modes alternating so that the machine's other load falls on
    both alike; each figure is the median over the rounds."""
    result = {"mib": mib, "mpi_mib": mpi_mib, "rounds": rounds, "floors": run_floors(bins, mib), "cases": []}
    cases = [(f"{mib} MiB", [bins.sweep, "--mib", str(mib)], {}, "bench_sweep")]
    mpirun = shutil.which("mpirun")
    if bins.has("mpi_sweep") and mpirun:
        cases.append((f"MPI 2 ranks x {mpi_mib} MiB",
                      [mpirun, "-np", "2", bins.mpi_sweep, "--mib", str(mpi_mib)], MPI_ENV, "bench_mpi_sweep"))
    else:
        result["mpi_skipped"] = "bench_mpi_sweep not built or mpirun not on PATH"
    runs = {(case, mode): [] for case, *_ in cases for mode in modes}
    for _ in range(rounds):
        for case, argv, env, comm in cases:
            for mode in modes:
                r = run_mode(bins, workdir, case, argv, env, comm, mode, n, gap_s, baseline_s, settle_s)
                r["loadavg"] = loadavg()
                runs[(case, mode)].append(r)
    for (case, mode), each in runs.items():
        agg = {"case": case, "mode": mode, "checkpoints": n, "nice": each[0].get("nice", 0)}
        for key in MEDIAN_KEYS:
            agg[key] = statistics.median(r[key] for r in each)
        agg["lost_per_checkpoint_each_s"] = [round(r["lost_per_checkpoint_s"], 3) for r in each]
        agg["rounds"] = each
        result["cases"].append(agg)
    return result
