"""e2e (lazy restart): lazy_memory in one process with two threads, 128 MiB
touched at random, survives two checkpoint/kill/lazy restart cycles and
prints exactly what an uninterrupted run prints (its hashes of all the
memory included); each restart's filler put the memory in (its verbose
line). The fill is held to 64 MiB/s (CKPT_LAZY_MBPS) so that the program's
madvise(MADV_DONTNEED) of 64 KiB and mremap of a 2 MiB block every 10 steps
happen while pages are still missing: the filler must have followed some."""

import harness
import lazy_common


def body(job, bins):
    job.env["CKPT_LAZY_MBPS"] = "64"
    reports = lazy_common.run_lazy(job, bins, "single", 128, 200, processes=1, min_mib=100)
    if not any(r[4] for r in reports):
        raise harness.TestFailure(f"no restart's filler saw an unmap, move or drop during the fill: {reports}")


if __name__ == "__main__":
    harness.main("lazy_single", body)
