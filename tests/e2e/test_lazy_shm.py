"""e2e (lazy restart): lazy_memory with shared memory, a parent and a child
each writing its half of an 8 MiB MAP_SHARED|MAP_ANONYMOUS block (restored
eagerly) besides 32 MiB of private memory each (restored lazily), survives
two checkpoint/kill/lazy restart cycles with exactly the uninterrupted run's
output (the parent hashes the whole shared block every 50 steps)."""

import lazy_common


def body(job, bins):
    lazy_common.run_lazy(job, bins, "shm", 64, 160, processes=2, min_mib=50, tree=True)


if __name__ == "__main__":
    import harness

    harness.main("lazy_shm", body)
