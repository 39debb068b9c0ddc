"""e2e: batch jobs across nodes on a real multi-node SLURM cluster.

slurm_cluster.py starts, once for this file, slurmctld on the head node and
one slurmd in each emulated host ckh1..3 (own network, UTS, PID and mount
namespaces; Debian's slurm-wlm and munge as packaged), with partitions
"batch" and "high" and PreemptMode=REQUEUE. Jobs are submitted with sbatch
as users write them, from the scripts in examples/slurm/:

  1. mpi: examples/slurm/mpi_multinode.sbatch, `sbatch -N 2` of
     `ckpt_launch --restart-if-exists ... mpirun -np 4 mpi_ring_tcp` (Open
     MPI; inside the allocation ckpt_launch makes mpirun start orted with
     srun, through ckpt_rsh, under ckpt). `ckpt_command --status` names
     ranks 0,1 on the batch node and 2,3 on the other. Preempted twice at a
     random step: `scancel --signal=USR1 --full` (every process), then
     `scancel --signal=USR1 --batch` (the batch shell only, what
     `--signal=B:USR1@N` sends; its trap passes it on). Each time the
     fixture drains a node of the allocation, so the requeued job runs on
     other nodes, and --restart-if-exists maps the old hosts onto
     SLURM_JOB_NODELIST by itself: the coordinator's log shows every rank
     registering on the new nodes. Then `ckpt_command --checkpoint --kill`
     and the script submitted again with `-N 1`: fewer nodes than the
     checkpoint had, both old hosts are packed onto the one node. The job
     ends COMPLETED with mpirun's output byte for byte an uninterrupted
     run's.
  2. srun: examples/slurm/srun_multinode.sbatch, `srun ckpt_launch
     mixed_memory` with one task per node on 2 nodes (no MPI): both tasks
     join the coordinator of the step's first node; a real preemption (an
     exclusive job on every node in the higher-priority partition: SIGTERM,
     requeued by SLURM) while a node is drained; the job comes back on other
     nodes; each task's output equals an uninterrupted run's.

  3. nodefail: the MPI job again, checkpointed once, then a node of its
     allocation drops off the network (slurmd and the job's processes there
     cut off); SLURM marks it DOWN and requeues the job (NODE_FAIL); the
     requeued job restarts from that checkpoint on the remaining node and a
     new one and ends with the exact output.

CKPT_E2E_CASES=mpi,srun,nodefail chooses the cases (by hand). SKIPs (77) with the reason when SLURM, munge, sshd, namespaces or MPI are
missing."""

import json
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import cluster
import harness
import netns_hosts
import slurm_cluster
from harness import TestFailure, log

RING_ARGS = ["200", "30000"]  # mpi_ring_tcp: ~15 s on 4 ranks alone
MM_ARGS = ["16", "150", "80", "40"]  # mixed_memory per task
FINAL = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE")


class Case:
    """One batch job of an example script, in its own directory and CKPT_DIR."""

    def __init__(self, parent, cl, name, script):
        self.job = parent.subjob(name)
        self.cl = cl
        self.name = name
        self.script = os.path.join(harness.SOURCE_ROOT, "examples", "slurm", script)
        self.job_id = None
        self.env = dict(cl.env, **{k: v for k, v in parent.env.items() if k != "PATH"})
        bins = parent.bins
        dirs = [os.path.dirname(bins.launch), os.path.dirname(bins.coordinator)]
        self.env["PATH"] = ":".join(dirs + [os.environ.get("PATH", "/usr/bin:/bin")])
        self.env.update(CKPT_DIR=self.job.ckpt_dir, CKPT_COORD_PORT=str(self.job.port),
                        OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        self.env.pop("CKPT_COORD_HOST", None)

    def path(self, *parts):
        return self.job.path(*parts)

    def submit(self, args, extra=()):
        argv = ["sbatch", "--parsable", f"--job-name={self.name}", f"--chdir={self.job.root}",
                f"--output={self.path('job.log')}", *extra, self.script, *args]
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=self.env, timeout=30,
                           cwd=self.job.root)
        if r.returncode != 0:
            raise TestFailure(f"{self.name}: sbatch exited {r.returncode}: {r.stderr.decode().strip()}")
        self.job_id = r.stdout.decode().strip().split(";")[0]
        self.cl.submitted.append(self.job_id)
        log(f"{self.name}: submitted job {self.job_id}: {' '.join(argv[1:])}")
        return self.job_id

    def info(self):
        rc, out, _ = self.cl.scmd(["scontrol", "-o", "show", "job", self.job_id])
        return dict(re.findall(r"(\w+)=(\S*)", out)) if rc == 0 else {}

    def nodes(self, info=None):
        return slurm_cluster.expand_nodelist((info or self.info()).get("NodeList", ""))

    def read(self, name):
        try:
            with open(self.path(name), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def coordinator_log(self):
        try:
            with open(os.path.join(self.job.ckpt_dir, "ckpt_coordinator.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def explain(self):
        # The job log last: a failure's last lines are what a short report keeps.
        return (f"job {self.job_id}: {self.info()}\ncoordinator log:\n{self.coordinator_log()[-3000:]}\n"
                f"slurmctld:\n{self.cl.ctld_log(15)}\njob log:\n{self.read('job.log')[-2000:]}")

    def wait_running(self, restarts, timeout, what):
        """Waits until run number `restarts` of the job runs; returns its nodes."""
        deadline = time.monotonic() + self.job.remaining(timeout)
        while time.monotonic() < deadline:
            info = self.info()
            if info.get("JobState") == "RUNNING" and int(info.get("Restarts", "0")) == restarts:
                return self.nodes(info)
            if info.get("JobState") in FINAL:
                raise TestFailure(f"{what}: job ended early\n{self.explain()}")
            time.sleep(0.3)
        raise TestFailure(f"{what}: run {restarts} of the job is not running after {timeout}s\n{self.explain()}")

    def wait_steps(self, out, count, what, timeout=120):
        deadline = time.monotonic() + self.job.remaining(timeout)
        while harness.step_lines(out) < count:
            if self.info().get("JobState") in FINAL or time.monotonic() > deadline:
                raise TestFailure(f"{what}: {harness.step_lines(out)} step lines in {out}, wanted {count}\n"
                                  f"{self.explain()}")
            time.sleep(0.2)

    def wait_end(self, timeout, what):
        deadline = time.monotonic() + self.job.remaining(timeout)
        while time.monotonic() < deadline:
            info = self.info()
            if info.get("JobState") in FINAL:
                return info
            time.sleep(0.5)
        raise TestFailure(f"{what}: the job did not end within {timeout}s\n{self.explain()}")

    def status(self, node):
        """--status --json of the job's coordinator on `node` (None while none answers)."""
        env = dict(self.env, CKPT_COORD_HOST=netns_hosts.HOSTS[node])
        rc, out, err = self.job.run([self.job.bins.command, "--status", "--json"], timeout=30, env=env,
                                    label="--status")
        return json.loads(out).get("processes", []) if rc == 0 else None

    def preempt(self, drain, resume, how="--full"):
        """scancel --signal=USR1 (--full: every process of every step;
        --batch: the batch shell only, as --signal=B:USR1@N does), with
        `drain` drained (the requeued job cannot run there) and `resume`
        back in service."""
        if resume:
            self.cl.set_nodes(resume, "resume")
        self.cl.set_nodes(drain, "drain")
        argv = ["scancel", "--signal=USR1", how, self.job_id]
        rc, out, err = self.cl.scmd(argv)
        if rc != 0:
            raise TestFailure(f"{' '.join(argv)}: {err.strip()}")
        log(f"{self.name}: {' '.join(argv)}; drained {','.join(drain)}")

    def preempt_by_priority(self, drain):
        """A job in partition "high" that needs every node preempts this one
        (PreemptMode=REQUEUE: SIGTERM to its processes, requeued by SLURM);
        `drain` is drained once the high job ends, so the requeued job runs
        on other nodes."""
        argv = ["sbatch", "--parsable", "--partition=high", "--exclusive", f"--nodes={len(self.cl.hosts)}", "--job-name=high",
                f"--output={self.path('high.log')}", "--wrap", "sleep 4"]
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=self.env, timeout=30)
        if r.returncode != 0:
            raise TestFailure(f"{' '.join(argv)}: {r.stderr.decode().strip()}")
        high = r.stdout.decode().strip().split(";")[0]
        self.cl.submitted.append(high)
        log(f"{self.name}: high-priority job {high} needs every node: job {self.job_id} is preempted")
        deadline = time.monotonic() + self.job.remaining(120)
        while True:  # drained only once the high job has its nodes
            rc, out, _ = self.cl.scmd(["scontrol", "-o", "show", "job", high])
            state = dict(re.findall(r"(\w+)=(\S*)", out)).get("JobState")
            if state in ("RUNNING", "COMPLETING", "COMPLETED"):
                break
            if time.monotonic() > deadline:
                raise TestFailure(f"the high-priority job {high} is {state} after 120 s\n{self.explain()}")
            time.sleep(0.2)
        self.cl.set_nodes(drain, "drain")
        log(f"{self.name}: job {high} {state}; drained {','.join(drain)}")
        return high


def registered_hosts(coord_log, restart):
    """{program@host: count} of the processes that registered after restart `restart`."""
    got = {}
    for m in re.finditer(r"process \d+ \((\S+)@(\S+)\) registered \(rank (-?\d+), restart (\d+)\)", coord_log):
        if int(m.group(4)) == restart:
            key = (m.group(1), m.group(2), int(m.group(3)))
            got[key] = got.get(key, 0) + 1
    return got


def check_ranks_moved(case, restart, nodes, batch_node):
    """After restart `restart`: ranks 0,1 (and mpirun) on the batch node, 2,3 on the other."""
    regs = registered_hosts(case.coordinator_log(), restart)
    other = [n for n in nodes if n != batch_node][0]
    want = {0: batch_node, 1: batch_node, 2: other, 3: other}
    got = {rank: host for (prog, host, rank) in regs if rank >= 0}
    launcher = [host for (prog, host, rank) in regs if prog == "orterun"]
    if got != want or launcher != [batch_node]:
        raise TestFailure(f"restart {restart} on {nodes}: ranks registered on {got}, mpirun on {launcher}; "
                          f"expected {want} and mpirun on {batch_node}\n{case.explain()}")
    log(f"{case.name}: restart {restart}: ranks on {got}, mpirun on {batch_node}")


def check_finished(case, out, ref, restarts, what, preempted=()):
    """The job ended COMPLETED after `restarts` requeues with the reference
    output; `preempted`: (job id, run) of the runs that were preempted."""
    info = case.wait_end(240, what)
    if info.get("JobState") != "COMPLETED" or info.get("ExitCode") != "0:0":
        raise TestFailure(f"{what}: job ended {info.get('JobState')} {info.get('ExitCode')}\n{case.explain()}")
    if int(info.get("Restarts", "0")) != restarts:
        raise TestFailure(f"{what}: requeued {info.get('Restarts')} times, expected {restarts}\n{case.explain()}")
    for o, r in zip(out, ref):
        harness.compare_files(o, r.path(), f"{what}: {os.path.basename(o)}")
    runs = [l for l in case.read("job.log").splitlines() if " ended with status " in l]
    log(f"{what}: COMPLETED after {restarts} requeues; runs:\n" + "\n".join("    " + l for l in runs))
    # The batch shell of every preempted run outlived its checkpoint (its own
    # end would have ended the job) and saw ckpt_launch exit 143.
    for job_id, run in preempted:
        if not any(f"run {run} of job {job_id} " in l and l.endswith(" with status 143") for l in runs):
            raise TestFailure(f"{what}: run {run} of job {job_id} did not end with status 143: {runs}")


def mpi_case(parent, cl, bins, ref):
    """Priority case: sbatch -N 2 mpirun, two preemptions onto other nodes."""
    case = Case(parent, cl, "mpi", "mpi_multinode.sbatch")
    prog = harness.e2e_program(bins, "mpi_ring_tcp")
    out = case.path("mpi.out")
    case.submit([prog, *RING_ARGS])
    nodes = case.wait_running(0, 60, "mpi: first run")
    case.wait_steps(out, random.randint(15, 40), "mpi: first run")
    batch = nodes[0]
    procs = case.status(batch)
    ranks = {p["rank"]: p.get("host") for p in procs or [] if p.get("rank", -1) >= 0}
    daemons = sorted(f"{p.get('program')}@{p.get('host')}" for p in procs or [] if p.get("rank", -1) < 0)
    if ranks != {0: nodes[0], 1: nodes[0], 2: nodes[1], 3: nodes[1]} or f"orted@{nodes[1]}" not in daemons:
        raise TestFailure(f"mpi: --status shows ranks {ranks} and {daemons} on allocation {nodes}")
    log(f"mpi: run 0 on {nodes}: ranks {ranks}; {daemons}")
    spare = [h for h in cl.hosts if h not in nodes]
    for restart in (1, 2):
        # The second time only the batch shell gets USR1 (what --signal=B:USR1@N
        # sends); its trap passes it to ckpt_launch's process, now the
        # restart front end, which passes it to the restored job.
        case.preempt(drain=[nodes[0]], resume=spare, how="--full" if restart == 1 else "--batch")
        old = nodes
        nodes = case.wait_running(restart, 120, f"mpi: run {restart}")
        if nodes[0] in old and nodes[1] in old or old[0] in nodes:
            raise TestFailure(f"mpi: run {restart} on {nodes}, old nodes {old}: the job did not move")
        n = harness.step_lines(out)
        case.wait_steps(out, n + 3, f"mpi: run {restart} makes progress")
        check_ranks_moved(case, restart, nodes, nodes[0])
        spare = [h for h in cl.hosts if h not in nodes]
        case.wait_steps(out, n + random.randint(5, 20), f"mpi: run {restart}")
    pack(case, nodes, out, ref)


def pack(case, nodes, out, ref):
    """Fewer nodes than the checkpoint had: the job is checkpointed and
    killed (ckpt_command --checkpoint --kill), and the script is submitted
    again with -N 1: both old hosts are packed onto the one node."""
    env = dict(case.env, CKPT_COORD_HOST=netns_hosts.HOSTS[nodes[0]])
    rc, o, err = case.job.run([case.job.bins.command, "--checkpoint", "--kill"], timeout=60, env=env,
                              label="ckpt_command --checkpoint --kill")
    if rc != 0:
        raise TestFailure(f"mpi: ckpt_command --checkpoint --kill: {rc}: {err.strip()}\n{case.explain()}")
    info = case.wait_end(60, "mpi: after --checkpoint --kill")
    log(f"mpi: checkpointed and killed on {nodes}: job {case.job_id} {info.get('JobState')}")
    old_id = case.job_id
    # Every process of the checkpoint comes back (8, or 9 when the remote
    # shell runs orted under a shell that does not exec its last command).
    latest = os.path.join(case.job.ckpt_dir, "ckpt_latest")
    want = len([f for f in os.listdir(latest) if f.endswith(".img")])
    case.cl.set_nodes([h for h in case.cl.hosts], "resume")
    case.submit([harness.e2e_program(case.job.bins, "mpi_ring_tcp"), *RING_ARGS], extra=["--nodes=1"])
    node = case.wait_running(0, 60, "mpi: the job on one node")
    deadline = time.monotonic() + case.job.remaining(60)
    while sum((regs := registered_hosts(case.coordinator_log(), 3)).values()) < want and time.monotonic() < deadline:
        time.sleep(0.3)
    hosts = sorted({h for (_, h, _) in regs})
    if hosts != node or sum(regs.values()) != want:
        raise TestFailure(f"mpi: on one node {node}: {want} processes expected, registered {regs}\n{case.explain()}")
    log(f"mpi: job {case.job_id} on {node}: the {want} processes of job {old_id}'s 2 nodes restarted there")
    check_finished(case, [out], [ref], 0, "mpi")


def srun_case(parent, cl, bins, ref):
    """srun ckpt_launch PROG, one task per node, one preemption onto other nodes."""
    case = Case(parent, cl, "srun", "srun_multinode.sbatch")
    outs = [case.path(f"srun-{t}.out") for t in (0, 1)]
    case.submit([bins.example("mixed_memory"), *MM_ARGS])
    nodes = case.wait_running(0, 60, "srun: first run")
    case.wait_steps(outs[1], random.randint(10, 40), "srun: first run")
    procs = case.status(nodes[0])
    hosts = sorted(p.get("host") for p in procs or [])
    if hosts != sorted(nodes):
        raise TestFailure(f"srun: the coordinator on {nodes[0]} knows processes on {hosts}, expected {nodes}")
    log(f"srun: run 0 on {nodes}: one coordinator on {nodes[0]} with a task on each node")
    high = case.preempt_by_priority(drain=[nodes[0]])
    old, nodes = nodes, case.wait_running(1, 180, "srun: run 1")
    deadline = time.monotonic() + case.job.remaining(60)
    while len(regs := registered_hosts(case.coordinator_log(), 1)) < 2 and time.monotonic() < deadline:
        time.sleep(0.3)
    if sorted(h for (_, h, _) in regs) != sorted(nodes) or old[0] in nodes:
        raise TestFailure(f"srun: after the restart tasks registered on {regs}, allocation {nodes} (old {old})")
    log(f"srun: run 1 on {nodes}: the tasks registered there")
    coord = case.coordinator_log()
    if "preemption: SIGTERM" not in coord:
        raise TestFailure(f"srun: the coordinator saw no SIGTERM preemption\n{case.explain()}")
    check_finished(case, outs, [ref, ref], 1, "srun", preempted=[(case.job_id, 0)])


def node_failure_case(parent, cl, bins, ref):
    """A node of the allocation fails during the run: its link goes down
    (slurmd and the job's processes there are cut off, as when a node hangs
    or loses power), SLURM marks it DOWN after SlurmdTimeout and requeues
    the job (NODE_FAIL); the requeued job restarts from the last committed
    checkpoint on the remaining node and a new one."""
    case = Case(parent, cl, "nodefail", "mpi_multinode.sbatch")
    cl.set_nodes(list(cl.hosts), "resume")
    out = case.path("nodefail.out")
    case.submit([harness.e2e_program(bins, "mpi_ring_tcp"), *RING_ARGS])
    nodes = case.wait_running(0, 60, "nodefail: first run")
    case.wait_steps(out, random.randint(10, 30), "nodefail: first run")
    env = dict(case.env, CKPT_COORD_HOST=netns_hosts.HOSTS[nodes[0]])
    rc, o, err = case.job.run([bins.command, "--checkpoint"], timeout=60, env=env, label="checkpoint")
    if rc != 0:
        raise TestFailure(f"nodefail: ckpt_command --checkpoint: {rc}: {err.strip()}\n{case.explain()}")
    n = harness.step_lines(out)
    case.wait_steps(out, n + random.randint(2, 10), "nodefail: after the checkpoint")
    dead = nodes[1]
    cl.cut_off(dead)
    log(f"nodefail: checkpoint 1 taken ({o.strip()}); {dead}'s link is down")
    new = case.wait_running(1, 120, "nodefail: the job requeued after the node failure")
    if dead in new:
        raise TestFailure(f"nodefail: the requeued job runs on {new}, with the failed node {dead}")
    log(f"nodefail: SLURM marked {dead} {cl.node_states().get(dead)}, requeued the job: now on {new}")
    check_finished(case, [out], [ref], 1, "nodefail")


class Reference:
    """An uninterrupted run without ckpt, in the background (it mostly
    sleeps) while the cluster jobs run; path() waits for it. With `host`,
    it runs there through ssh, in the environment the jobs' processes have
    (an emulated host's namespaces, not the head node's)."""

    def __init__(self, job, argv, env, name, cl=None, host=None):
        self.job, self.argv, self.out = job, argv, job.path(f"{name}.ref")
        self.where = f" on {host}" if host else " on the head node"
        if host:
            words = ["cd", shlex.quote(job.root), "&&", "env"] + [shlex.quote(f"{k}={v}") for k, v in env.items()]
            words += [shlex.quote(a) for a in argv] + [">", shlex.quote(self.out), "2>", shlex.quote(self.out + ".err")]
            self.proc = subprocess.Popen([*cl.ssh(), host, " ".join(words)], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            with open(self.out, "wb") as f, open(self.out + ".err", "wb") as e:
                self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=e, env=env,
                                             cwd=job.root)

    def path(self):
        try:
            rc = self.proc.wait(timeout=self.job.remaining(240))
        except subprocess.TimeoutExpired:
            raise TestFailure(f"reference run{self.where} {' '.join(self.argv)} did not end")
        if rc != 0:
            raise TestFailure(f"reference run{self.where} {' '.join(self.argv)} exited {rc}: "
                              f"{harness.tail(self.out + '.err')}")
        return self.out


def body(job, bins, cl):
    # mpirun's reference on a host of the cluster, as the jobs run there.
    env = {k: job.env[k] for k in ("PATH", "LD_LIBRARY_PATH") if k in job.env}
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_btl="self,tcp")
    ring_ref = Reference(job, ["mpirun", "-np", "4", "--oversubscribe", harness.e2e_program(bins, "mpi_ring_tcp"),
                               *RING_ARGS], env, "ring", cl, list(cl.hosts)[-1])
    mm_ref = Reference(job, [bins.example("mixed_memory"), *MM_ARGS], job.env, "mixed_memory")
    cases = os.environ.get("CKPT_E2E_CASES", "mpi,srun,nodefail").split(",")  # by hand: one case
    if "mpi" in cases:
        mpi_case(job, cl, bins, ring_ref)
    if "srun" in cases:
        srun_case(job, cl, bins, mm_ref)
    if "nodefail" in cases:
        node_failure_case(job, cl, bins, ring_ref)


def main():
    tempfile.tempdir = "/var/tmp"  # job directories every host sees
    name = "slurm_multinode"
    if not shutil.which("mpirun"):
        print(f"SKIP {name}: mpirun (Open MPI) is not on PATH", flush=True)
        sys.exit(harness.SKIP_EXIT)
    cl = slurm_cluster.SlurmCluster()
    cl.submitted = []
    t0 = time.monotonic()
    try:
        cl.setup()
    except cluster.Unavailable as e:
        print(f"SKIP {name}: cannot run a SLURM cluster on emulated hosts here: {e}", flush=True)
        sys.exit(harness.SKIP_EXIT)
    log(f"SLURM cluster up in {time.monotonic() - t0:.1f}s: {cl.node_states()}")
    try:
        harness.main(name, lambda job, bins: body(job, bins, cl))
    finally:
        for job_id in cl.submitted:
            cl.scmd(["scancel", job_id])
        cl.teardown()


if __name__ == "__main__":
    main()
