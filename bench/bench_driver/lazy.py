"""The lazy restart figures (issue 19 part 7): bench_workload holding SIZE
MiB of mixed data (one worker thread rewriting random pages), checkpointed
once and killed; then the same image restarted `reps` times eagerly and
`reps` times lazily (ckpt_restart --lazy), alternating, each from a cold page
cache (drop_caches; where that is refused, posix_fadvise DONTNEED on the
image), the restored process killed after each.

Per restart: first progress, from starting ckpt_restart until the worker
completed a loop iteration again (the workload's resumed_ns, as in
memory_case); for the lazy ones also all memory in, until the filler put
the last page in (its CKPT_VERBOSE line, on the same CLOCK_MONOTONIC), and
the faults it served on the way. Beside them the floor: reading the image
once from a cold cache. Medians over the runs; every run kept."""

import os
import re
import statistics
import time

from .memory_case import drop_page_cache, wait_status
from .procs import BenchError, Job, log

DONE_RE = re.compile(r"lazy restart: process \d+: (\d+) MiB in after (\d+) ms, (\d+) faults served, "
                     r"\d+ unmaps, moves and drops followed, (\d+) ms of CPU \(done at monotonic ([\d.]+) s\)")


def cold_cache(images):
    if drop_page_cache():
        return "drop_caches"
    for path in images:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    return "fadvise"


def filler_done(job, label, count_before, timeout):
    """The filler's next "done" line in label.err: (MiB, ms, faults, CPU ms, done_ns)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = DONE_RE.findall(job.tail(f"{label}.err", chars=1 << 20))
        if len(found) > count_before:
            mib, ms, faults, cpu_ms, done = found[-1]
            return int(mib), int(ms), int(faults), int(cpu_ms), int(float(done) * 1e9)
        time.sleep(0.01)
    raise BenchError(f"the lazy filler did not report within {timeout:.0f}s: {job.tail(label + '.err')}")


def cold_read_s(images):
    """The floor: reading the images once from a cold cache, nothing else."""
    cold_cache(images)
    t0 = time.monotonic()
    for path in images:
        with open(path, "rb", buffering=0) as f:
            while f.read(4 << 20):
                pass
    return time.monotonic() - t0


def one_restart(job, images, status, lazy, mib, runs_done):
    how = cold_cache(images)
    label = "lazy" if lazy else "eager"
    argv = [job.bins.restart] + (["--lazy"] if lazy else []) + images
    env = dict(job.env, CKPT_VERBOSE="1") if lazy else None
    t0 = time.monotonic_ns()
    proc = job.start(argv, label, env=env)
    st = wait_status(status, lambda s: s["resumed_ns"][0] > t0, 60 + mib / 20, f"progress after {label} restart",
                     proc)
    run = {"first_progress_s": (st["resumed_ns"][0] - t0) / 1e9, "cold_cache": how}
    if lazy:
        got, ms, faults, cpu_ms, done_ns = filler_done(job, label, runs_done, 60 + mib / 20)
        run.update({"all_in_s": (done_ns - t0) / 1e9, "filler_ms": ms, "filler_cpu_ms": cpu_ms, "filled_mib": got,
                    "faults": faults})
    else:
        run["all_in_s"] = run["first_progress_s"]  # an eager restart resumes with everything in
    log(f"  {label}: first progress {run['first_progress_s']:.3f}s, all in {run['all_in_s']:.3f}s ({how})")
    job.kill_processes([proc])
    return run


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def run_lazy(bins, workdir, mib, reps):
    job = Job(f"lazy{mib}", bins, workdir)
    result = {"mib": mib, "reps": reps}
    try:
        job.start_coordinator()
        status = job.path("status")
        proc = job.start([bins.launch, bins.workload, "--mib", str(mib), "--threads", "1", "--status", status,
                          "--max-seconds", "1200"], "app")
        wait_status(status, lambda s: True, 60 + mib / 20, "workload ready", proc)
        time.sleep(0.3)
        rc, out, err, dt = job.command("--checkpoint", timeout=120 + mib / 10)
        if rc != 0:
            raise BenchError(f"ckpt_command --checkpoint exited {rc}: {(err or out).strip()[-400:]}")
        images = job.images()
        result["image_bytes"] = sum(os.path.getsize(i) for i in images)
        job.kill_processes([proc])
        result["image_cold_read_s"] = cold_read_s(images)
        log(f"  floor: reading the image from a cold cache {result['image_cold_read_s']:.3f}s")
        eager, lazy = [], []
        for _ in range(reps):
            eager.append(one_restart(job, images, status, False, mib, 0))
            lazy.append(one_restart(job, images, status, True, mib, len(lazy)))
        result.update({"eager_first_progress_s": median(eager, "first_progress_s"),
                       "lazy_first_progress_s": median(lazy, "first_progress_s"),
                       "lazy_all_in_s": median(lazy, "all_in_s"), "lazy_faults": median(lazy, "faults"),
                       "eager_runs": eager, "lazy_runs": lazy})
    except BenchError as e:
        result["error"] = str(e)
        result["stderr"] = job.tail("lazy.err") + "\n" + job.tail("eager.err")
        log(f"  lazy {mib} MiB: FAILED: {e}")
    finally:
        job.cleanup()
    return result


# Issue 19 part 7: lazy restart of 1 GiB, cold cache.
FIRST_PROGRESS_TARGET_S, ALL_IN_TARGET_S = 0.1, 0.6


def lazy_checks(r, met):
    """The part's target checks (report.target_checks)."""
    if not r or r.get("mib") != 1024 or "lazy_first_progress_s" not in r:
        return []
    return [{"what": "lazy restart 1 GiB, cold cache: first progress (s)", "target": FIRST_PROGRESS_TARGET_S,
             "measured": r["lazy_first_progress_s"], "met": met(r["lazy_first_progress_s"], FIRST_PROGRESS_TARGET_S)},
            {"what": "lazy restart 1 GiB, cold cache: all memory in (s)", "target": ALL_IN_TARGET_S,
             "measured": r["lazy_all_in_s"], "met": met(r["lazy_all_in_s"], ALL_IN_TARGET_S)}]


def lazy_lines(r, fmt, mark):
    """The part's lines in the printed report."""
    if not r:
        return []
    lines = ["", f"lazy restart, {r['mib']} MiB, cold cache ({r['reps']} runs each, medians):"]
    if "lazy_first_progress_s" not in r:
        return lines + [f"  FAILED: {r.get('error', '?')[:300]}"]
    eager = r["eager_first_progress_s"]
    lines.append(f"  {'':24} {'first progress (s)':>19} {'all memory in (s)':>18}")
    lines.append(f"  {'eager restart':24} {fmt(eager):>19} {fmt(eager):>18}")
    lines.append(f"  {'ckpt_restart --lazy':24} {fmt(r['lazy_first_progress_s']):>19} {fmt(r['lazy_all_in_s']):>18}"
                 f"   faults served {r['lazy_faults']:.0f}")
    lines.append(f"  {'floor: read the image cold':24} {'':>19} {fmt(r.get('image_cold_read_s')):>18}"
                 f"   ({r['image_bytes'] / 1e9:.3f} GB)")
    if r["mib"] == 1024:
        lines.append(f"  targets: first progress {FIRST_PROGRESS_TARGET_S}{mark(r['lazy_first_progress_s'], FIRST_PROGRESS_TARGET_S)}"
                     f", all in {ALL_IN_TARGET_S}{mark(r['lazy_all_in_s'], ALL_IN_TARGET_S)}")
    return lines
