"""e2e: the application API from C (examples/api/api_counter.c, ckpt.h):
checkpoints asked for from inside, resumed vs restarted, the restart count,
hooks in order, a critical section that delays a checkpoint; two
checkpoint/kill/restart cycles, stdout equal to a run without ckpt (see
api_common.py)."""

import api_common
import harness


def body(job, bins):
    api_common.run_api_cycles(job, lambda: [bins.example("api/api_counter")])


if __name__ == "__main__":
    harness.main("api_c", body)
