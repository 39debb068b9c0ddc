"""e2e (lazy restart): lazy_memory as a tree, a parent and two children of
32 MiB each, two threads each, the parent forking a short-lived child every
20 steps that hashes memory it inherited, survives two checkpoint/kill/lazy
restart cycles with exactly the uninterrupted run's output; each restart had
one filler per process. The fill is held to 16 MiB/s (CKPT_LAZY_MBPS), so
that the parent forks while its memory is still being filled: fork waits
for the fill (the runtime's verbose log says so), and the child's hash
proves it saw every page."""

import harness
import lazy_common

WAIT_LINE = "lazy restart: fork waits until every page is in"


def body(job, bins):
    job.env["CKPT_LAZY_MBPS"] = "16"
    lazy_common.run_lazy(job, bins, "tree", 96, 200, processes=3, min_mib=75, tree=True)
    if WAIT_LINE not in lazy_common.runtime_log(job):
        raise harness.TestFailure(f"no fork waited for a fill (no '{WAIT_LINE}' in the verbose log)")


if __name__ == "__main__":
    harness.main("lazy_tree", body)
