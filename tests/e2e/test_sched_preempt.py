"""e2e: preemption signals. A program runs under `ckpt_launch
--preempt-signals USR1,TERM`; SIGUSR1 sent to it (as SLURM's --signal does)
makes the job checkpoint and exit with status 143; `ckpt_launch
--restart-if-exists` with the same command line then restarts from that
checkpoint instead of starting over; SIGTERM (as a scheduler's preemption
sends) to the restored process does the same once more, and the last
restart finishes with exactly the output of an uninterrupted run. The
application never sees either signal (it would die of SIGTERM)."""

import os
import signal
import subprocess

import harness
from harness import TestFailure, log


def launch_argv(bins, work):
    return [bins.launch, "--restart-if-exists", "--preempt-signals", "USR1,TERM",
            bins.example("mixed_memory"), "16", "120", "50", "9"]


def manifest(job):
    with open(os.path.join(job.ckpt_dir, "ckpt_latest", "MANIFEST")) as f:
        return f.read()


def preempt(job, proc, out, sig, label):
    harness.wait_steps(job, out, harness.step_lines(out) + 15, proc, f"{label}: progress")
    before = harness.step_lines(out)
    os.kill(proc.pid, sig)
    try:
        rc = proc.wait(timeout=job.remaining(60))
    except subprocess.TimeoutExpired:
        raise TestFailure(f"{label}: still running 60s after {sig.name}")
    if rc != 143:
        raise TestFailure(f"{label}: exit status {rc} after {sig.name}, expected 143 (checkpointed, then ended)")
    meta = manifest(job)
    log(f"{label}: {sig.name} at step line {before}: exit 143; committed {os.readlink(os.path.join(job.ckpt_dir, 'ckpt_latest'))}")
    if "scheduler: none" not in meta or "restart_count:" not in meta:
        raise TestFailure(f"{label}: MANIFEST lacks the job metadata:\n{meta}")
    return meta


def body(job, bins):
    sc = harness.Scenario("preempt", lambda work: launch_argv(bins, work)[4:])
    _, ref_out = harness.reference_run(job, sc)
    work = job.path("run")
    os.makedirs(work)
    out = job.path("app.out")

    # First run: nothing to restart from, so the program starts.
    proc = job.start(launch_argv(bins, work), out, "ckpt_launch (first run)", cwd=work)
    meta = preempt(job, proc, out, signal.SIGUSR1, "SIGUSR1")
    if "restart_count: 0" not in meta:
        raise TestFailure(f"first checkpoint should record restart_count 0:\n{meta}")

    # Second run, same command line: restarts, and is preempted by SIGTERM.
    proc = job.start(launch_argv(bins, work), job.path("run2.out"), "ckpt_launch (requeued run 1)", cwd=work)
    meta = preempt(job, proc, out, signal.SIGTERM, "SIGTERM")
    if "restart_count: 1" not in meta:
        raise TestFailure(f"checkpoint after one restart should record restart_count 1:\n{meta}")
    with open(job.path("run2.err"), "rb") as f:
        if b"restarting from it" not in f.read():
            raise TestFailure("ckpt_launch --restart-if-exists did not say it restarts from the checkpoint")

    # Third run: restarts and finishes.
    proc = job.start(launch_argv(bins, work), job.path("run3.out"), "ckpt_launch (requeued run 2)", cwd=work)
    try:
        rc = proc.wait(timeout=job.remaining(120))
    except subprocess.TimeoutExpired:
        raise TestFailure("the restarted program did not finish within 120s")
    if rc != 0:
        raise TestFailure(f"the restarted program exited {rc}, expected 0")
    harness.compare_files(out, ref_out, "program stdout after two preemptions")
    log("finished with the uninterrupted output after SIGUSR1 and SIGTERM preemptions")


if __name__ == "__main__":
    harness.main("sched_preempt", body)
