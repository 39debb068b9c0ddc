"""SVG plots of a bench run (run_bench.py --plot DIR): the whole-process
checkpoint and restart times, the application pause and the image size of
each workload size, each against the hardware floors measured in the same
run (memcpy, write+fsync, zstd) and the issue's target at 1 GiB. Needs
matplotlib (Debian: python3-matplotlib, with /usr/bin/python3)."""

import os

from . import report

GB = report.GB


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("--plot needs matplotlib: apt-get install python3-matplotlib, "
                         "then run with /usr/bin/python3")
    matplotlib.use("svg")
    matplotlib.rcParams["svg.hashsalt"] = "ckpt-bench"  # the same SVG for the same figures
    matplotlib.rcParams["svg.fonttype"] = "none"
    import matplotlib.pyplot as plt
    return plt


def _cases(results):
    """{threads: [case, ...] by size}, with image_gb and the floors of each size."""
    out = {}
    for c in results.get("memory_cases", []):
        d = report.derived(c)
        d["floors"] = report.floors_for(results.get("floors", {}), c["mib"])
        out.setdefault(c["threads"], []).append(d)
    for cases in out.values():
        cases.sort(key=lambda c: c["mib"])
    return out


def _series(cases, key, scale=1.0):
    pts = [(c["mib"], c[key] * scale) for c in cases if c.get(key) is not None]
    return [p[0] for p in pts], [p[1] for p in pts]


def _floor(cases, key, scale=1.0):
    pts = [(c["mib"], c["floors"][key] * scale) for c in cases if c["floors"].get(key)]
    return [p[0] for p in pts], [p[1] for p in pts]


def _figure(plt, title, ylabel):
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("workload memory (MiB, mixed data)")
    ax.set_ylabel(ylabel)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.grid(True, which="major", alpha=0.3)
    return fig, ax


def _measured(ax, by_threads, key, scale=1.0, what=""):
    for threads, cases in sorted(by_threads.items()):
        xs, ys = _series(cases, key, scale)
        if xs:
            ax.plot(xs, ys, marker="o", label=f"{what}, {threads} thread{'s' if threads > 1 else ''}")


def _floors(ax, cases, floors):
    for key, label, style in floors:
        xs, ys = _floor(cases, key, style.get("scale", 1.0))
        if xs:
            ax.plot(xs, ys, linestyle="--", color=style["color"], label=f"floor: {label}")


def _target_of(key):
    """The issue's target for `key` at 1 GiB (report.MEMORY_TARGETS)."""
    return next((target for k, _, target in report.MEMORY_TARGETS if k == key), None)


def _target(ax, sizes, value, label):
    if 1024 in sizes and value is not None:
        ax.plot([1024], [value], marker="*", markersize=12, color="black", linestyle="none", label=label)


def _save(fig, ax, path, sizes):
    ax.set_xticks(sorted(sizes))
    ax.set_xticklabels([str(m) for m in sorted(sizes)])
    ax.minorticks_off()
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None, "Creator": "ckpt bench/run_bench.py --plot"})


def plot_checkpoint(plt, by_threads, sizes, path):
    fig, ax = _figure(plt, "Checkpoint committed (whole process)", "seconds")
    _measured(ax, by_threads, "checkpoint_s", what="ckpt_command --checkpoint")
    first = next(iter(by_threads.values()))
    _floors(ax, first, [("write_fsync_s", "write+fsync of the memory", {"color": "tab:red"}),
                        ("zstd-1_s", "zstd -1 of the memory", {"color": "tab:purple"}),
                        ("memcpy_s", "memcpy of the memory", {"color": "tab:gray"})])
    _target(ax, sizes, _target_of("checkpoint_s"), "target at 1 GiB")
    _save(fig, ax, path, sizes)
    plt.close(fig)


def plot_restart(plt, by_threads, sizes, path):
    fig, ax = _figure(plt, "Restart until the program makes progress", "seconds")
    _measured(ax, by_threads, "restart_s", what="ckpt_restart")
    first = next(iter(by_threads.values()))
    _floors(ax, first, [("unzstd-1_s", "unzstd -1 of the memory", {"color": "tab:purple"}),
                        ("memcpy_s", "memcpy of the memory", {"color": "tab:gray"})])
    _target(ax, sizes, _target_of("restart_s"), "target at 1 GiB")
    _save(fig, ax, path, sizes)
    plt.close(fig)


def plot_pause(plt, by_threads, sizes, path):
    fig, ax = _figure(plt, "Application pause per checkpoint", "milliseconds")
    _measured(ax, by_threads, "pause_ms", what="pause")
    first = next(iter(by_threads.values()))
    _floors(ax, first, [("memcpy_s", "memcpy of the memory", {"color": "tab:gray", "scale": 1000.0})])
    _target(ax, sizes, _target_of("pause_ms"), "target at 1 GiB")
    _save(fig, ax, path, sizes)
    plt.close(fig)


def plot_image(plt, by_threads, sizes, path):
    fig, ax = _figure(plt, "Image size", "GB")
    _measured(ax, by_threads, "image_gb", what="image")
    first = next(iter(by_threads.values()))
    _floors(ax, first, [("zstd1_image_gb", "zstd 1 of the memory", {"color": "tab:purple"})])
    raw = [(c["mib"], c["mib"] * report.MiB / GB) for c in first]
    ax.plot([r[0] for r in raw], [r[1] for r in raw], linestyle=":", color="tab:gray",
            label="the memory, uncompressed")
    _target(ax, sizes, _target_of("image_gb"), "target at 1 GiB")
    _save(fig, ax, path, sizes)
    plt.close(fig)


def write_plots(results, out_dir):
    """Writes the SVGs into out_dir; returns their paths."""
    by_threads = _cases(results)
    if not by_threads:
        raise SystemExit("--plot: the results hold no memory cases (run the memory part)")
    plt = _pyplot()
    os.makedirs(out_dir, exist_ok=True)
    sizes = {c["mib"] for cases in by_threads.values() for c in cases}
    paths = []
    for name, fn in (("checkpoint", plot_checkpoint), ("restart", plot_restart), ("pause", plot_pause),
                     ("image_size", plot_image)):
        path = os.path.join(out_dir, f"{name}.svg")
        fn(plt, by_threads, sizes, path)
        paths.append(path)
    return paths
