"""e2e (files): rename_over writes state.tmp and renames it over state at
every step, with state.tmp open and half written when a checkpoint mostly
lands. After each kill the restart must make state.tmp again with its
checkpoint-time bytes (it was renamed away since); stdout, state and
history.txt must equal an uninterrupted run's."""

import harness


def body(job, bins):
    prog = harness.e2e_program(bins, "rename_over")
    sc = harness.Scenario("rename_over", lambda work: [prog, "60", "100"], outputs=["state", "history.txt"])
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("rename_over", body)
