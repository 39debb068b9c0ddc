"""Figures for one process tree: bench_tree forks N processes (256 KiB each)
under one ckpt_launch; one checkpoint (wall clock and the coordinator's
figure, image bytes per process), kill, then ONE ckpt_restart of all the
images; restart time runs until every process has registered with the
coordinator again (which each does after its memory is back and before its
threads resume).

Both are split by phase: the checkpoint from the coordinator's log line
("phases: suspend, snapshot, write, commit"), the restart from
ckpt_restart's own phase lines (CKPT_VERBOSE=1; the latest process to end
each phase counts) and the registration seen by the driver."""

import os
import re
import time

from .many import wait_for_line, wait_registered
from .memory_case import parse_coordinator_ms
from .procs import BenchError, Job, log


def checkpoint_phases(job):
    """The coordinator's split of the last checkpoint, in ms."""
    text = job.tail("coordinator.err", 100000)
    found = re.findall(r"phases: suspend (\d+) ms, snapshot (\d+) ms, write (\d+) ms, commit (\d+) ms", text)
    if not found:
        return {}
    return dict(zip(("suspend_ms", "snapshot_ms", "write_ms", "commit_ms"), map(int, found[-1])))


def restart_phases(job):
    """ckpt_restart's phase lines: per phase, when the last process ended it (ms)."""
    out = {}
    for m in re.finditer(r"\] phase ([a-z-]+) at ([0-9.]+) ms", job.tail("restart.err", 10_000_000)):
        key = m.group(1).replace("-", "_") + "_ms"
        out[key] = max(out.get(key, 0.0), float(m.group(2)))
    return out


def run_tree(bins, workdir, count, kib):
    job = Job(f"tree{count}", bins, workdir)
    result = {"processes": count, "kib": kib}
    try:
        job.start_coordinator()
        app = job.start([bins.launch, bins.tree, str(count), str(kib)], "app")
        wait_for_line(job, "app.out", "ready", app, 120)
        wait_registered(job, count, 120)
        rc, out, err, dt = job.command("--checkpoint", timeout=300)
        if rc != 0:
            raise BenchError(f"checkpoint of a tree of {count}: {(err or out).strip()}")
        images = job.images()
        result.update({"checkpoint_s": dt, "coordinator_ms": parse_coordinator_ms(out),
                       "image_bytes_each": sum(os.path.getsize(i) for i in images) / max(1, len(images)),
                       "checkpoint_phases": checkpoint_phases(job)})
        job.command("--kill", timeout=60)
        app.wait(timeout=60)
        time.sleep(0.5)
        t0 = time.monotonic()
        restart = job.start([bins.restart, job.ckpt_dir], "restart", env=dict(job.env, CKPT_VERBOSE="1"))
        wait_registered(job, count, 180)
        result["restart_s"] = time.monotonic() - t0
        result["restart_phases"] = restart_phases(job)
        if restart.poll() is not None:
            raise BenchError(f"ckpt_restart exited {restart.returncode}: {job.tail('restart.err')}")
        log(f"  tree of {count}: checkpoint {dt:.2f}s, restart {result['restart_s']:.2f}s, "
            f"{result['image_bytes_each'] / 1e6:.2f} MB per image")
    except BenchError as e:
        result["error"] = str(e)
        log(f"  tree of {count}: FAILED: {e}")
    finally:
        job.cleanup()
    return result
