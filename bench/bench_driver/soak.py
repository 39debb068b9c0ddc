"""The soak part (issue 18): bench_soak, a job of N processes (16) with
threads, a ring of pipes, socketpairs, TCP loopback connections and shared
memory that check each other every step, runs under ckpt_launch with its own
coordinator through `checkpoints` checkpoints (back to back, or one every
`interval` seconds) spread over `cycles` + 1 segments, with a kill
(ckpt_command --kill) and a ckpt_restart of the whole job between segments.

Measured: each checkpoint's wall time (ckpt_command --checkpoint) and the
coordinator's own figure, percentiles p50/p99/max; every failed checkpoint
(with its message) and every self-check failure of the job ("FAIL" lines);
RSS, open fds, threads and mapping count (/proc) of the coordinator and of
every process (by virtual pid) at three points: "start" (after the first
checkpoint), "restarted" (after the first checkpoint that follows the first
restart: processes restored from images, compared with their like) and
"end" (after the last checkpoint); plus, at the end of each segment, the
coordinator's figures and the job's totals, to show a trend. A process or
the coordinator "grew" if its fds, threads or maps went up, or its RSS by
more than RSS_SLACK_KB, from the earlier point to "end"."""

import importlib.util
import json
import os
import re
import time

from .many import wait_for_line, wait_registered
from .memory_case import parse_coordinator_ms
from .procs import BenchError, Job, log

RSS_SLACK_KB = 256
FAIL_RE = re.compile(r"^FAIL .*$", re.M)
STEP_RE = re.compile(r"^p(\d+) step (\d+)$", re.M)


def _load_proc_usage():
    """tests/e2e/proc_usage.py (shared with the e2e tests), imported by path."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    spec = importlib.util.spec_from_file_location("proc_usage",
                                                  os.path.join(root, "tests", "e2e", "proc_usage.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


usage = _load_proc_usage().usage


def percentile(values, p):
    """Nearest-rank percentile of a non-empty list."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))]


def job_processes(job):
    """{vpid: real pid} of the job's processes, from ckpt_command --status --json."""
    rc, out, err, _ = job.command("--status", "--json", timeout=30)
    if rc != 0:
        raise BenchError(f"ckpt_command --status: {(err or out).strip()[-300:]}")
    return {p["vpid"]: p["real_pid"] for p in json.loads(out)["processes"]}


def snapshot(job):
    procs = {str(v): usage(pid) for v, pid in sorted(job_processes(job).items())}
    return {"coordinator": usage(job.coordinator.pid), "processes": procs}


def totals(snap):
    out = {"rss_kb": 0, "fds": 0, "threads": 0, "maps": 0}
    for u in snap["processes"].values():
        for k in out:
            out[k] += u[k] if u else 0
    return out


def growth(before, after):
    """What went up from `before` to `after` (usage dicts), or {}."""
    if not before or not after:
        return {"missing": True}
    grew = {k: after[k] - before[k] for k in ("fds", "threads", "maps") if after[k] > before[k]}
    if after["rss_kb"] - before["rss_kb"] > RSS_SLACK_KB:
        grew["rss_kb"] = after["rss_kb"] - before["rss_kb"]
    return grew


def job_failures(job):
    return FAIL_RE.findall(job.tail("app.out", 1 << 22))


def last_steps(job):
    steps = {}
    for p, s in STEP_RE.findall(job.tail("app.out", 1 << 22)):
        steps[int(p)] = max(steps.get(int(p), -1), int(s))
    return steps


class Soak:
    def __init__(self, bins, workdir, processes, checkpoints, cycles, interval, step_ms):
        self.bins, self.processes, self.interval = bins, processes, interval
        self.checkpoints, self.cycles, self.step_ms = checkpoints, cycles, step_ms
        self.job = Job("soak", bins, workdir)
        self.wall_ms, self.coord_ms, self.failed, self.restart_s = [], [], [], []
        self.points, self.trend, self.loads = {}, [], []

    def checkpoint(self, segment):
        rc, out, err, dt = self.job.command("--checkpoint", timeout=300)
        if rc != 0:
            self.failed.append({"segment": segment, "message": (err or out).strip()[-400:]})
            log(f"  checkpoint {len(self.wall_ms) + len(self.failed)} FAILED: {self.failed[-1]['message']}")
            return
        self.wall_ms.append(dt * 1e3)
        if (ms := parse_coordinator_ms(out)) is not None:
            self.coord_ms.append(ms)

    def segment(self, index, count):
        for k in range(count):
            self.checkpoint(index)
            if index == 0 and k == 0:
                self.points["start"] = snapshot(self.job)
            if index == 1 and k == 0:
                self.points["restarted"] = snapshot(self.job)
            if fails := job_failures(self.job):
                raise BenchError(f"the job failed a self-check: {fails[0]}")
            if self.interval:
                time.sleep(self.interval)
        snap = snapshot(self.job)
        self.loads.append(open("/proc/loadavg").read().split()[0])
        self.trend.append({"segment": index, "checkpoints": len(self.wall_ms) + len(self.failed),
                           "coordinator": snap["coordinator"], "job": totals(snap)})
        return snap

    def restart(self, app, index):
        self.job.kill_processes([app])
        t0 = time.monotonic()
        app = self.job.start([self.bins.restart, self.job.ckpt_dir], f"restart{index}",
                             stdout=self.job.path("app.out"))
        wait_registered(self.job, self.processes, 120)
        self.restart_s.append(time.monotonic() - t0)
        return app

    def run(self):
        job = self.job
        job.start_coordinator()
        app = job.start([self.bins.launch, self.bins.soak, str(self.processes), str(self.step_ms)], "app")
        wait_for_line(job, "app.out", "ready", app, 60)
        wait_registered(job, self.processes, 120)
        per = [self.checkpoints // (self.cycles + 1) + (1 if i < self.checkpoints % (self.cycles + 1) else 0)
               for i in range(self.cycles + 1)]
        t0 = time.monotonic()
        for index, count in enumerate(per):
            snap = self.segment(index, max(1, count))
            if index < self.cycles:
                app = self.restart(app, index + 1)
            log(f"  segment {index + 1}/{len(per)}: {len(self.wall_ms)} checkpoints committed, "
                f"{len(self.failed)} failed, coordinator {snap['coordinator']}, job {totals(snap)}")
        self.points["end"] = snapshot(job)
        steps = last_steps(job)
        return self.result(time.monotonic() - t0, steps)

    def result(self, seconds, steps):
        pts = self.points
        r = {"processes": self.processes, "checkpoints_planned": self.checkpoints, "cycles": self.cycles,
             "interval_s": self.interval, "step_ms": self.step_ms, "seconds": round(seconds, 1),
             "checkpoints_committed": len(self.wall_ms), "checkpoints_failed": self.failed,
             "job_failures": job_failures(self.job), "last_steps": steps,
             "restart_s": [round(x, 3) for x in self.restart_s], "points": pts, "trend": self.trend,
             "wall_all_ms": [round(x, 1) for x in self.wall_ms], "loadavg_each_segment": self.loads}
        for key, vals in (("wall_ms", self.wall_ms), ("coordinator_ms", self.coord_ms)):
            if vals:
                r[key] = {"p50": percentile(vals, 50), "p99": percentile(vals, 99), "max": max(vals),
                          "min": min(vals), "mean": sum(vals) / len(vals)}
        r["growth"] = {"coordinator": growth(pts["start"]["coordinator"], pts["end"]["coordinator"])}
        base = pts.get("restarted", pts["start"])
        for vpid, u in pts["end"]["processes"].items():
            if g := growth(base["processes"].get(vpid), u):
                r["growth"][vpid] = g
        return r


def run_soak(bins, workdir, processes, checkpoints, cycles, interval=0.0, step_ms=20):
    soak = Soak(bins, workdir, processes, checkpoints, cycles, interval, step_ms)
    try:
        r = soak.run()
        w = r.get("wall_ms", {})
        log(f"  soak: {r['checkpoints_committed']} checkpoints committed, {len(r['checkpoints_failed'])} failed, "
            f"{cycles} restarts; checkpoint p50 {w.get('p50', 0):.0f} ms, p99 {w.get('p99', 0):.0f} ms, "
            f"max {w.get('max', 0):.0f} ms; grew: {r['growth'] if any(r['growth'].values()) else 'nothing'}")
        return r
    except BenchError as e:
        log(f"  soak: FAILED: {e}")
        return {"error": str(e), "checkpoints_committed": len(soak.wall_ms), "checkpoints_failed": soak.failed,
                "trend": soak.trend}
    finally:
        soak.job.cleanup()
