"""Time lost per checkpoint by a program that sweeps its memory (bench_sweep:
SIZE MiB of mixed data, one word of every 4 KiB page written each step),
measured from its progress rate, not from a pause sample.

Per write mode (CKPT_WRITE_MODE: fork = the copy-on-write child alone, the
behaviour before copy-first existed; auto = the runtime's choice; copy):
  1. launch under ckpt_launch with its own coordinator; the program prints
     "progress <CLOCK_MONOTONIC ns> <steps>" every 50 ms;
  2. undisturbed rate: steps per second over `baseline_s` before the first
     checkpoint;
  3. `n` checkpoints (`ckpt_command --checkpoint`, returns once committed),
     `gap_s` apart, then `settle_s` more;
  4. lost time per checkpoint = (rate x window - steps made in the window)
     / rate / n, the window running from just before the first checkpoint to
     `settle_s` after the last one committed.
The floors come from the same program on the same data (`--floors`): one
copy of SIZE into a new buffer and into a touched one, and one fork().
"""

import bisect
import os
import statistics
import time

from .procs import BenchError, Job, log


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
    import subprocess
    out = subprocess.run([bins.sweep, "--mib", str(mib), "--floors"], capture_output=True, text=True,
                         timeout=300, env=job_env).stdout
    fields = dict(kv.split("=") for kv in out.split()[1:]) if out.startswith("floors") else {}
    if not fields:
        raise BenchError(f"bench_sweep --floors printed {out!r}")
    return {k: float(v) for k, v in fields.items()}


def run_mode(bins, workdir, mib, mode, n, gap_s, baseline_s, settle_s):
    job = Job(f"sweep-{mode}", bins, workdir)
    job.env["CKPT_WRITE_MODE"] = mode
    result = {"mode": mode, "mib": mib, "checkpoints": n}
    try:
        job.start_coordinator()
        out = job.path("app.out")
        proc = job.start([bins.launch, bins.sweep, "--mib", str(mib)], "app", stdout=out)
        wait_progress(out, 0, proc, 120)
        time.sleep(baseline_s)
        pts = wait_progress(out, time.monotonic_ns(), proc, 30)
        base_t0, base_t1 = pts[1][0], pts[-1][0]  # the first report is the fill's end
        rate = (pts[-1][1] - pts[1][1]) / ((base_t1 - base_t0) / 1e9)
        start_ns = time.monotonic_ns()
        runs = []
        for i in range(n):
            rc, text, err, dt = job.command("--checkpoint", timeout=300)
            if rc != 0:
                raise BenchError(f"ckpt_command --checkpoint exited {rc}: {(err or text).strip()[-300:]}")
            images = job.images()
            runs.append({"checkpoint_s": dt, "image_bytes": sum(os.path.getsize(p) for p in images)})
            log(f"  sweep {mib} MiB, {mode}: checkpoint {i + 1} committed in {dt:.2f}s")
            time.sleep(gap_s if i + 1 < n else settle_s)
        end_ns = time.monotonic_ns()
        pts = wait_progress(out, end_ns, proc, 30)
        made = steps_at(pts, end_ns) - steps_at(pts, start_ns)
        expected = rate * (end_ns - start_ns) / 1e9
        result.update({
            "rate_steps_per_s": rate, "step_ms": 1000 / rate, "window_s": (end_ns - start_ns) / 1e9,
            "steps_expected": expected, "steps_made": made,
            "lost_per_checkpoint_s": (expected - made) / rate / n,
            "checkpoint_s": statistics.median(r["checkpoint_s"] for r in runs),
            "image_bytes": runs[-1]["image_bytes"], "runs": runs,
        })
        log(f"  sweep {mib} MiB, {mode}: {result['step_ms']:.1f} ms per step undisturbed, "
            f"{result['lost_per_checkpoint_s']:.3f} s lost per checkpoint")
        job.kill_processes([proc])
    finally:
        job.cleanup()
    return result


def run_sweep(bins, workdir, mib=1024, modes=("fork", "auto"), n=3, gap_s=1.5, baseline_s=2.0, settle_s=2.0):
    """The sweep part: floors, then each mode in turn."""
    with open("/proc/loadavg") as f:
        result = {"mib": mib, "loadavg_start": f.read().split()[0], "floors": run_floors(bins, mib), "modes": []}
    for mode in modes:
        result["modes"].append(run_mode(bins, workdir, mib, mode, n, gap_s, baseline_s, settle_s))
    return result
