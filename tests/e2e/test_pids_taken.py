"""e2e (process trees, pid virtualization): proc_pipes again, but before
each restart another process takes every pid the computation had, so the
restart cannot give them back (clone3 set_tid fails) and every process runs
under a new real pid. The program still signals its workers and reaps them
(and its zombie) by the pids fork() returned before the checkpoints, and
the workers' getppid() still names the parent: the pid table translates.
Stdout must equal an uninterrupted run's."""

import os
import re
import subprocess

import harness


def hold_pids(bins, job, images):
    """Takes the images' virtual pids for a few seconds (hold_pids, root)."""
    pids = []
    for img in images:
        m = re.search(r"_(\d+)\.img$", img)
        if m:
            pids.append(m.group(1))
    holder = harness.e2e_program(bins, "hold_pids")
    proc = subprocess.Popen([holder, "4", *pids], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    job.procs.append((proc, "hold_pids", "/dev/null", "/dev/null"))
    line = proc.stdout.readline().decode().strip()
    harness.log(f"before restart: {line} of {len(pids)} pids")
    if line != f"held {len(pids)}":
        raise harness.TestFailure(f"hold_pids could not take the pids {pids}: {line!r}")


def body(job, bins):
    prog = harness.e2e_program(bins, "proc_pipes")
    sc = harness.Scenario("pids_taken", lambda work: [prog, "60", "150"], tree=True,
                          before_restart=lambda j, images: hold_pids(bins, j, images))
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("SKIP pids_taken: taking chosen pids needs root")
        raise SystemExit(harness.SKIP_EXIT)
    harness.main("pids_taken", body)
