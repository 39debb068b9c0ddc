"""What the lazy restart scenarios (test_lazy_*.py) share: the lazy_memory
program under run_cycles with every restart lazy (CKPT_LAZY=1, the
schedulers' default), and the proof that each restart was lazy: with
CKPT_VERBOSE=1 each restored process's filler says, on ckpt_restart's
stderr, how many MiB it put in."""

import glob
import re

import harness

DONE_RE = re.compile(r"ckpt_restart: lazy restart: process (\d+): (\d+) MiB in after (\d+) ms, (\d+) faults served, "
                     r"(\d+) unmaps, moves and drops followed")


def filled(job, cycle):
    """(vpid, MiB, ms, faults, events) per process the filler reported at restart `cycle`."""
    with open(job.path(f"restart{cycle}.err"), errors="replace") as f:
        return [tuple(int(x) for x in m.groups()) for m in DONE_RE.finditer(f.read())]


def runtime_log(job):
    text = ""
    for path in glob.glob(job.path("*.err")):
        with open(path, errors="replace") as f:
            text += f.read()
    return text


def run_lazy(job, bins, mode, mib, steps, processes, min_mib, tree=False, after_checkpoint=None):
    """run_cycles of lazy_memory MODE MIB STEPS with lazy restarts; then each
    restart must have had `processes` fillers, together putting in at least
    min_mib MiB. Returns the fillers' reports of both restarts."""
    prog = harness.e2e_program(bins, "lazy_memory")
    job.env["CKPT_LAZY"] = "1"
    job.env["CKPT_VERBOSE"] = "1"
    sc = harness.Scenario(f"lazy_{mode}", lambda work: [prog, mode, str(mib), str(steps)], tree=tree,
                          after_checkpoint=after_checkpoint)
    harness.run_cycles(job, sc)
    reports = []
    for cycle in (1, 2):
        done = filled(job, cycle)
        reports += done
        total = sum(d[1] for d in done)
        harness.log(f"restart {cycle}: fillers {done}")
        if len(done) != processes or total < min_mib:
            raise harness.TestFailure(f"restart {cycle}: expected {processes} lazy fillers putting in at least "
                                      f"{min_mib} MiB, ckpt_restart's stderr shows {done}")
    return reports
