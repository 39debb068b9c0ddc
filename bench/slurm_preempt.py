#!/usr/bin/env python3
"""A 2-node MPI batch job on SLURM, preempted and requeued onto other nodes,
measured (issue 16 item 7; report only):

    python3 bench/slurm_preempt.py [--build build] [--ranks 4] [--mib 64] [--rounds 2]

tests/e2e/slurm_cluster.py's cluster (slurmctld on the head node, a slurmd
in each emulated node ckh1..3; needs root). examples/slurm/mpi_multinode.sbatch
runs `ckpt_launch --restart-if-exists ... mpirun -np R mpi_heat STEPS N 20`
on 2 nodes (R/2 ranks each, orted started with srun), N chosen so that each
rank holds about MIB MiB. Then `rounds` times: one node of the allocation
is drained and the job is sent `scancel --signal=USR1 --full`; measured:

- signal -> exit: from scancel until SLURM no longer shows the job running
  (the checkpoint of every process on both nodes, scontrol requeue, every
  process ending); with the coordinator's own checkpoint figure;
- requeue wait: until SLURM starts the requeued job (SLURM's business:
  cred_expire, the scheduler's interval; not ckpt's);
- start -> progress: from the requeued job running until rank 0 prints a
  step past the last one the preempted run printed (every rank took part:
  a step ends with an MPI_Allreduce), on the new nodes; this includes
  ckpt_launch finding the checkpoint, mapping the old nodes onto
  SLURM_JOB_NODELIST, srun starting the other node's restart worker, the
  restore, and redoing the steps between the checkpoint and the signal.
"""

import os
import re
import subprocess
import sys
import time

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "e2e"))
import cluster  # noqa: E402
import slurm_cluster  # noqa: E402
import mpi_nodes  # noqa: E402

STEP_RE = re.compile(rb"^step (\d+)", re.M)


def last_step(path):
    try:
        with open(path, "rb") as f:
            found = STEP_RE.findall(f.read())
        return int(found[-1]) if found else -1
    except OSError:
        return -1


def job_info(cl, job_id):
    rc, out, _ = cl.scmd(["scontrol", "-o", "show", "job", job_id])
    return dict(re.findall(r"(\w+)=(\S*)", out)) if rc == 0 else {}


def wait(pred, timeout, what, cl=None, job_id=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        if cl and job_info(cl, job_id).get("JobState") in ("COMPLETED", "FAILED", "CANCELLED", "NODE_FAIL"):
            raise SystemExit(f"the job ended while waiting for {what}: {job_info(cl, job_id)}")
        time.sleep(0.05)
    raise SystemExit(f"timeout: {what}")


def main():
    a, build, heat, n = mpi_nodes.job_args(__doc__, 4)
    cl = slurm_cluster.SlurmCluster()
    try:
        cl.setup()
    except cluster.Unavailable as e:
        print(f"skipped: {e}")
        return
    work = cluster.shared_dir("ckpt-bench-slurm-")
    ckpt = os.path.join(work, "ckpt")
    out = os.path.join(work, "bench.out")
    env = dict(cl.env, CKPT_DIR=ckpt, CKPT_COORD_PORT=str(7000 + os.getpid() % 1000),
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               PATH=f"{build}/launcher:{build}/coordinator:{os.environ.get('PATH', '/usr/bin:/bin')}")
    env.pop("CKPT_COORD_HOST", None)
    script = os.path.join(SOURCE_ROOT, "examples", "slurm", "mpi_multinode.sbatch")
    rows = []
    job_id = None
    try:
        r = subprocess.run(["sbatch", "--parsable", "--job-name=bench", f"--chdir={work}",
                            f"--output={work}/job.log", f"--ntasks-per-node={a.ranks // 2}", script, heat,
                            "1000000", str(n), "20"], env=env, capture_output=True, timeout=30)
        job_id = r.stdout.decode().strip().split(";")[0]
        if r.returncode != 0 or not job_id:
            raise SystemExit(f"sbatch: {r.stderr.decode().strip()}")
        wait(lambda: last_step(out) >= 3, 300, "the first steps")
        for rnd in range(1, a.rounds + 1):
            nodes = slurm_cluster.expand_nodelist(job_info(cl, job_id).get("NodeList", ""))
            cl.set_nodes([h for h in cl.hosts if h not in nodes], "resume")
            cl.set_nodes([nodes[0]], "drain")
            step = last_step(out)
            t0 = time.monotonic()
            cl.scmd(["scancel", "--signal=USR1", "--full", job_id])
            wait(lambda: job_info(cl, job_id).get("JobState") != "RUNNING", 300, "the job's exit")
            t_exit = time.monotonic()
            step = last_step(out)  # the last step the preempted run printed
            wait(lambda: (i := job_info(cl, job_id)).get("JobState") == "RUNNING" and
                 int(i.get("Restarts", "0")) == rnd, 300, "the requeued job's start", cl, job_id)
            t_start = time.monotonic()
            new_nodes = job_info(cl, job_id).get("NodeList")
            wait(lambda: last_step(out) > step, 600, "a step after the restart")
            t_prog = time.monotonic()
            with open(os.path.join(ckpt, "ckpt_coordinator.log"), errors="replace") as f:
                commits = re.findall(r"checkpoint \d+ committed: (\d+) images, (\d+) bytes, (\d+) ms", f.read())
            images, size, ms = commits[-1] if commits else ("?", "0", "?")
            rows.append((rnd, ",".join(nodes), new_nodes, t_exit - t0, ms, int(size) / 2**20, t_start - t_exit,
                         t_prog - t_start))
    finally:
        if job_id:
            cl.scmd(["scancel", job_id])
        cl.teardown()
    print(f"2-node MPI batch job: {a.ranks} ranks of mpi_heat (N={n}, ~{a.mib} MiB per rank), "
          f"examples/slurm/mpi_multinode.sbatch, scancel --signal=USR1 --full")
    print("| round | nodes -> new nodes | signal -> exit | (checkpoint, coordinator) | image data | "
          "requeue wait (SLURM) | start -> every rank progressing |")
    print("|---|---|---|---|---|---|---|")
    for rnd, old, new, t_exit, ms, mib, t_wait, t_prog in rows:
        print(f"| {rnd} | {old} -> {new} | {t_exit:.2f} s | {ms} ms | {mib:.0f} MiB | {t_wait:.1f} s | {t_prog:.2f} s |")


if __name__ == "__main__":
    main()
