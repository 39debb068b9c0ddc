"""e2e: openmp_reduce (a libgomp pool of 4 threads running parallel-for
updates and exact integer +, ^, max reductions, idling in libgomp's futex
waits between steps, with a threadprivate value that must persist) survives
two checkpoint/kill/restart cycles and prints exactly what an uninterrupted
run prints."""

import harness


def body(job, bins):
    prog = harness.e2e_program(bins, "openmp_reduce")
    sc = harness.Scenario("openmp_reduce", lambda work: [prog, "120", "40", "262144"])
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("openmp", body)
