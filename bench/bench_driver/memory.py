"""Memory of a process tree, for "peak extra memory used by the runtime".

Two measurements, the larger one counts:
- VmHWM of the main process: the kernel's exact peak RSS. Before a
  checkpoint the driver resets it (`echo 5 > /proc/PID/clear_refs`), so
  afterwards VmHWM - VmRSS(before) is the most the process grew during the
  operation, with no sampling gap.
- Sampling (every ~25 ms) the sum of Pss over the process and all its
  descendants (/proc/PID/smaps_rollup): this sees helper processes, e.g. a
  forked child writing the image, and counts pages that a copy-on-write fork
  shares only once (Pss splits them between the sharers), while pages
  duplicated by copy-on-write count twice.
"""

import threading
import time

from . import procs


def status_kb(pid, key):
    """A "VmRSS:"-style field of /proc/PID/status in KiB, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_pss_kb(pid):
    return sum(pss_kb(p) for p in [pid] + procs.descendants(pid))


def reset_hwm(pid):
    """Resets VmHWM to the current RSS; False if the kernel refused."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakSampler:
    """Samples tree_pss_kb(pid) in a thread until stop(); keeps the peak."""

    def __init__(self, pid, interval=0.025):
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def _run(self):
        while not self._stop.is_set():
            t0 = time.monotonic()
            self.peak_kb = max(self.peak_kb, tree_pss_kb(self.pid))
            self.samples += 1
            cost = time.monotonic() - t0
            self._stop.wait(max(self.interval, 2 * cost))

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
