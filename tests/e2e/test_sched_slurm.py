"""e2e: a real single-node SLURM cluster (scripts/setup_slurm.sh: Debian's
slurm-wlm with munge) runs a batch job under ckpt:

  ckpt_launch --restart-if-exists --preempt-signals USR1,TERM --requeue PROG

  1. `scancel --signal=USR1 --full`: every process of the job gets SIGUSR1;
     the job checkpoints, the coordinator requeues it (scontrol requeue),
     the processes exit 143; SLURM starts the job again, the same script
     restarts from the checkpoint and finishes.
  2. SIGTERM with a grace time: `scontrol requeue` makes SLURM itself send
     SIGTERM to every process of the job, SIGKILL KillWait (30 s) later, and
     requeue it; the job checkpoints on SIGTERM, exits 143 well before the
     SIGKILL, comes back and finishes. (Partition preemption with GraceTime
     ends the same way, but SLURM only acts on it in its 30-second periodic
     time-limit check, too slow for this test; see docs/schedulers.md.)

Both finish with exactly the output of an uninterrupted run. Skips (77)
when SLURM cannot be set up here (not root, no Debian packages, daemons
that do not start), saying why."""

import os
import re
import subprocess
import sys
import time

import harness
from harness import TestFailure, log

SETUP = os.path.join(harness.SOURCE_ROOT, "scripts", "setup_slurm.sh")
PROGRAM_ARGS = ["16", "150", "80", "13"]  # mixed_memory: ~13 s

JOB_SCRIPT = """#!/bin/bash
#SBATCH --job-name=ckpt-e2e-{case}
#SBATCH --partition=batch
#SBATCH --cpus-per-task={cpus}
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output={root}/job.log
# The batch script of the test: the same for the first run and every requeued one.
export CKPT_DIR={ckpt_dir} CKPT_COORD_PORT={port}
runs={root}/runs.log
echo "run ${{SLURM_RESTART_COUNT:-0}} of job $SLURM_JOB_ID started $(date +%T)" >>$runs
trap 'echo "batch shell: SIGTERM $(date +%T)" >>$runs' TERM
trap 'echo "batch shell: SIGUSR1 $(date +%T)" >>$runs' USR1
# (in a subshell that notes the status: bash 5.2's wait can lose it when a trap runs)
( trap : USR1 TERM
  {launch} --restart-if-exists --preempt-signals USR1,TERM --requeue {program} >>{out} 2>>{err}
  echo $? >{root}/status ) &
pid=$!
while kill -0 $pid 2>/dev/null; do wait $pid; done
rc=$(cat {root}/status 2>/dev/null || echo "unknown")
rm -f {root}/status
echo "run ${{SLURM_RESTART_COUNT:-0}} ended with status $rc $(date +%T)" >>$runs
exit $rc
"""


def setup_cluster():
    """None when the cluster is up, else why not."""
    if os.geteuid() != 0:
        return "needs root to configure and start the SLURM daemons"
    try:
        r = subprocess.run([SETUP], stdin=subprocess.DEVNULL, capture_output=True, timeout=600)
    except subprocess.TimeoutExpired:
        return f"{SETUP} did not finish within 600s"
    if r.returncode != 0:
        lines = (r.stderr or r.stdout).decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else f"{SETUP} exited {r.returncode}"
    log(r.stdout.decode().strip())
    return None


def run(job, argv, label=None):
    rc, out, err = job.run(argv, timeout=60, label=label)
    if rc != 0:
        raise TestFailure(f"{' '.join(argv)} exited {rc}: {err.strip() or out.strip()}")
    return out.strip()


def job_info(job, job_id):
    rc, out, _ = job.run(["scontrol", "-o", "show", "job", job_id], timeout=30, label="scontrol show job")
    return dict(re.findall(r"(\w+)=(\S*)", out)) if rc == 0 else {}


def wait_state(job, job_id, states, timeout, what):
    deadline = time.monotonic() + job.remaining(timeout)
    info = {}
    while time.monotonic() < deadline:
        info = job_info(job, job_id)
        if info.get("JobState") in states:
            return info
        time.sleep(0.5)
    raise TestFailure(f"{what}: job {job_id} is {info.get('JobState', 'unknown')} "
                      f"({info.get('Reason', '')}) after {timeout}s, expected {'/'.join(states)}")


def wait_running_steps(job, job_id, out, count, what):
    deadline = time.monotonic() + job.remaining(120)
    while harness.step_lines(out) < count:
        if time.monotonic() > deadline:
            raise TestFailure(f"{what}: {harness.step_lines(out)} step lines after 120s, wanted {count}; "
                              f"job {job_info(job, job_id).get('JobState')}")
        state = job_info(job, job_id).get("JobState")
        if state not in ("PENDING", "RUNNING", "CONFIGURING", "REQUEUED"):
            raise TestFailure(f"{what}: job {job_id} is {state} with {harness.step_lines(out)} step lines")
        time.sleep(0.2)


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def one_case(parent, bins, case, preempt, ref_out, submitted):
    job = parent.subjob(case)
    out, err = job.path("app.out"), job.path("app.err")
    script = job.path("job.sh")
    with open(script, "w") as f:
        f.write(JOB_SCRIPT.format(case=case, cpus=os.cpu_count(), root=job.root, ckpt_dir=job.ckpt_dir,
                                  port=job.port, launch=bins.launch, out=out, err=err,
                                  program=" ".join([bins.example("mixed_memory"), *PROGRAM_ARGS])))
    job_id = run(job, ["sbatch", "--parsable", script], "sbatch").split(";")[0]
    submitted.append(job_id)
    log(f"{case}: submitted job {job_id}")
    wait_running_steps(job, job_id, out, 25, f"{case}: first run")
    preempt(job, job_id, submitted)
    info = wait_state(job, job_id, ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL"), 240,
                      f"{case}: after the preemption")
    runs = read(job.path("runs.log"))
    coord = read(os.path.join(job.ckpt_dir, "ckpt_coordinator.log"))
    log(f"{case}: job {job_id} {info.get('JobState')} exit {info.get('ExitCode')} after "
        f"{info.get('Restarts')} restart(s); runs:\n" + "\n".join("    " + l for l in runs.splitlines()))
    if info.get("JobState") != "COMPLETED" or info.get("ExitCode") != "0:0":
        raise TestFailure(f"{case}: job {job_id} ended {info.get('JobState')} exit {info.get('ExitCode')}\n"
                          f"runs:\n{runs}\napp stderr:\n{read(err)[-2000:]}\ncoordinator log:\n{coord[-3000:]}")
    # (ckpt_launch's "restarting from it" goes to app.err, which the restore
    # rolls back to its checkpoint-time size; the coordinator log tells.)
    if int(info.get("Restarts", "0")) < 1 or "restart 1)" not in coord:
        raise TestFailure(f"{case}: job {job_id} was not requeued and restarted from the checkpoint "
                          f"(Restarts={info.get('Restarts')})\nruns:\n{runs}\ncoordinator log:\n{coord[-3000:]}")
    if "ended with status 143" not in runs:
        raise TestFailure(f"{case}: the preempted run did not end with status 143:\n{runs}")
    manifest = read(os.path.join(job.ckpt_dir, "ckpt_latest", "MANIFEST"))
    if "scheduler: slurm" not in manifest or f"job_id: {job_id}" not in manifest:
        raise TestFailure(f"{case}: MANIFEST lacks the SLURM job metadata:\n{manifest}")
    harness.compare_files(out, ref_out, f"{case}: program stdout")
    log(f"{case}: requeued, restarted from its checkpoint and finished with the uninterrupted output")
    return coord


def preempt_usr1(job, job_id, submitted):
    run(job, ["scancel", "--signal=USR1", "--full", job_id], "scancel --signal=USR1")
    log(f"usr1: scancel --signal=USR1 --full {job_id}")


def preempt_term(job, job_id, submitted):
    run(job, ["scontrol", "requeue", job_id], "scontrol requeue")
    log(f"term: scontrol requeue {job_id} (SIGTERM to every process, SIGKILL after KillWait)")


def body(job, bins):
    submitted = []
    try:
        sc = harness.Scenario("slurm", lambda work: [bins.example("mixed_memory"), *PROGRAM_ARGS])
        _, ref_out = harness.reference_run(job, sc)
        coord = one_case(job, bins, "usr1", preempt_usr1, ref_out, submitted)
        if "preemption: SIGUSR1" not in coord or "requeue" not in coord:
            raise TestFailure(f"usr1: the coordinator log shows no SIGUSR1 preemption and requeue:\n{coord}")
        coord = one_case(job, bins, "term", preempt_term, ref_out, submitted)
        if "preemption: SIGTERM" not in coord:
            raise TestFailure(f"term: the coordinator log shows no SIGTERM preemption:\n{coord}")
    finally:
        for job_id in submitted:
            subprocess.run(["scancel", job_id], capture_output=True, timeout=30)


if __name__ == "__main__":
    why = setup_cluster()
    if why:
        print(f"SKIP sched_slurm: SLURM cannot run here: {why}", flush=True)
        sys.exit(harness.SKIP_EXIT)
    harness.main("sched_slurm", body)
