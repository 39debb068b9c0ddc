"""e2e: mixed_memory (~300 MiB of zero, pattern and random pages, stack,
mmap regions, heap, AVX/x87 registers) survives two checkpoint/kill/restart
cycles and prints exactly what an uninterrupted run prints."""

import os

import harness


def body(job, bins):
    mib = os.environ.get("CKPT_E2E_MIB", "300")
    sc = harness.Scenario("mixed_memory", lambda work: [bins.example("mixed_memory"), mib, "150", "40", "7"])
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("mixed_memory", body)
