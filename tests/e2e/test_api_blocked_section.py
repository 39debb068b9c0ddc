"""e2e: a critical section of the application API held by a thread blocked
in read() does not deadlock a checkpoint (docs/api.md). With
CKPT_DEFER_TIMEOUT=2 the program's own checkpoint request fails, with a
message naming the process and the section; once the thread leaves, the
next request commits; four threads asking three times each at once are
all answered "resumed". Then the program runs through two
checkpoint/kill/restart cycles (harness.run_cycles) with stdout equal to an
uninterrupted run's, and its events file (rolled back at each restart) must
hold exactly those two answers."""

import os

import api_common
import harness


def body(job, bins):
    prog = harness.e2e_program(bins, "api_blocked_section")
    job.env["CKPT_DEFER_TIMEOUT"] = "2"
    sc = harness.Scenario("api_blocked_section", lambda work: [prog, "150", "40", "events.txt"],
                          outputs=[], first_steps=3)
    harness.run_cycles(job, sc)
    api_common.expect_lines(os.path.join(job.path("ref"), "events.txt"),
                            ["blocked: not-running names-section=0 names-process=0",
                             "after release: not-running restarts=0",
                             "concurrent: 0 of 12 resumed"], "without ckpt")
    api_common.expect_lines(os.path.join(job.path("run"), "events.txt"),
                            ["blocked: failed names-section=1 names-process=1",
                             "after release: resumed restarts=0",
                             "concurrent: 12 of 12 resumed"], "under ckpt")


if __name__ == "__main__":
    harness.main("api_blocked_section", body)
