"""Micro-benchmarks: the hardware floors, interposition overhead per call, and
the start time of an empty program natively and under ckpt_launch.

- Floors: bench_floors (Google Benchmark) in the checkpoint directory's file
  system: memcpy bandwidth, single-core zstd -1 and 1 (compress, decompress,
  ratio) on the mixed data in 1 MiB chunks, and write + fsync of exactly the
  workload's size, uncompressed.
- Interposition: bench_interpose (Google Benchmark) natively and under
  ckpt_launch, alternating, `rounds` times each; per benchmark the median of
  all repetitions' per-call real time. Google Benchmark times the loop inside
  the process, so start-up costs are not part of the per-call figures. The
  fastest repetition of each variant is compared: other load on the machine
  only ever adds time, so the minimum is the least noisy estimate (medians
  are kept in the JSON too).
- Start time: hyperfine-style, `runs` alternating runs of `bench_empty` and
  of `ckpt_launch bench_empty`, each ckpt run on a fresh port so that
  ckpt_launch starts (and waits for) a new coordinator every time.
"""

import json
import os
import statistics
import subprocess
import time

from . import procs
from .procs import BenchError, Job, log


def gbench_json(argv, env, cwd, out_path, timeout):
    """Runs a Google Benchmark program with JSON output to out_path."""
    cmd = argv + [f"--benchmark_out={out_path}", "--benchmark_out_format=json"]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, env=env, cwd=cwd, timeout=timeout)
    if r.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.decode(errors='replace')[-500:]}")
    with open(out_path) as f:
        return json.load(f)["benchmarks"]


def run_floors(bins, workdir, sizes_mib):
    job = Job("floors", bins, workdir)
    try:
        sizes = ",".join(str(m << 20) for m in sizes_mib)
        rows = gbench_json([bins.floors, "--dir", job.ckpt_dir, "--write-bytes", sizes], job.env, job.root,
                           job.path("floors.json"), 600)
    finally:
        job.cleanup()
    out = {"write_fsync_bps": {}, "write_direct_bps": {}}
    for r in rows:
        name, bps = r["name"], r.get("bytes_per_second")
        if name.startswith("BM_memcpy"):
            out["memcpy_bps"] = bps
        elif name.startswith("BM_zstd_compress/"):
            level = name.split("/")[1]
            out[f"zstd{level}_bps"] = bps
            out[f"zstd{level}_ratio"] = r.get("ratio")
        elif name.startswith("BM_zstd_decompress/"):
            out[f"unzstd{name.split('/')[1]}_bps"] = bps
        elif name.startswith("BM_write_fsync/"):
            mib = int(name.split("/")[1]) >> 20
            out["write_fsync_bps"][str(mib)] = bps
        elif name.startswith("BM_write_direct/") and bps:
            mib = int(name.split("/")[1]) >> 20
            out["write_direct_bps"][str(mib)] = bps
    return out


def per_call_ns(rows):
    """{benchmark: [real_time ns of each repetition]}"""
    out = {}
    for r in rows:
        if r.get("run_type", "iteration") != "iteration":
            continue
        out.setdefault(r.get("run_name", r["name"]), []).append(r["real_time"])
    return out


def run_interposition(bins, workdir, rounds, min_time):
    job = Job("interpose", bins, workdir)
    native, ckpt = {}, {}
    args = [bins.interpose, f"--benchmark_min_time={min_time}", "--benchmark_repetitions=3"]
    try:
        for i in range(rounds):
            for variant, prefix, acc in (("native", [], native), ("ckpt", [bins.launch], ckpt)):
                rows = gbench_json(prefix + args, job.env, job.root, job.path(f"{variant}{i}.json"), 300)
                for k, v in per_call_ns(rows).items():
                    acc.setdefault(k, []).extend(v)
    finally:
        job.cleanup()
    out = {}
    for name in native:
        n, c = min(native[name]), min(ckpt.get(name, [float("nan")]))
        out[name.replace("BM_", "")] = {
            "native_ns": n, "ckpt_ns": c, "ratio": c / n, "repetitions": len(native[name]),
            "native_median_ns": statistics.median(native[name]),
            "ckpt_median_ns": statistics.median(ckpt.get(name, [float("nan")]))}
    return out


def time_run(argv, env, cwd, timeout=30):
    t0 = time.monotonic()
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                       cwd=cwd, timeout=timeout)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        raise BenchError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.decode(errors='replace')[-300:]}")
    return dt


def wait_coordinators_gone(job, timeout=5):
    """Lets the per-run coordinator (--exit-on-last) end, outside the timing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.reap_orphans(set())
        if not [p for p in procs.children_of(os.getpid()) if not procs.is_zombie(p)]:
            return
        time.sleep(0.01)
    for p in procs.children_of(os.getpid()):
        if job.ckpt_dir in procs.cmdline(p):
            procs.kill_pid(p)
    procs.reap_orphans(set())


def run_startup(bins, workdir, runs):
    job = Job("startup", bins, workdir)
    native, ckpt = [], []
    try:
        for _ in range(runs):
            native.append(time_run([bins.empty], job.env, job.root))
            env = dict(job.env, CKPT_COORD_PORT=str(procs.free_port()))
            ckpt.append(time_run([bins.launch, bins.empty], env, job.root))
            wait_coordinators_gone(job)
    finally:
        job.cleanup()
    med_n, med_c = statistics.median(native), statistics.median(ckpt)
    log(f"  empty program: native {med_n * 1e3:.2f} ms, ckpt_launch {med_c * 1e3:.2f} ms (medians of {runs})")
    return {"runs": runs, "native_ms": med_n * 1e3, "ckpt_ms": med_c * 1e3, "extra_ms": (med_c - med_n) * 1e3,
            "native_min_ms": min(native) * 1e3, "ckpt_min_ms": min(ckpt) * 1e3}
