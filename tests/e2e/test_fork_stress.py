"""e2e: fork stress. fork_churn (six threads rewriting memory while the
main thread forks four short-lived children every round) takes 60 checkpoints in a
row at random moments (20-200 ms apart) under ckpt_launch, so that some land
while the main thread is inside fork() and the other threads are being
stopped, and some while the children run: each must commit, the program must
keep progressing. (Found: a child forked while another thread of its parent
was in its suspend handler inherited that handler's lock, held, and hung at
its own first checkpoint; a child whose main thread had exited while its
runtime thread had not was saved as a zombie without its exit status.) Then two checkpoint/kill/restart cycles, and the final
stdout must equal an uninterrupted run's.

CKPT_E2E_SEED fixes the random delays (the seed is logged);
CKPT_E2E_STRESS_CHECKPOINTS and CKPT_E2E_FORK_ROUNDS shrink or grow the test."""

import os

import harness
import stress_common


def body(job, bins):
    prog = harness.e2e_program(bins, "fork_churn")
    rounds = os.environ.get("CKPT_E2E_FORK_ROUNDS", "500")
    count = int(os.environ.get("CKPT_E2E_STRESS_CHECKPOINTS", "60"))
    sc = harness.Scenario("fork_churn", lambda work: [prog, rounds, "10"], timeout=300)
    stress_common.run_stress(job, bins, sc, count, stress_common.seeded_rng())


if __name__ == "__main__":
    harness.main("fork_stress", body)
