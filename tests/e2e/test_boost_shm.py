"""e2e (process trees): examples/boost_shm, a parent and two children taking
turns on a Boost.Interprocess managed_shared_memory segment (a /dev/shm
file) holding a vector allocated in the segment under an interprocess_mutex
and an interprocess_condition, survives two checkpoint/kill/restart cycles:
stdout (the vector's size and checksum after every round, the segment's
sanity at the end) must equal an uninterrupted run's, and no segment file
may be left behind. Skipped (77) where Boost was not found at build time."""

import glob
import os
import sys

import harness


def body(job, bins):
    try:
        prog = bins.example("boost_shm")
    except harness.TestFailure:
        prog = None
    if not prog or not os.path.exists(prog):
        print("SKIP: boost_shm not built (no Boost headers)")
        sys.exit(harness.SKIP_EXIT)
    before = set(glob.glob("/dev/shm/ckpt_boost_shm_*"))
    sc = harness.Scenario("boost_shm", lambda work: [prog, "60", "100"], tree=True)
    harness.run_cycles(job, sc)
    left = [p for p in glob.glob("/dev/shm/ckpt_boost_shm_*") if p not in before]
    for p in left:
        os.unlink(p)
    if left:
        raise harness.TestFailure(f"segment files left behind: {left}")


if __name__ == "__main__":
    harness.main("boost_shm", body)
