"""What a process holds, read from /proc: resident memory (VmRSS, KiB), open
fds, threads and mappings. Shared by the e2e tests and the soak benchmark
(bench/bench_driver/soak.py imports it by path). Standard library only."""

import os


def usage(pid):
    """{"rss_kb", "fds", "threads", "maps"} of a live process, or None if it is gone."""
    try:
        status = {}
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                status[key] = value.split()
        with open(f"/proc/{pid}/maps") as f:
            maps = sum(1 for _ in f)
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        return {"rss_kb": int(status["VmRSS"][0]), "fds": fds, "threads": int(status["Threads"][0]),
                "maps": maps}
    except (OSError, KeyError, IndexError, ValueError):
        return None
