#!/usr/bin/env python3
"""ckpt's benchmark suite, one command:

    python3 bench/run_bench.py --build build [--sizes 256,1024,4096] [--quick]
                               [--json bench/results.json] [--only NAMES]

Measures, on this machine and in this run: whole-process checkpoint and
restart of bench_workload (mixed data, 1 and 4 threads; and the same data
in malloc'd 64 KiB blocks, 4 KiB pages, as a plain program holds it), the hardware floors
beside them, interposition overhead, start time under ckpt_launch, the
coordinator's barrier with many fake processes, a job of many small
processes, one process tree, and a job on several emulated hosts (network
namespaces; needs root) restarted on other hosts, the time lost per
checkpoint by programs that sweep their memory (one process, an MPI job),
a soak: a job of 16 processes through 500 checkpoints and 20
kill/restart cycles, with what each process and the coordinator hold before
and after, and incremental checkpoints beside a full one (1 GiB, 10% of the
pages rewritten) with what dirty tracking costs, and an 8-rank MPI job on two
emulated nodes (ssh, real sshd) checkpointed and restarted in place and moved.
Prints a table (with the
targets of issue 7) and writes the same figures as JSON; --plot DIR also
draws them as SVG against the floors (--report JSON --plot DIR: an earlier run). See docs/performance.md for what each figure means.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_driver import hosts, incremental, lazy, many, memory_case, micro, procs, report, soak, sweep, tree  # noqa: E402
from bench_driver.procs import BenchError, log  # noqa: E402
import mpi_nodes  # noqa: E402

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARTS = ["floors", "memory", "malloc", "interposition", "startup", "barrier", "small", "tree", "hosts", "sweep", "soak",
         "lazy", "incremental", "nodes"]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="meson build dir (default: build)")
    ap.add_argument("--sizes", default=None, help="MiB per workload, comma-separated (default 256,1024,4096)")
    ap.add_argument("--threads", default="1,4", help="worker threads per workload (default 1,4)")
    ap.add_argument("--quick", action="store_true", help="smaller and fewer runs, for iterating")
    ap.add_argument("--json", default=os.path.join(SOURCE_ROOT, "bench", "results.json"), help="output file")
    ap.add_argument("--workdir", default=None, help="where checkpoint dirs go (default: a temp dir in /var/tmp)")
    ap.add_argument("--only", default=",".join(PARTS), help=f"parts to run (default all: {','.join(PARTS)})")
    ap.add_argument("--reps", type=int, default=None, help="checkpoints and restarts per workload case "
                    "(default 3, --quick 1); figures are medians")
    ap.add_argument("--report", metavar="JSON", help="only print the tables of an earlier run's JSON")
    ap.add_argument("--plot", metavar="DIR", nargs="?", const=os.path.join(SOURCE_ROOT, "docs", "bench"),
                    help="also write SVG plots of the results against the floors into DIR "
                         "(default docs/bench; needs python3-matplotlib)")
    ap.add_argument("--barrier-processes", type=int, default=1000)
    ap.add_argument("--small-processes", type=int, default=256)
    ap.add_argument("--host-pairs", type=int, default=4, help="server/client pairs of the hosts part (default 4)")
    ap.add_argument("--soak-checkpoints", type=int, default=None, help="checkpoints of the soak part "
                    "(default 500, --quick 40)")
    ap.add_argument("--soak-cycles", type=int, default=None, help="kill/restart cycles of the soak part "
                    "(default 20, --quick 4)")
    ap.add_argument("--soak-interval", type=float, default=0.0, help="seconds between the soak part's "
                    "checkpoints (default 0: back to back)")
    ap.add_argument("--soak-processes", type=int, default=16)
    ap.add_argument("--merge", action="store_true", help="keep the other parts' figures already in the JSON "
                    "file (replace only the parts run now)")
    a = ap.parse_args()
    a.sizes = [int(x) for x in (a.sizes or ("256" if a.quick else "256,1024,4096")).split(",")]
    a.reps = a.reps or (1 if a.quick else 3)
    a.soak_checkpoints = a.soak_checkpoints or (40 if a.quick else 500)
    a.soak_cycles = a.soak_cycles if a.soak_cycles is not None else (4 if a.quick else 20)
    a.threads = [int(x) for x in a.threads.split(",")]
    a.only = set(a.only.split(","))
    unknown = a.only - set(PARTS)
    if unknown:
        ap.error(f"unknown parts {sorted(unknown)}; choose from {PARTS}")
    return a


def read_first(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def machine_info(args):
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 "?")
    rev = subprocess.run(["git", "-C", SOURCE_ROOT, "rev-parse", "--short=12", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", SOURCE_ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {"cpus": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)), "cpu": model,
            "kernel": platform.release(), "mem_total_kb": int(read_first("/proc/meminfo").split()[1]),
            "thp": read_first("/sys/kernel/mm/transparent_hugepage/enabled"), "git": rev,
            "tree_modified": bool(dirty), "build": os.path.abspath(args.build),
            "loadavg_start": read_first("/proc/loadavg"), "date": time.strftime("%Y-%m-%d %H:%M:%S %z")}


def run_parts(args, bins, workdir, results):
    """Runs each selected part; a failing part is recorded and the rest go on."""
    quick = args.quick
    plan = [
        ("floors", lambda: micro.run_floors(bins, workdir, args.sizes)),
        ("memory", lambda: [memory_case.run_memory_case(bins, workdir, m, t, args.reps) for m in args.sizes
                            for t in args.threads]),
        ("malloc", lambda: [memory_case.run_memory_case(bins, workdir, m, 1, args.reps, "malloc")
                            for m in args.sizes if m <= 1024]),
        ("interposition", lambda: micro.run_interposition(bins, workdir, 1 if quick else 4,
                                                          0.1 if quick else 0.2)),
        ("startup", lambda: micro.run_startup(bins, workdir, 8 if quick else 25)),
        ("barrier", lambda: many.run_barrier(bins, workdir, args.barrier_processes, 3 if quick else 10)),
        ("small", lambda: many.run_small_job(bins, workdir, 64 if quick else args.small_processes, 256)),
        ("tree", lambda: [tree.run_tree(bins, workdir, n, 256) for n in
                          ([64] if quick else [args.small_processes, 4 * args.small_processes])]),
        ("hosts", lambda: hosts.run_hosts(bins, workdir, args.host_pairs, 1 if quick else 3)),
        ("sweep", lambda: sweep.run_sweep(bins, workdir, 256 if quick else 1024, 64 if quick else 256,
                                          n=2 if quick else 3, rounds=1 if quick else 3)),
        ("soak", lambda: soak.run_soak(bins, workdir, args.soak_processes, args.soak_checkpoints, args.soak_cycles,
                                       args.soak_interval)),
        ("lazy", lambda: lazy.run_lazy(bins, workdir, 256 if quick else 1024, args.reps or (1 if quick else 3))),
        ("incremental", lambda: incremental.run_incremental(bins, workdir, 256 if quick else 1024, 10,
                                                            2 if quick else 5)),
        ("nodes", lambda: mpi_nodes.measure(os.path.abspath(args.build), 8, 16 if quick else 64,
                                            1 if quick else 2)),
    ]
    keys = {"memory": "memory_cases", "malloc": "memory_malloc_cases", "small": "small_job", "tree": "process_trees", "hosts": "several_hosts",
            "sweep": "sweep", "lazy": "lazy_restart", "nodes": "mpi_nodes"}
    for name, fn in plan:
        if name not in args.only:
            continue
        log(f"{name} ...")
        t0 = time.monotonic()
        try:
            results[keys.get(name, name)] = r = fn()
            if name in ("hosts", "soak") and "error" in r:  # its figures are kept, and the part counts as failed
                results.setdefault("failed_parts", {})[name] = r["error"]
        except (BenchError, OSError, RuntimeError, subprocess.SubprocessError) as e:
            log(f"{name}: FAILED: {e}")
            results.setdefault("failed_parts", {})[name] = str(e)
        results.setdefault("part_seconds", {})[name] = round(time.monotonic() - t0, 1)


def print_report(results, json_path):
    m = results["machine"]
    print()
    print(f"ckpt {m['git']}{' (modified tree)' if m['tree_modified'] else ''} on {m['cpus']} CPUs ({m['cpu']}), "
          f"kernel {m['kernel']}, THP {m['thp']}; load {m['loadavg_start']} -> {m['loadavg_end']}")
    for line in report.memory_table(results) + report.other_tables(results):
        print(line)
    print()
    print(report.summary(results) + f"; {results['total_seconds']:.0f} s; JSON in {json_path}")


def write_plots(args, results):
    if args.plot:
        from bench_driver import plots
        for path in plots.write_plots(results, args.plot):
            print(f"plot: {path}")


def main():
    args = parse_args()
    if args.report:
        with open(args.report) as f:
            results = json.load(f)
        print_report(results, args.report)
        write_plots(args, results)
        return 0
    procs.make_subreaper()
    procs.raise_fd_limit()
    bins = procs.Binaries(args.build)
    workdir = tempfile.mkdtemp(prefix="ckpt-bench-", dir=args.workdir or "/var/tmp")
    results = {"machine": machine_info(args), "args": {"sizes_mib": args.sizes, "threads": args.threads,
                                                       "quick": args.quick, "reps": args.reps, "parts": sorted(args.only)}}
    t0 = time.monotonic()
    try:
        run_parts(args, bins, workdir, results)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results["machine"]["loadavg_end"] = read_first("/proc/loadavg")
    results["total_seconds"] = round(time.monotonic() - t0, 1)
    results["targets"] = report.target_checks(results)
    for case in results.get("memory_cases", []) + results.get("memory_malloc_cases", []):  # floors, in s
        case["floors"] = report.floors_for(results.get("floors", {}), case["mib"])
    if args.merge and os.path.exists(args.json):
        with open(args.json) as f:
            old = json.load(f)
        runs = old.setdefault("runs_merged", [])
        runs.append({"machine": results["machine"], "parts": sorted(args.only),
                     "total_seconds": results["total_seconds"]})
        for key, value in results.items():
            if key not in ("machine", "args", "total_seconds", "targets", "part_seconds"):
                old[key] = value
        old["targets"] = report.target_checks(old)
        results = old
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1, sort_keys=False)
        f.write("\n")
    print_report(results, args.json)
    write_plots(args, results)
    return 1 if results.get("failed_parts") else 0


if __name__ == "__main__":
    sys.exit(main())
