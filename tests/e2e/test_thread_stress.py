"""e2e: thread stress. thread_churn (threads created, joined, detached,
cancelled and exiting all the time) takes 50 checkpoints in a row at random
moments (20-200 ms apart) under ckpt_launch: each must commit within its
timeout, the program must stay alive and keep progressing. Then the usual two
checkpoint/kill/restart cycles, and the final stdout (per-round sums and a
checksum) must equal an uninterrupted run's.

CKPT_E2E_SEED fixes the random delays (the seed is logged);
CKPT_E2E_STRESS_CHECKPOINTS and CKPT_E2E_CHURN_ROUNDS shrink or grow the test."""

import os

import harness
import stress_common


def body(job, bins):
    prog = harness.e2e_program(bins, "thread_churn")
    rounds = os.environ.get("CKPT_E2E_CHURN_ROUNDS", "4000")
    count = int(os.environ.get("CKPT_E2E_STRESS_CHECKPOINTS", "50"))
    sc = harness.Scenario("thread_churn", lambda work: [prog, rounds, "5", "10"], timeout=300)
    stress_common.run_stress(job, bins, sc, count, stress_common.seeded_rng())


if __name__ == "__main__":
    harness.main("thread_stress", body)
