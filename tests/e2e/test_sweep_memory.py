"""e2e: sweep_memory (96 MiB of zero, pattern and random pages from malloc,
every page written several times per step, as stencil codes do) survives two
checkpoint/kill/restart cycles and prints exactly what an uninterrupted run
prints. The write mode is left to the runtime (CKPT_WRITE_MODE unset, i.e.
auto): for such a program it must choose copy-first, which the runtime's
verbose log shows after every checkpoint ("N MiB copied first", N > 0)."""

import glob
import os
import re

import harness

COPIED_RE = re.compile(rb"\[ckpt (\d+)@[^\]]*\] image writer forked, (\d+) MiB copied first")


def copied_by(job, pid):
    """MiB that process `pid` copied first at its last checkpoint, per the
    runtime's verbose log (a restored process writes its log where the
    launched one did), or None."""
    found = None
    for path in glob.glob(job.path("*.err")):
        with open(path, "rb") as f:
            for m in COPIED_RE.finditer(f.read()):
                if int(m.group(1)) == pid:
                    found = int(m.group(2))
    return found


def body(job, bins):
    prog = harness.e2e_program(bins, "sweep_memory")
    job.env["CKPT_VERBOSE"] = "1"

    def check_mode(job, cycle):
        pid = job.procs[-1][0].pid  # ckpt_launch execs the program; ckpt_restart becomes it
        mib = copied_by(job, pid)
        if not mib:
            raise harness.TestFailure(f"checkpoint {cycle}: the runtime did not choose copy-first for a program "
                                      f"that sweeps its memory (pid {pid} copied {mib} MiB first)")
        harness.log(f"checkpoint {cycle}: copy-first, {mib} MiB copied")

    sc = harness.Scenario("sweep_memory", lambda work: [prog, os.environ.get("CKPT_E2E_MIB", "96"), "3000", "8"],
                          after_checkpoint=check_mode)
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("sweep_memory", body)
