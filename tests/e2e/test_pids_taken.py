"""e2e (process trees, pid virtualization): proc_pipes again, but before
each restart another process takes every pid the computation had, so the
restart cannot give them back (clone3 set_tid fails) and every process runs
under a new real pid. The program still signals its workers and reaps them
(and its zombie) by the pids fork() returned before the checkpoints, and
the workers' getppid() still names the parent: the pid table translates.
Stdout must equal an uninterrupted run's."""

import os
import re
import signal
import subprocess
import time

import harness

holders = []


def hold_pids(bins, job, images):
    """Takes the images' virtual pids for a few seconds (hold_pids, root),
    after ending the previous holder (and the processes holding its pids)."""
    for old in holders:
        try:
            os.killpg(old.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        old.wait()
    pids = []
    for img in images:
        m = re.search(r"_(\d+)\.img$", img)
        if m:
            pids.append(m.group(1))
    for _ in range(100):  # the old holder's children: dead and reaped
        job.reap_orphans()
        for p in pids:  # orphaned to the harness (a subreaper) when kill_tree ended the holder
            try:
                os.waitpid(int(p), os.WNOHANG)
            except ChildProcessError:
                pass
        if not any(os.path.exists(f"/proc/{p}") for p in pids):
            break
        time.sleep(0.05)
    busy = [(p, harness.proc_comm(p), harness.proc_is_zombie(p)) for p in pids if os.path.exists(f"/proc/{p}")]
    if busy:
        harness.log(f"before restart: pids still in use: {busy}")
    holder = harness.e2e_program(bins, "hold_pids")
    proc = subprocess.Popen([holder, "4", *pids], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    holders.append(proc)
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
