"""e2e (lazy restart): the filler killed in the middle of its work. A lazy
restart of lazy_memory (64 MiB, fill held to 4 MiB/s so that it lasts) has
its filler (`ckpt_lazyfill`, found by name and by the job's directory in its
command line) SIGKILLed; pages it had not filled must never read as zeros:
the restored runtime stops the process (SIGKILL) with one line saying why.
Then the same checkpoint, restarted lazily again without interference, runs
to exactly the uninterrupted run's output."""

import os
import signal
import subprocess
import time

import harness
from harness import TestFailure, log

LINE = "lazy restart: the memory filler ended before every page was in"


def fillers(job):
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().decode(errors="replace")
        except OSError:
            continue
        if comm == "ckpt_lazyfill" and job.root in cmd:
            found.append(int(pid))
    return found


def body(job, bins):
    prog = harness.e2e_program(bins, "lazy_memory")
    argv = [prog, "single", "64", "200"]
    sc = harness.Scenario("lazy_filler_killed", lambda work: argv)
    ref_work, ref_out = harness.reference_run(job, sc)
    out = job.path("app.out")
    proc = job.start([bins.launch, *argv], out, "ckpt_launch", cwd=job.root)
    harness.wait_steps(job, out, 3, proc, "after ckpt_launch")
    job.checkpoint("checkpoint 1")
    job.kill_computation(proc, "kill 1")
    n = harness.step_lines(out)

    env = dict(job.env, CKPT_LAZY_MBPS="4")
    proc = job.start([bins.restart, "--lazy", job.ckpt_dir], job.path("restart1.out"), "ckpt_restart --lazy",
                     env=env)
    deadline = time.monotonic() + 30
    while not (found := fillers(job)):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise TestFailure(f"no ckpt_lazyfill process appeared (ckpt_restart status {proc.poll()})")
        time.sleep(0.02)
    harness.wait_steps(job, out, n + 1, proc, "progress after the lazy restart", 60)
    for pid in found:
        os.kill(pid, signal.SIGKILL)
    log(f"killed the filler {found} while it was filling")
    try:
        rc = proc.wait(timeout=job.remaining(30))
    except subprocess.TimeoutExpired:
        raise TestFailure("the restored process kept running after its filler was killed")
    job.reap_orphans()
    if rc != -signal.SIGKILL:
        raise TestFailure(f"after its filler was killed the restored process ended with {rc}, expected SIGKILL")
    with open(job.path("app.err"), errors="replace") as f:
        said = [l for l in f.read().splitlines() if LINE in l]
    if len(said) != 1:
        raise TestFailure(f"expected one line '{LINE}' from the restored runtime, found {said}")
    log(f"the runtime stopped the process: {said[0]}")

    # The checkpoint is intact: a lazy restart runs to the exact end (its
    # output file rolled back to the checkpoint, then written on).
    proc = job.start([bins.restart, "--lazy", job.ckpt_dir], job.path("restart2.out"), "ckpt_restart --lazy #2")
    try:
        rc = proc.wait(timeout=job.remaining(120))
    except subprocess.TimeoutExpired:
        raise TestFailure("the second lazy restart did not finish")
    if rc != 0:
        raise TestFailure(f"the second lazy restart exited {rc}")
    log("the second lazy restart finished with status 0")
    harness.compare_files(out, ref_out, "program stdout")


if __name__ == "__main__":
    harness.main("lazy_filler_killed", body)
