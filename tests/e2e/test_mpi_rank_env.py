"""e2e (MPI ranks, no MPI needed): a process whose environment carries an MPI
launcher's rank variable (here PMI_RANK=3, as MPICH's hydra sets it) is shown
with that rank by `ckpt_command --status` (RANK column and --json), and its
image is named ckpt_mixed_memory_r3_<vpid>.img; the rank survives two
checkpoint/kill/restart cycles (it is in the restored runtime's memory), and
the output equals an uninterrupted run's."""

import os
import re

import harness
import mpi_common


def body(job, bins):
    job.env["PMI_RANK"] = "3"
    plain_checkpoint = job.checkpoint

    def checkpoint(label):
        json_ranks, text_ranks = mpi_common.status_ranks(job)
        if json_ranks != [3] or text_ranks != [3]:
            raise harness.TestFailure(f"{label}: ckpt_command --status shows ranks {json_ranks} (json), "
                                      f"{text_ranks} (RANK column); expected [3]")
        images = plain_checkpoint(label)
        names = [os.path.basename(i) for i in images]
        if len(names) != 1 or not re.fullmatch(r"ckpt_mixed_memory_r3_\d+\.img", names[0]):
            raise harness.TestFailure(f"{label}: expected one image ckpt_mixed_memory_r3_<vpid>.img, got {names}")
        return images

    job.checkpoint = checkpoint
    sc = harness.Scenario("mpi_rank_env", lambda work: [bins.example("mixed_memory"), "32", "60", "40"])
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("mpi_rank_env", body)
