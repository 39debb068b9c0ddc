"""Incremental checkpoints beside a full one, in one run (issue 19): bench_incr
holding SIZE MiB of the mixed data (malloc'd), `percent`% of its pages
rewritten between checkpoints.

With dirty tracking (the default, --full-every 8):
  1. checkpoint 1 (full);
  2. `rounds` times: rewrite `percent`% of the pages (bench_incr times that
     rewrite: the first write of each page after a checkpoint, the one that
     faults), then checkpoint (incremental);
  3. kill, restart from the last image (the chain), time until the program
     runs again.
Per checkpoint: pause (the program's largest loop gap around it), committed
(ckpt_command --checkpoint's round trip, and the coordinator's own time),
image size, and the disk's floor measured right after it: writing and
fsyncing as many bytes in the same directory (the disk's speed here moves
4x from minute to minute; the committed time follows it).
Without tracking (--full-every 1, every checkpoint full): the same sequence,
for the rewrite times: tracking overhead = rewrite time with / without - 1,
in CPU time of the rewriting thread (page faults included; the wall-clock
times, kept in the JSON, move with the machine's other load).
"""

import mmap
import os
import re
import statistics
import time

from .memory_case import parse_coordinator_ms, read_record, wait_status
from .procs import BenchError, Job, log


def read_status(path):
    """bench_incr's status record as a dict of ints; None if absent or torn."""
    fields = read_record(path)
    try:
        return {k: int(v) for k, v in fields.items()} if fields else None
    except ValueError:
        return None


def wait_for(path, cond, timeout, what, proc=None):
    return wait_status(path, cond, timeout, what, proc, reader=read_status)


def poke(status, suffix, proc, timeout=120):
    """Creates status.suffix and waits until bench_incr has taken it."""
    path = status + suffix
    open(path, "w").close()
    deadline = time.monotonic() + timeout
    while os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise BenchError(f"bench_incr did not take {suffix}")
        time.sleep(0.002)


def write_fsync_floor(directory, nbytes):
    """Seconds to write `nbytes` to a new file in `directory` and fsync it:
    the disk's floor for an image of that size, measured right after it."""
    data = os.urandom(min(nbytes, 16 << 20))
    path = os.path.join(directory, ".floor")
    t0 = time.monotonic()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        left = nbytes
        while left > 0:
            left -= os.write(fd, data[:left])
        os.fsync(fd)
    finally:
        os.close(fd)
    dt = time.monotonic() - t0
    os.unlink(path)
    return round(dt, 4)


def write_direct_floor(directory, nbytes):
    """Seconds to write `nbytes` (rounded up to 4 KiB) to a new file in
    `directory` with O_DIRECT, from an aligned buffer, and fsync it: the
    disk's own floor, without the page cache (None where O_DIRECT is refused)."""
    block = 8 << 20
    buf = mmap.mmap(-1, block)
    buf.write(os.urandom(block))
    path = os.path.join(directory, ".floor_direct")
    left = (nbytes + 4095) & ~4095
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_DIRECT, 0o600)
    except OSError:
        return None
    t0 = time.monotonic()
    try:
        while left > 0:
            n = min(left, block)
            os.write(fd, memoryview(buf)[:n])
            left -= n
        os.fsync(fd)
    except OSError:
        return None
    finally:
        os.close(fd)
        os.unlink(path)
    return round(time.monotonic() - t0, 4)


def checkpoint(job, proc, status, label):
    poke(status, ".reset", proc)
    rc, out, err, dt = job.command("--checkpoint", timeout=600)
    end_ns = time.monotonic_ns()
    if rc != 0:
        raise BenchError(f"{label}: ckpt_command --checkpoint exited {rc}: {(err or out).strip()[-300:]}")
    st = wait_for(status, lambda s: s["now_ns"] > end_ns + 30_000_000, 60, f"{label}: status", proc)
    images = job.images()
    run = {"checkpoint_s": round(dt, 4), "coordinator_ms": parse_coordinator_ms(out),
           "pause_ms": round(st["max_gap_ns"] / 1e6, 2),
           "image_bytes": sum(os.path.getsize(i) for i in images)}
    run["floor_write_fsync_s"] = write_fsync_floor(job.ckpt_dir, run["image_bytes"])
    run["floor_write_direct_s"] = write_direct_floor(job.ckpt_dir, run["image_bytes"])
    log(f"  incremental {label}: committed {dt:.3f}s (coordinator {run['coordinator_ms']} ms), "
        f"pause {run['pause_ms']:.1f} ms, image {run['image_bytes'] / 2**20:.1f} MiB, "
        f"floors for as many bytes: write+fsync {run['floor_write_fsync_s']:.3f}s, "
        f"O_DIRECT {run['floor_write_direct_s']}s")
    return run, images


def rewrite(status, proc, n):
    """(wall ms, CPU ms, pages) of the n-th rewrite."""
    poke(status, ".rewrite", proc)
    st = wait_for(status, lambda s: s["rewrites"] >= n, 120, "rewrite", proc)
    return st["rewrite_ns"] / 1e6, st["rewrite_cpu_ns"] / 1e6, st["rewritten_pages"]


def restart_chain(job, images, status):
    t0 = time.monotonic()
    start_ns = time.monotonic_ns()
    proc = job.start([job.bins.restart, *images], "restart")
    wait_for(status, lambda s: s["now_ns"] > start_ns, 300, "restart", proc)
    return round(time.monotonic() - t0, 3), proc


SCAN_RE = re.compile(r"dirty-page scan: (\d+) mappings, (\d+) pages written since the last one, (\d+) us")


def scan_times(job):
    """[(pages written, us)] of each dirty-page scan (the runtime's verbose log)."""
    try:
        with open(job.path("app.err")) as f:
            return [(int(m.group(2)), int(m.group(3))) for m in SCAN_RE.finditer(f.read())]
    except OSError:
        return []


def run_sequence(bins, workdir, mib, percent, rounds, tracking):
    name = "incr" if tracking else "incr-off"
    job = Job(f"{name}{mib}", bins, workdir)
    if not tracking:
        job.env["CKPT_FULL_EVERY"] = "1"
    job.env["CKPT_VERBOSE"] = "1"  # the scan's time, in the pause
    res = {"tracking": tracking, "checkpoints": [], "rewrite_ms": [], "rewrite_cpu_ms": []}
    try:
        job.start_coordinator()
        status = job.path("status")
        proc = job.start([bins.launch, bins.incr, "--mib", str(mib), "--percent", str(percent),
                          "--status", status], "app")
        wait_for(status, lambda s: True, 120 + mib / 10, "bench_incr ready", proc)
        time.sleep(0.3)
        run, images = checkpoint(job, proc, status, "checkpoint 1 (full)")
        res["checkpoints"].append(run)
        for r in range(1, rounds + 1):
            ms, cpu_ms, pages = rewrite(status, proc, r)
            res["rewrite_ms"].append(round(ms, 2))
            res["rewrite_cpu_ms"].append(round(cpu_ms, 2))
            res["rewritten_pages"] = pages
            run, images = checkpoint(job, proc, status, f"checkpoint {r + 1}")
            res["checkpoints"].append(run)
        res["scans"] = scan_times(job)
        if tracking:
            job.kill_processes([proc])
            res["restart_chain_s"], rproc = restart_chain(job, images, status)
            job.kill_processes([rproc])
    except BenchError as e:
        res["error"] = str(e)
        res["stderr"] = job.tail("app.err") + "\n" + job.tail("restart.err")
        log(f"  incremental ({'tracking' if tracking else 'no tracking'}): FAILED: {e}")
    finally:
        job.cleanup()
    return res


def medians(runs):
    keys = ("checkpoint_s", "coordinator_ms", "pause_ms", "image_bytes", "floor_write_fsync_s",
            "floor_write_direct_s")
    return {k: statistics.median(r[k] for r in runs) if all(r.get(k) is not None for r in runs) else None
            for k in keys}


def run_incremental(bins, workdir, mib=1024, percent=10, rounds=5):
    on = run_sequence(bins, workdir, mib, percent, rounds, True)
    off = run_sequence(bins, workdir, mib, percent, rounds, False)
    result = {"mib": mib, "percent": percent, "rounds": rounds, "tracking": on, "no_tracking": off}
    if "error" in on or "error" in off:
        result["error"] = on.get("error") or off.get("error")
        return result
    # Every checkpoint without tracking is full, like the first with it.
    fulls, incr = [on["checkpoints"][0], *off["checkpoints"]], on["checkpoints"][1:]
    result["full"] = medians(fulls)
    result["full"]["checkpoint_s_all"] = [r["checkpoint_s"] for r in fulls]
    result["incremental"] = medians(incr)
    result["restart_chain_s"] = on.get("restart_chain_s")
    scans = on.get("scans", [])[1:]  # the first registers the memory (a full checkpoint)
    result["scan_ms"] = statistics.median(us for _, us in scans) / 1000 if scans else None
    result["rewrite_wall_ms_tracking"] = statistics.median(on["rewrite_ms"])
    result["rewrite_wall_ms_no_tracking"] = statistics.median(off["rewrite_ms"])
    # CPU time of the rewriting thread (its page faults included): the
    # machine's other load moves wall-clock times far more than 1%.
    with_ms = statistics.median(on["rewrite_cpu_ms"])
    without_ms = statistics.median(off["rewrite_cpu_ms"])
    result["rewrite_ms_tracking"] = with_ms
    result["rewrite_ms_no_tracking"] = without_ms
    result["tracking_overhead_pct"] = round((with_ms / without_ms - 1) * 100, 2) if without_ms else None
    return result
