"""Figures for many processes under one coordinator.

- Barrier: bench_barrier_clients registers N fake processes (one program, N
  sockets) with a coordinator started on loopback; then `checkpoints` times
  `ckpt_command --checkpoint`: the wall clock around the command and the
  coordinator's own figure (first Suspend sent to commit). The fakes answer
  at once and write a 64-byte "image" each, so this is the barrier itself.
- Small job: N real bench_workload processes of 256 KiB each under
  ckpt_launch; one checkpoint (wall clock, per-process image size), kill, then
  one ckpt_restart per image, all started at once; restart time runs until
  every process has made progress again (each one's own resumed_ns).
"""

import json
import os
import statistics
import time

from .memory_case import parse_coordinator_ms, read_status
from .procs import BenchError, Job, log


def wait_for_line(job, name, prefix, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in job.tail(name, 100000).splitlines():
            if line.startswith(prefix):
                return line
        if proc.poll() is not None:
            raise BenchError(f"{name}: exited {proc.returncode}: {job.tail(name.replace('.out', '.err'))}")
        time.sleep(0.02)
    raise BenchError(f"no '{prefix}' from {name} within {timeout}s")


def run_barrier(bins, workdir, count, checkpoints):
    job = Job("barrier", bins, workdir)
    walls, coords = [], []
    try:
        job.start_coordinator()
        clients = job.start([bins.barrier_clients, "--port", str(job.port), "--dir", job.ckpt_dir, "--count",
                             str(count)], "clients")
        wait_for_line(job, "clients.out", "ready", clients, 120)
        for _ in range(checkpoints):
            rc, out, err, dt = job.command("--checkpoint", timeout=120)
            if rc != 0:
                raise BenchError(f"checkpoint with {count} fake processes: {(err or out).strip()}")
            walls.append(dt * 1e3)
            coords.append(parse_coordinator_ms(out))
        clients_ms = [float(l.split()[-1]) for l in job.tail("clients.out", 100000).splitlines()
                      if l.startswith("checkpoint")]
    finally:
        job.cleanup()
    result = {"processes": count, "checkpoints": checkpoints, "wall_ms": statistics.median(walls),
              "coordinator_ms": statistics.median([c for c in coords if c is not None] or [float("nan")]),
              "clients_ms": statistics.median(clients_ms) if clients_ms else None, "wall_all_ms": walls}
    log(f"  barrier, {count} processes: {result['wall_ms']:.1f} ms (coordinator {result['coordinator_ms']:.0f} ms)")
    return result


def launch_small(job, bins, count, kib):
    procs, statuses = [], []
    for i in range(count):
        status = job.path("st", f"s{i}")
        statuses.append(status)
        procs.append(job.start([bins.launch, bins.workload, "--kib", str(kib), "--threads", "1", "--status", status,
                                "--report-ms", "100", "--burst-pages", "1", "--sleep-us", "20000",
                                "--max-seconds", "600"], f"app{i}", stdout=job.path("apps.out")))
    return procs, statuses


def wait_all(statuses, cond, procs, timeout, what):
    """Waits until cond(status) holds for every status file; returns them."""
    deadline = time.monotonic() + timeout
    while True:
        sts = [read_status(s) for s in statuses]
        ok = [s is not None and cond(s) for s in sts]
        if all(ok):
            return sts
        if time.monotonic() > deadline:
            dead = sum(1 for p in procs if p.poll() is not None)
            raise BenchError(f"{what}: {sum(ok)} of {len(ok)} processes within {timeout}s ({dead} exited)")
        time.sleep(0.05)


def registered(job):
    """How many processes the coordinator has (ckpt_command --status --json)."""
    rc, out, _, _ = job.command("--status", "--json", timeout=30)
    try:
        return int(json.loads(out)["process_count"]) if rc == 0 else -1
    except (ValueError, KeyError, TypeError):
        return -1


def wait_registered(job, count, timeout):
    deadline = time.monotonic() + timeout
    while (n := registered(job)) < count:
        if time.monotonic() > deadline:
            raise BenchError(f"only {n} of {count} processes registered within {timeout}s")
        time.sleep(0.2)


def restart_small(job, bins, images, statuses, result):
    t0 = time.monotonic_ns()
    rprocs = [job.start([bins.restart, img], f"restart{i}", stdout=job.path("restarts.out"))
              for i, img in enumerate(images)]
    try:
        sts = wait_all(statuses, lambda s: min(s["resumed_ns"]) > t0, rprocs, 120, "progress after restart")
        result["restart_s"] = (max(max(s["resumed_ns"]) for s in sts) - t0) / 1e9
    except BenchError as e:
        failed = [i for i, p in enumerate(rprocs) if p.poll() not in (None, 0)]
        why = job.tail(f"restart{failed[0]}.err", 300) if failed else ""
        result["restart_error"] = f"{e}; {len(failed)} ckpt_restart failed. {why}"
    return rprocs


def run_small_job(bins, workdir, count, kib):
    job = Job("small", bins, workdir)
    os.makedirs(job.path("st"))
    result = {"processes": count, "kib": kib}
    try:
        job.start_coordinator()
        t = time.monotonic()
        procs, statuses = launch_small(job, bins, count, kib)
        wait_all(statuses, lambda s: True, procs, 180, "launch")
        wait_registered(job, count, 60)
        result["launch_s"] = time.monotonic() - t
        rc, out, err, dt = job.command("--checkpoint", timeout=300)
        if rc != 0:
            raise BenchError(f"checkpoint of {count} processes: {(err or out).strip()[-400:]}")
        images = job.images()
        sizes = [os.path.getsize(i) for i in images]
        result.update({"checkpoint_s": dt, "coordinator_ms": parse_coordinator_ms(out), "images": len(images),
                       "image_bytes_mean": statistics.mean(sizes), "image_bytes_max": max(sizes)})
        log(f"  {count} small processes: checkpoint {dt:.2f}s, {statistics.mean(sizes) / 1e6:.2f} MB per process")
        job.kill_processes(procs, timeout=60)
        restart_small(job, bins, images, statuses, result)
        if "restart_s" in result:
            log(f"  {count} small processes: restart {result['restart_s']:.2f}s")
        else:
            log(f"  {count} small processes: restart failed: {result['restart_error'][:300]}")
    except BenchError as e:
        result["error"] = str(e)
        log(f"  small job: FAILED: {e}")
    finally:
        job.cleanup()
    return result
