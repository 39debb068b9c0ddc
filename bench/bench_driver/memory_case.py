"""The whole-process figures: bench_workload holding SIZE MiB of mixed data
with T worker threads, under ckpt_launch, checkpointed once, killed, and
restarted from its image.

Phases (each timed, each with a timeout):
  1. launch, wait until the data is filled ("ready" in the status file);
  2. baseline pause: the workload's largest loop gap over 1 s without any
     checkpoint (scheduling noise on this machine);
  3. checkpoint (`reps` times): wall clock around `ckpt_command --checkpoint` (returns once
     committed), the coordinator's own figure from its reply, the app's
     largest gap around it, image bytes, the runtime's extra memory;
  4. kill; drop the page cache (so restart reads the image from disk);
  5. restart (`reps` times, killing the restored process in between): from
     starting ckpt_restart until every worker has completed a
     loop iteration again (the workload's own resumed_ns timestamps, same
     clock), and the restarting process's extra memory.
"""

import os
import re
import statistics
import time

from . import memory
from .procs import BenchError, Job, log


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def read_record(path):
    """A status record's key=value fields (strings); None if absent or torn."""
    try:
        with open(path, "rb") as f:
            data = f.read(8192).rstrip()
        body, sep, digest = data.rpartition(b" sum=")
        if not sep or int(digest, 16) != fnv1a(body):
            return None
        return dict(kv.split("=", 1) for kv in body.decode().split())
    except (OSError, ValueError):
        return None


def read_status(path):
    """The workload's status record as a dict; None if absent or torn."""
    fields = read_record(path)
    if fields is None:
        return None
    try:
        return {
            "progress": int(fields["progress"]),
            "max_gap_ns": int(fields["max_gap_ns"]),
            "resumed_ns": [int(x) for x in fields["resumed_ns"].split(",")],
            "now_ns": int(fields["now_ns"]),
        }
    except (OSError, ValueError, KeyError):
        return None


def wait_status(path, cond, timeout, what, proc=None, reader=None):
    """Waits for a status record (read by `reader`, default read_status)
    that satisfies cond."""
    deadline = time.monotonic() + timeout
    while True:
        st = (reader or read_status)(path)
        if st and cond(st):
            return st
        if proc is not None and proc.poll() not in (None, 0):  # 0: it may have handed over
            raise BenchError(f"{what}: the process exited with status {proc.returncode}")
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: not within {timeout:.0f}s (status: {st})")
        time.sleep(0.005)


def measure_gap(path, since_ns, proc, timeout=30):
    """Largest gap since the last reset, from a status written after since_ns
    plus two report periods (so that the gap that ended has been recorded)."""
    after = since_ns + 30_000_000
    return wait_status(path, lambda s: s["now_ns"] > after, timeout, "status after pause", proc)["max_gap_ns"]


def reset_gap(path, proc, timeout=30):
    reset = path + ".reset"
    open(reset, "w").close()
    deadline = time.monotonic() + timeout
    while os.path.exists(reset):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise BenchError("the workload did not take the pause reset")
        time.sleep(0.002)
    return time.monotonic_ns()


def drop_page_cache():
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3")
        return True
    except OSError:
        return False


def parse_coordinator_ms(text):
    """The coordinator's duration of a checkpoint from ckpt_command's line:
    'checkpoint 3 committed: 1 process, 12.0 MiB in 0.254 s (47.2 MiB/s)' or
    (older) 'checkpoint 3 committed: 1 image, 123 bytes, 254 ms' -> 254.0"""
    m = re.search(r"committed: .* in ([\d.]+) s \(", text)
    if m:
        return float(m.group(1)) * 1000.0
    words = text.replace(",", " ").split()
    for i, w in enumerate(words[1:], 1):
        if w == "ms":
            try:
                return float(words[i - 1])
            except ValueError:
                pass
    return None


def checkpoint_phase(job, proc, status, mib):
    pid = proc.pid  # ckpt_launch execs the program: same pid
    reset_gap(status, proc)
    rss_before = memory.status_kb(pid, "VmRSS")
    pss_before = memory.tree_pss_kb(pid)
    hwm_ok = memory.reset_hwm(pid)
    with memory.PeakSampler(pid) as sampler:
        rc, out, err, dt = job.command("--checkpoint", timeout=120 + mib / 10)
    end_ns = time.monotonic_ns()
    if rc != 0:
        raise BenchError(f"ckpt_command --checkpoint exited {rc}: {(err or out).strip()[-400:]}")
    hwm = memory.status_kb(pid, "VmHWM")
    extra_kb = max(sampler.peak_kb - pss_before, (hwm - rss_before) if hwm_ok and hwm else 0)
    images = job.images()
    return {
        "checkpoint_s": dt,
        "coordinator_ms": parse_coordinator_ms(out),
        "pause_ms": measure_gap(status, end_ns, proc) / 1e6,
        "image_bytes": sum(os.path.getsize(i) for i in images),
        "images": len(images),
        "app_rss_mib": rss_before / 1024,
        "ckpt_extra_mib": extra_kb / 1024,
        "ckpt_mem_samples": sampler.samples,
    }, images


def restart_phase(job, images, status, threads, app_rss_kb, mib):
    cold = drop_page_cache()
    t0 = time.monotonic_ns()
    rproc = job.start([job.bins.restart, *images], "restart")
    with memory.PeakSampler(rproc.pid) as sampler:
        st = wait_status(status, lambda s: len(s["resumed_ns"]) == threads and min(s["resumed_ns"]) > t0,
                         60 + mib / 20, "progress after ckpt_restart", rproc)
    restart_s = (max(st["resumed_ns"]) - t0) / 1e9
    time.sleep(0.2)
    hwm = memory.status_kb(rproc.pid, "VmHWM") or 0
    rss = memory.status_kb(rproc.pid, "VmRSS") or app_rss_kb
    pss = memory.tree_pss_kb(rproc.pid)
    extra_kb = max(hwm - rss, sampler.peak_kb - pss, 0)
    return {"restart_s": restart_s, "restart_cold_cache": cold, "restart_extra_mib": extra_kb / 1024,
            "restored_rss_mib": rss / 1024}, rproc


def median_of(runs):
    """Per key, the median of the numeric values over the runs."""
    out = {}
    for key in runs[0]:
        vals = [r[key] for r in runs if isinstance(r.get(key), (int, float)) and not isinstance(r[key], bool)]
        if vals:
            out[key] = statistics.median(vals)
    return out


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def checkpoints(job, proc, status, mib, reps):
    runs, images = [], []
    for i in range(reps):
        run, images = checkpoint_phase(job, proc, status, mib)
        runs.append(run)
        log(f"  {mib} MiB: checkpoint {run['checkpoint_s']:.3f}s, pause {run['pause_ms']:.1f} ms, "
            f"image {run['image_bytes'] / 1e9:.3f} GB, extra {run['ckpt_extra_mib']:.0f} MiB")
        time.sleep(0.3)
    return runs, images


def restarts(job, images, status, threads, app_rss_kb, mib, reps):
    runs = []
    for i in range(reps):
        run, rproc = restart_phase(job, images, status, threads, app_rss_kb, mib)
        runs.append(run)
        log(f"  {mib} MiB: restart {run['restart_s']:.3f}s, extra {run['restart_extra_mib']:.0f} MiB")
        job.kill_processes([rproc])
    return runs


def run_memory_case(bins, workdir, mib, threads, reps=1, layout="mmap"):
    """One (size, threads) case: `reps` checkpoints of the running workload,
    then `reps` restarts from the last image; each figure is the median over
    its runs (every run is kept under "checkpoint_runs"/"restart_runs").
    layout: "mmap" (the data is one mapping) or "malloc" (64 KiB blocks from
    malloc, 4 KiB pages: what a plain program holds)."""
    job = Job(f"mem{mib}x{threads}{layout}", bins, workdir)
    result = {"mib": mib, "threads": threads, "layout": layout, "loadavg": loadavg()}
    # Every checkpoint here is a full one (the incremental part measures the
    # others): with dirty tracking on, the 2nd and 3rd would store only the
    # few pages the workload wrote in between, and their medians would say so.
    job.env["CKPT_FULL_EVERY"] = "1"
    try:
        job.start_coordinator()
        status = job.path("status")
        proc = job.start([bins.launch, bins.workload, "--mib", str(mib), "--threads", str(threads),
                          "--status", status, "--max-seconds", "1200", "--layout", layout], "app")
        t = time.monotonic()
        wait_status(status, lambda s: True, 60 + mib / 20, "workload ready", proc)
        result["fill_s"] = time.monotonic() - t
        time.sleep(0.3)
        since = reset_gap(status, proc)
        time.sleep(1.0)
        result["baseline_gap_ms"] = measure_gap(status, since, proc) / 1e6
        ckpt_runs, images = checkpoints(job, proc, status, mib, reps)
        result.update(median_of(ckpt_runs))
        result["checkpoint_runs"] = ckpt_runs
        job.kill_processes([proc])
        rst_runs = restarts(job, images, status, threads, result["app_rss_mib"] * 1024, mib, reps)
        result.update(median_of(rst_runs))
        result["restart_cold_cache"] = all(r["restart_cold_cache"] for r in rst_runs)
        result["restart_runs"] = rst_runs
    except BenchError as e:
        result["error"] = str(e)
        result["stderr"] = job.tail("app.err") + "\n" + job.tail("restart.err")
        log(f"  {mib} MiB x{threads}: FAILED: {e}")
    finally:
        job.cleanup()
    return result
