"""The report: the issue's targets (1 GiB of mixed data, 2-core machine),
the comparison points quoted there, and the text tables printed at the end
of a run. The same figures go to the JSON file."""

import math

from . import lazy

import mpi_nodes  # bench/mpi_nodes.py (bench/ is on sys.path under run_bench.py)

GB = 1e9
MiB = 1 << 20

# (key, label, target, unit) for the 1 GiB whole-process case.
MEMORY_TARGETS = [
    ("pause_ms", "application pause (ms)", 30.0),
    ("checkpoint_s", "checkpoint committed (s)", 0.5),
    ("image_gb", "image size (GB)", 0.55),
    ("restart_s", "restart to progress (s)", 0.6),
    ("ckpt_extra_mib", "extra memory, checkpoint (MiB)", 64.0),
    ("restart_extra_mib", "extra memory, restart (MiB)", 64.0),
]
CRIU_1GIB = {"pause_ms": 322.0, "checkpoint_s": 0.40, "image_gb": 1.07, "restart_s": 0.64}

INTERPOSE_TARGETS = {"write_devnull": (1.02, 1.21), "open_close": (1.10, 6.8), "getpid": (None, None),
                     "compute": (1.01, 1.00)}
STARTUP_TARGET_MS, STARTUP_DMTCP_MS = 50.0, 1030.0
BARRIER_TARGET_MS = 100.0
# A tree of 256 processes of 256 KiB under one ckpt_launch (issue 19, part 6).
TREE_TARGETS = {"checkpoint_s": 1.5, "restart_s": 2.0}
SMALL_TARGETS = {"checkpoint_s": (1.5, 11.6), "restart_s": (2.0, 8.9), "image_mb": (1.0, 23.7)}
# Time lost per checkpoint by a program sweeping 1 GiB (issue 14); DMTCP's
# stop-the-world and CRIU's freeze of the same program here.
SWEEP_TARGET_S, SWEEP_DMTCP_S, SWEEP_CRIU_S = 0.3, 4.0, 0.35
# Incremental checkpoints of 1 GiB with 10% of its pages rewritten (issue 19).
INCR_TARGETS = [("pause_ms", "pause (ms)", 10.0), ("checkpoint_s", "committed (s)", 0.1),
                ("image_mb", "image (MB)", 60.0)]
INCR_TRACKING_TARGET_PCT = 1.0
# A full checkpoint of the same 1 GiB (issue 19, part 3).
INCR_FULL_TARGET_S = 0.5


def met(value, target):
    if target is None or value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value <= target


def mark(value, target):
    m = met(value, target)
    return "" if m is None else (" ok" if m else " MISS")


def fmt(v, digits=3):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.{digits}f}"


def case_label(c):
    size = f"{c['mib'] // 1024} GiB" if c["mib"] >= 1024 else f"{c['mib']} MiB"
    layout = " malloc" if c.get("layout") == "malloc" else ""
    return f"{size} x{c['threads']}{layout}"


def all_memory_cases(results):
    """The mixed-data cases: one mapping, then malloc'd blocks."""
    return results.get("memory_cases", []) + results.get("memory_malloc_cases", [])


def derived(case):
    out = dict(case)
    if "image_bytes" in case:
        out["image_gb"] = case["image_bytes"] / GB
    return out


def floors_for(floors, mib):
    """Seconds the hardware needs for `mib` MiB: memcpy, write+fsync, zstd."""
    n = mib * MiB

    def t(bps):
        return n / bps if bps else None

    return {
        "memcpy_s": t(floors.get("memcpy_bps")),
        "write_fsync_s": t(floors.get("write_fsync_bps", {}).get(str(mib))),
        "write_direct_s": t(floors.get("write_direct_bps", {}).get(str(mib))),
        "zstd-1_s": t(floors.get("zstd-1_bps")),
        "zstd1_s": t(floors.get("zstd1_bps")),
        "unzstd-1_s": t(floors.get("unzstd-1_bps")),
        "unzstd1_s": t(floors.get("unzstd1_bps")),
        "zstd1_image_gb": n / floors["zstd1_ratio"] / GB if floors.get("zstd1_ratio") else None,
    }


def target_checks(results):
    """[{what, target, measured, met}] for the JSON and the summary."""
    checks = []
    for c in (derived(c) for c in all_memory_cases(results)):
        if c["mib"] != 1024:
            continue
        for key, label, target in MEMORY_TARGETS:
            checks.append({"what": f"{case_label(c)}: {label}", "target": target, "measured": c.get(key),
                           "met": met(c.get(key), target)})
    for name, r in results.get("interposition", {}).items():
        target = INTERPOSE_TARGETS.get(name, (None, None))[0]
        if target:
            checks.append({"what": f"interposition {name} (x native)", "target": target, "measured": r["ratio"],
                           "met": met(r["ratio"], target)})
    if "startup" in results:
        v = results["startup"].get("extra_ms")
        checks.append({"what": "start under ckpt_launch (+ms)", "target": STARTUP_TARGET_MS, "measured": v,
                       "met": met(v, STARTUP_TARGET_MS)})
    if "barrier" in results:
        v = results["barrier"].get("wall_ms")
        checks.append({"what": f"barrier, {results['barrier'].get('processes')} processes (ms)",
                       "target": BARRIER_TARGET_MS, "measured": v, "met": met(v, BARRIER_TARGET_MS)})
    small = results.get("small_job")
    for key, (target, _) in SMALL_TARGETS.items() if small else ():
        v = small.get("image_bytes_mean", 0) / 1e6 if key == "image_mb" and "image_bytes_mean" in small \
            else small.get(key)
        checks.append({"what": f"{small.get('processes', 256)} small processes: {key}", "target": target,
                       "measured": v, "met": met(v, target)})
    for t in results.get("process_trees", []):
        for key, target in TREE_TARGETS.items() if t.get("processes") == 256 else ():
            checks.append({"what": f"tree of 256 processes: {key}", "target": target, "measured": t.get(key),
                           "met": met(t.get(key), target)})
    checks += soak_checks(results.get("soak"))
    inc = results.get("incremental", {})
    if "incremental" in inc:
        v = inc["full"].get("checkpoint_s")
        checks.append({"what": f"full checkpoint of {inc['mib']} MiB malloc'd: committed (s)",
                       "target": INCR_FULL_TARGET_S, "measured": v, "met": met(v, INCR_FULL_TARGET_S)})
        for key, label, target in INCR_TARGETS:
            v = incr_value(inc["incremental"], key)
            checks.append({"what": f"incremental, {inc['percent']}% of {inc['mib']} MiB rewritten: {label}",
                           "target": target, "measured": v, "met": met(v, target)})
        v = inc.get("tracking_overhead_pct")
        checks.append({"what": "dirty tracking: cost of the first writes after a checkpoint (%)",
                       "target": INCR_TRACKING_TARGET_PCT, "measured": v, "met": met(v, INCR_TRACKING_TARGET_PCT)})
    for c in results.get("sweep", {}).get("cases", []):
        if c.get("mode") == "auto" and not c["case"].startswith("MPI") and "lost_per_checkpoint_s" in c:
            v = c["lost_per_checkpoint_s"]
            checks.append({"what": f"sweeping {c['case']}: time lost per checkpoint (s)", "target": SWEEP_TARGET_S,
                           "measured": v, "met": met(v, SWEEP_TARGET_S)})
    checks += lazy.lazy_checks(results.get("lazy_restart"), met)
    return checks


def incr_value(run, key):
    return run["image_bytes"] / 1e6 if key == "image_mb" else run.get(key)


def incremental_lines(inc):
    """The incremental part: a full and incremental checkpoints of the same
    process in one run, and what tracking costs the program."""
    if not inc:
        return []
    lines = ["", f"incremental checkpoints: {inc['mib']} MiB malloc'd, {inc['percent']}% of the pages rewritten "
                 f"between checkpoints ({inc['rounds']} rounds, medians)"]
    if "incremental" not in inc:
        return lines + [f"  FAILED: {inc.get('error', '?')[:300]}"]
    lines.append(f"  {'':14} {'pause ms':>9} {'committed s':>11} {'coordinator ms':>14} {'image MB':>9} "
                 f"{'floor: write+fsync s':>20} {'floor: O_DIRECT s':>17}")
    full_targets = [("checkpoint_s", "", INCR_FULL_TARGET_S)]
    for label, run, targets in (("full", inc["full"], full_targets), ("incremental", inc["incremental"],
                                                                      INCR_TARGETS)):
        marks = {k: mark(incr_value(run, k), t) for k, _, t in targets}
        lines.append(f"  {label:14} {fmt(run['pause_ms'], 1):>9}{marks.get('pause_ms', '')} "
                     f"{fmt(run['checkpoint_s'], 3):>11}{marks.get('checkpoint_s', '')} "
                     f"{fmt(run['coordinator_ms'], 0):>14} {fmt(incr_value(run, 'image_mb'), 1):>9}"
                     f"{marks.get('image_mb', '')} {fmt(run.get('floor_write_fsync_s'), 3):>20}"
                     f" {fmt(run.get('floor_write_direct_s'), 3):>17}")
    every = inc["full"].get("checkpoint_s_all")
    if every:
        lines.append(f"  full checkpoints, each (s): {', '.join(fmt(v, 3) for v in every)}")
    lines.append(f"  targets: full committed 0.5 s; incremental pause 10 ms, committed 0.1 s, image 60 MB; "
                 f"the dirty-page scan inside the pause: {fmt(inc.get('scan_ms'), 2)} ms")
    lines.append(f"  restart from the chain (full + {inc['rounds']} incremental): {fmt(inc.get('restart_chain_s'), 2)} s")
    lines.append(f"  rewriting {inc['percent']}% of the pages right after a checkpoint, CPU time: "
                 f"{fmt(inc['rewrite_ms_tracking'], 1)} ms tracked, {fmt(inc['rewrite_ms_no_tracking'], 1)} ms "
                 f"untracked (--full-every 1): {fmt(inc['tracking_overhead_pct'], 2)}% "
                 f"(target 1%){mark(inc['tracking_overhead_pct'], INCR_TRACKING_TARGET_PCT)}; wall clock "
                 f"{fmt(inc.get('rewrite_wall_ms_tracking'), 1)} / {fmt(inc.get('rewrite_wall_ms_no_tracking'), 1)} ms")
    return lines


def sweep_lines(sw):
    """The sweep part: per program and write mode, the time lost per checkpoint."""
    if not sw:
        return []
    f = sw["floors"]
    lines = ["", f"programs that sweep their memory (one word per page per step), time lost per checkpoint "
                 f"(medians of {sw.get('rounds', 1)} rounds); "
                 f"floors for {sw['mib']} MiB: memcpy {fmt(f['memcpy_touched_s'])} s "
                 f"(into new memory {fmt(f['memcpy_new_s'])} s), fork {fmt(f['fork_s'])} s",
             f"  {'program':28} {'mode':6} {'lost/ckpt s':>11} {'its CPU s':>9} {'longest gap s':>13} "
             f"{'steps/s before':>14} {'after':>6} {'committed s':>11} {'image GB':>8} {'load':>5}"]
    for c in sw.get("cases", []):
        if "lost_per_checkpoint_s" not in c:
            lines.append(f"  {c['case']:28} {c['mode']:6} FAILED: {c.get('error', '?')[:200]}")
            continue
        target = SWEEP_TARGET_S if c["mode"] == "auto" and not c["case"].startswith("MPI") else None
        lines.append(f"  {c['case']:28} {c['mode']:6} {c['lost_per_checkpoint_s']:11.3f} "
                     f"{c['cpu_lost_per_checkpoint_s']:9.3f} {c['longest_gap_s']:13.3f} {c['rate_before']:14.0f} "
                     f"{c['rate_after']:6.0f} {c['checkpoint_s']:11.2f} {c['image_bytes'] / GB:8.3f} "
                     f"{c.get('loadavg', 0):5.1f}{mark(c['lost_per_checkpoint_s'], target)}"
                     f"  each: {' '.join(fmt(x, 2) for x in c.get('lost_per_checkpoint_each_s', []))}")
    lines.append(f"  target {SWEEP_TARGET_S} s per checkpoint of 1 GiB (auto); DMTCP {SWEEP_DMTCP_S} s, "
                 f"CRIU {SWEEP_CRIU_S} s")
    if "mpi_skipped" in sw:
        lines.append(f"  MPI case skipped: {sw['mpi_skipped']}")
    return lines


def memory_table(results):
    cases = [derived(c) for c in all_memory_cases(results)]
    if not cases:
        return []
    floors = results.get("floors", {})
    rows = [("", [case_label(c) for c in cases], "target 1 GiB", "CRIU 1 GiB")]
    crit = {k: t for k, _, t in MEMORY_TARGETS}

    def row(label, key, digits=3, target=None, criu=None):
        cells = []
        for c in cases:
            v = c.get(key)
            cells.append(("FAILED" if "error" in c and v is None else fmt(v, digits)) +
                         (mark(v, target) if c["mib"] == 1024 else ""))
        rows.append((label, cells, fmt(target, 2) if target else "", fmt(criu, 2) if criu else ""))

    row("checkpoint committed (s)", "checkpoint_s", 3, crit["checkpoint_s"], CRIU_1GIB["checkpoint_s"])
    row("  coordinator's figure (ms)", "coordinator_ms", 0)
    row("application pause (ms)", "pause_ms", 1, crit["pause_ms"], CRIU_1GIB["pause_ms"])
    row("  gap without checkpoint (ms)", "baseline_gap_ms", 1)
    row("image size (GB)", "image_gb", 3, crit["image_gb"], CRIU_1GIB["image_gb"])
    row("restart to progress (s)", "restart_s", 3, crit["restart_s"], CRIU_1GIB["restart_s"])
    row("extra memory, checkpoint (MiB)", "ckpt_extra_mib", 0, crit["ckpt_extra_mib"])
    row("extra memory, restart (MiB)", "restart_extra_mib", 0, crit["restart_extra_mib"])
    fl = [floors_for(floors, c["mib"]) for c in cases]
    for key, label, d in (("memcpy_s", "floor: memcpy (s)", 3), ("write_fsync_s", "floor: write+fsync raw (s)", 3),
                          ("write_direct_s", "floor: O_DIRECT write raw (s)", 3),
                          ("zstd-1_s", "floor: zstd -1, 1 core (s)", 3), ("zstd1_s", "floor: zstd 1, 1 core (s)", 3),
                          ("unzstd-1_s", "floor: unzstd -1, 1 core (s)", 3),
                          ("unzstd1_s", "floor: unzstd 1, 1 core (s)", 3),
                          ("zstd1_image_gb", "floor: zstd 1 size (GB)", 3)):
        rows.append((label, [fmt(f[key], d) for f in fl], "", ""))
    return render(rows)


def render(rows):
    widths = [max(len(r[0]) for r in rows)]
    ncells = len(rows[0][1])
    for i in range(ncells):
        widths.append(max(len(r[1][i]) for r in rows))
    extra = [max(len(r[2]) for r in rows), max(len(r[3]) for r in rows)]
    lines = []
    for label, cells, target, criu in rows:
        parts = [label.ljust(widths[0])] + [c.rjust(w) for c, w in zip(cells, widths[1:])]
        parts += [target.rjust(extra[0]), criu.rjust(extra[1])]
        lines.append("  ".join(parts).rstrip())
    return lines


def other_tables(results):
    lines = []
    inter = results.get("interposition")
    if inter:
        lines.append("")
        lines.append(f"{'interposition, per call':28} {'native ns':>10} {'ckpt ns':>10} {'ratio':>7} "
                     f"{'target':>7} {'DMTCP':>6}")
        for name, r in inter.items():
            target, dmtcp = INTERPOSE_TARGETS.get(name, (None, None))
            lines.append(f"{name:28} {r['native_ns']:10.1f} {r['ckpt_ns']:10.1f} {r['ratio']:7.3f} "
                         f"{fmt(target, 2):>7} {fmt(dmtcp, 2):>6}{mark(r['ratio'], target)}")
    st = results.get("startup")
    if st:
        lines.append(f"{'empty program start (ms)':28} {st['native_ms']:10.2f} {st['ckpt_ms']:10.2f} "
                     f"{'+' + fmt(st['extra_ms'], 1):>7} {'+50':>7} {'+1030':>6}"
                     f"{mark(st['extra_ms'], STARTUP_TARGET_MS)}")
    b = results.get("barrier")
    if b:
        lines.append("")
        lines.append(f"barrier, {b['processes']} fake processes: ckpt_command --checkpoint {fmt(b['wall_ms'], 1)} ms "
                     f"(coordinator {fmt(b['coordinator_ms'], 0)} ms, fakes {fmt(b.get('clients_ms'), 1)} ms), "
                     f"target {BARRIER_TARGET_MS:.0f} ms{mark(b['wall_ms'], BARRIER_TARGET_MS)}")
    lines += small_lines(results.get("small_job"))
    lines += tree_lines(results.get("process_trees", []))
    lines += sweep_lines(results.get("sweep"))
    lines += incremental_lines(results.get("incremental"))
    lines += hosts_lines(results.get("several_hosts"))
    lines += soak_lines(results.get("soak"))
    lines += lazy.lazy_lines(results.get("lazy_restart"), fmt, mark)
    lines += mpi_nodes.report_lines(results.get("mpi_nodes"))
    return lines


def soak_checks(s):
    """Issue 18's soak targets: no failed checkpoint, p99 within 2x p50, nothing grows."""
    if not s or "wall_ms" not in s:
        return []
    w = s["wall_ms"]
    grew = sorted(k for k, v in s.get("growth", {}).items() if v)
    return [{"what": "soak: failed checkpoints", "target": 0,
             "measured": len(s["checkpoints_failed"]) + len(s.get("job_failures", [])),
             "met": not s["checkpoints_failed"] and not s.get("job_failures")},
            {"what": "soak: checkpoint p99 / p50", "target": 2.0, "measured": w["p99"] / w["p50"],
             "met": met(w["p99"] / w["p50"], 2.0)},
            {"what": "soak: processes or coordinator that grew", "target": 0, "measured": len(grew),
             "met": not grew}]


def usage_text(u):
    return "gone" if not u else f"{u['rss_kb'] / 1024:.1f} MiB, {u['fds']} fds, {u['threads']} thr, {u['maps']} maps"


def soak_lines(s):
    if not s:
        return []
    lines = ["", f"soak: {s.get('processes', '?')} processes, {s.get('checkpoints_committed', 0)} of "
             f"{s.get('checkpoints_planned', '?')} checkpoints committed, {s.get('cycles', '?')} kill/restart cycles"
             f" in {fmt(s.get('seconds'), 0)} s"]
    if "error" in s:
        lines.append(f"  FAILED: {s['error'][:300]}")
    for f in s.get("checkpoints_failed", [])[:5]:
        lines.append(f"  failed checkpoint (segment {f['segment']}): {f['message'][:200]}")
    for f in s.get("job_failures", [])[:5]:
        lines.append(f"  job self-check: {f[:200]}")
    if "wall_ms" not in s:
        return lines
    w, c = s["wall_ms"], s.get("coordinator_ms", {})
    lines.append(f"  checkpoint (ms)   p50 {w['p50']:.0f}  p99 {w['p99']:.0f}  max {w['max']:.0f}  "
                 f"(p99/p50 {w['p99'] / w['p50']:.2f}, target 2){mark(w['p99'] / w['p50'], 2.0)}")
    if c:
        lines.append(f"  coordinator (ms)  p50 {c['p50']:.0f}  p99 {c['p99']:.0f}  max {c['max']:.0f}")
    if s.get("restart_s"):
        rs = sorted(s["restart_s"])
        lines.append(f"  restart to all registered (s): median {rs[len(rs) // 2]:.2f}, max {rs[-1]:.2f}")
    pts = s["points"]
    later = "restarted" if "restarted" in pts else "start"
    lines.append(f"  {'coordinator':14} start {usage_text(pts['start']['coordinator']):>38} -> "
                 f"end {usage_text(pts['end']['coordinator'])}")
    for vpid, u in pts["end"]["processes"].items():
        lines.append(f"  {'process ' + vpid:14} {later:>5} {usage_text(pts[later]['processes'].get(vpid)):>38} -> "
                     f"end {usage_text(u)}")
    grew = {k: v for k, v in s.get("growth", {}).items() if v}
    lines.append(f"  grew: {grew if grew else 'nothing'}")
    return lines


def small_lines(s):
    if not s:
        return []
    lines = ["", f"job of {s['processes']} processes x {s['kib']} KiB:"]
    if "error" in s and "checkpoint_s" not in s:
        return lines + [f"  FAILED: {s['error'][:300]}"]
    mb = s["image_bytes_mean"] / 1e6
    lines.append(f"  checkpoint {fmt(s['checkpoint_s'], 2)} s (target 1.5, DMTCP 11.6)"
                 f"{mark(s['checkpoint_s'], 1.5)}")
    if "restart_s" in s:
        lines.append(f"  restart {fmt(s['restart_s'], 2)} s (target 2, DMTCP 8.9){mark(s['restart_s'], 2.0)}")
    else:
        lines.append(f"  restart: not measurable: {s.get('restart_error', s.get('error', '?'))[:300]}")
    lines.append(f"  image per process {mb:.2f} MB mean, {s['image_bytes_max'] / 1e6:.2f} MB max "
                 f"(target 1, DMTCP 23.7){mark(mb, 1.0)}")
    return lines


def tree_lines(trees):
    """The process trees: checkpoint and restart, each split by phase."""
    lines = []
    for t in trees:
        n = t["processes"]
        lines += ["", f"one tree of {n} processes x {t['kib']} KiB under one ckpt_launch:"]
        if "checkpoint_s" not in t:
            lines.append(f"  FAILED: {t.get('error', '?')[:300]}")
            continue
        target = TREE_TARGETS if n == 256 else {}
        cp = t.get("checkpoint_phases", {})
        lines.append(f"  checkpoint {fmt(t['checkpoint_s'], 2)} s{mark(t['checkpoint_s'], target.get('checkpoint_s'))}"
                     f" (coordinator: suspend {cp.get('suspend_ms', '-')} ms, snapshot {cp.get('snapshot_ms', '-')} ms,"
                     f" write {cp.get('write_ms', '-')} ms, commit {cp.get('commit_ms', '-')} ms);"
                     f" image {t['image_bytes_each'] / 1e6:.3f} MB per process")
        if "restart_s" in t:
            rp = t.get("restart_phases", {})
            order = ("images_read", "coordinator", "files_restored", "spawned", "memory_loaded", "all_ready")
            split = ", ".join(f"{k.replace('_', ' ')} {rp[k + '_ms']:.0f}" for k in order if k + "_ms" in rp)
            lines.append(f"  restart until all registered {fmt(t['restart_s'], 2)} s"
                         f"{mark(t['restart_s'], target.get('restart_s'))} (ckpt_restart phases ended at, ms: {split})")
        if "error" in t:
            lines.append(f"  FAILED: {t['error'][:300]}")
    return lines


def hosts_lines(h):
    if not h:
        return []
    lines = ["", f"job on 2 emulated hosts, {h['pairs']} server/client pairs ({h['processes']} processes):"]
    if "skipped" in h:
        return lines + [f"  skipped: {h['skipped'][:300]}"]
    if "checkpoint_s" not in h:
        return lines + [f"  FAILED: {h.get('error', '?')[:300]}"]
    rows = [("checkpoint (s)", h["checkpoint_s"], h["checkpoint_all_s"], 3),
            ("restart, servers ckh1<->ckh3 (s)", h["restart_move_s"], h["restart_move_all_s"], 3),
            ("restart, no move (s)", h["restart_nomove_s"], h["restart_nomove_all_s"], 3)]
    lines.append(f"  {'':34} {'median':>8}  all")
    for label, v, each, d in rows:
        lines.append(f"  {label:34} {fmt(v, d):>8}  {' '.join(fmt(x, d) for x in each)}")
    lines.append(f"  {'image per process (MB)':34} {fmt(h['image_bytes_each'] / 1e6, 3):>8}  "
                 f"server {fmt(h['server_image_bytes'] / 1e6, 3)}, client {fmt(h['client_image_bytes'] / 1e6, 3)}")
    if "error" in h:
        lines.append(f"  FAILED: {h['error'][:300]}")
    else:
        lines.append(f"  clients after the last restart: +{min(h['client_steps_after'])} steps or more each, no FAIL")
    return lines


def summary(results):
    checks = results.get("targets", [])
    n_met = sum(1 for c in checks if c["met"])
    return f"targets met: {n_met} of {len(checks)}"
