"""e2e (a coordinator that comes back, issue 14): ckpt_command --kill, then
ckpt_restart at once or a moment later, four times in a row. The old
coordinator (started by ckpt_launch with --exit-on-last) leaves 1.5 s after
its last process: a restart that found it still answering used to lose it
right after ("restarted without a coordinator") and could then never be
checkpointed nor killed. Now the launcher holds the coordinator (CmdHold)
until the restored processes register, or starts a new one when the old one
is already on its way out. Each restored program must be checkpointed and
killed through ckpt_command (the next cycle does both), no restart may run
without a coordinator, and the final output must equal an uninterrupted
run's."""

import glob
import os
import time

import harness

# Seconds between the end of ckpt_command --kill (plus the harness's own
# cleanup) and ckpt_restart: across the old coordinator's 1.5 s exit grace.
DELAYS = [0.0, 0.9, 1.25, 1.4]


def body(job, bins):
    restarts = []

    def before_restart(job, images):
        delay = DELAYS[len(restarts) % len(DELAYS)]
        restarts.append(delay)
        harness.log(f"restart {len(restarts)}: waiting {delay}s after the kill")
        time.sleep(delay)

    sc = harness.Scenario("coordinator_race",
                          lambda work: [bins.example("mixed_memory"), "48", "400", "30", "5"],
                          cycles=len(DELAYS), before_restart=before_restart)
    harness.run_cycles(job, sc)
    # The restored program says so on the program's stderr (app.err).
    for err in sorted(glob.glob(job.path("restart*.err")) + [job.path("app.err")]):
        with open(err, errors="replace") as f:
            text = f.read()
        if "no coordinator" in text or "without a coordinator" in text:
            job.problem(f"{os.path.basename(err)}: the restored program ran without a coordinator:\n"
                        f"{harness.tail(err)}")


if __name__ == "__main__":
    harness.main("coordinator_race", body)
