"""e2e (across nodes): an Open MPI job over TCP on two emulated hosts, launched
through real ssh, checkpointed, killed and restarted twice through ssh, the
second time on other hosts; its output must equal an uninterrupted run's.

cluster.py emulates the hosts ckh1..3: each has its own network, UTS, PID and
mount namespace (own /proc, /tmp, /dev/shm) and runs a real sshd; the head
node (this namespace, 10.77.0.1) reaches them with `ssh -F <cluster>/ssh_config`.
Nothing here takes a shortcut into a namespace: every command on a host goes
through ssh, and mpirun starts its remote daemon (orted) through ssh too.

  1. Reference: `mpirun -np 4 --host ckh1:2,ckh2:2 mpi_ring_tcp` on ckh1 with
     plain ssh as its remote shell, no ckpt.
  2. On ckh1: `ckpt_launch mpirun ...` with OMPI_MCA_plm_rsh_agent="ssh -F cfg"
     (ckpt_launch puts ckpt_rsh in its place and starts a coordinator on
     ckh1); `ckpt_command --status` from the head names ranks 0..3, 0 and 1
     on ckh1, 2 and 3 on ckh2; checkpoint 1 at a random moment (ranks blocked
     in MPI_Recv from another host, 256 KiB blocks in flight); kill.
  3. `ckpt_restart --hosts ckh1=ckh1,ckh2=ckh2 --rsh "ssh -F cfg" DIR` from the
     head (which starts a coordinator there and tells the hosts its address;
     CKPT_TIMEOUT=8 limits each checkpoint phase); progress; checkpoint 2.
     Then ckh2 stops answering (its job processes frozen) and a checkpoint
     fails after 8 s with one line naming a process on ckh2; ckh2 dies (they
     are killed); the images are still checkpoint 2's; kill.
  4. `ckpt_restart --hosts ckh1=ckh2,ckh2=ckh3 ...` (of checkpoint 2): mpirun
     now on ckh2, the remote daemon and ranks 2, 3 on ckh3; --status shows
     the new hosts; the job runs to its end: its stdout (a file in the shared
     directory) must equal the reference byte for byte.
  5. `ckpt_restart --hosts ckh1=ckh9,...` (no such host): one line naming
     ckh9, a non-zero exit, nothing started on any host, the checkpoint intact.

Needs root, namespaces and OpenSSH's sshd (Debian openssh-server); SKIPs (77)
with the reason when the emulated cluster cannot be built or MPI is missing."""

import json
import os
import random
import shlex
import shutil
import sys
import tempfile
import time

import cluster
import harness
import mpi_common
import netns_hosts

RANKS = 4
# Each restart's --hosts (old=new): in place (then a host dies during a
# checkpoint, and the restart after it goes back to the checkpoint before);
# then moved to two other hosts, where the job runs to its end. Two old hosts
# onto one new host: test_mpi_multinode_pack.py (OpenMpiPacked below).
CYCLES = ("ckh1=ckh1,ckh2=ckh2", "ckh1=ckh2,ckh2=ckh3")
DYING = "ckh2"  # the host that dies during checkpoint 3
PHASE_LIMIT = 8  # seconds each checkpoint phase may take (CKPT_TIMEOUT)


class OpenMpi:
    """mpirun -np 4 --host ckh1:2,ckh2:2 mpi_ring_tcp; ssh through plm_rsh_agent."""
    name = "mpi_multinode"
    program = "mpi_ring_tcp"
    layout = ({0: "ckh1", 1: "ckh1", 2: "ckh2", 3: "ckh2"})
    cycles = CYCLES
    faults = True  # a host dies during checkpoint 3; a restart onto an unknown host

    def __init__(self, bins, cl):
        self.prog = harness.e2e_program(bins, self.program)
        self.cl = cl

    def env(self):
        return {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                "OMPI_MCA_plm_rsh_agent": self.cl.rsh_string()}

    def reference_env(self):
        return dict(self.env(), OMPI_MCA_btl="self,tcp")

    def argv(self):
        return ["mpirun", "-np", str(RANKS), "--host", "ckh1:2,ckh2:2", self.prog, "120", "40000"]

    @staticmethod
    def missing():
        return None if shutil.which("mpirun") else "mpirun is not on PATH"


PACKING_PID_BASE = {"ckh1": 1000, "ckh2": 3000, "ckh3": 5000}


class OpenMpiPacked(OpenMpi):
    """Two old hosts onto one (ckh1=ckh3,ckh2=ckh3), then checkpoint 1 again
    back onto the original hosts."""
    name = "mpi_multinode_pack"
    cycles = ("ckh1=ckh3,ckh2=ckh3", ("ckh1=ckh1,ckh2=ckh2", "first"))
    # Processes of two old hosts on one new host must have different pids
    # (ckpt_restart refuses else, in one line): each host counts from its own base.
    pid_base = PACKING_PID_BASE
    faults = False

    def argv(self):
        return ["mpirun", "-np", str(RANKS), "--host", "ckh1:2,ckh2:2", self.prog, "90", "30000"]


class Mpich(OpenMpi):
    """mpiexec.hydra -hosts ckh1,ckh2 -n 4 -launcher ssh -launcher-exec SSH mpi_heat_mpich
    (ranks round robin: 0 and 2 on ckh1, 1 and 3 on ckh2)."""
    name = "mpi_multinode_mpich"
    program = "mpi_heat_mpich"
    layout = ({0: "ckh1", 1: "ckh2", 2: "ckh1", 3: "ckh2"})

    def __init__(self, bins, cl):
        self.prog = mpi_common.mpi_example(bins, self.program)
        self.cl = cl

    def env(self):
        return {}

    def reference_env(self):
        return {"MPIR_CVAR_NOLOCAL": "1", "UCX_TLS": "self,tcp"}

    def argv(self):
        return ["mpiexec.hydra", "-hosts", "ckh1,ckh2", "-n", str(RANKS), "-launcher", "ssh", "-launcher-exec",
                self.cl.ssh_script, self.prog, "300", "128", "30"]

    @staticmethod
    def missing():
        return None if shutil.which("mpiexec.hydra") else "mpiexec.hydra (MPICH) is not on PATH"


def remote_command(job, cl, workdir, env, argv, out):
    """`ssh ckh1 'cd WORKDIR && env K=V... ARGV > OUT 2> OUT.err'` as an argv."""
    words = ["cd", shlex.quote(workdir), "&&", "env"] + [shlex.quote(f"{k}={v}") for k, v in env.items()]
    words += [shlex.quote(a) for a in argv] + [">", shlex.quote(out), "2>", shlex.quote(out + ".err")]
    return [*cl.ssh(), "ckh1", " ".join(words)]


def reference_run(job, cl, flavor):
    work = job.path("ref")
    os.makedirs(work)
    out = job.path("ref.out")
    env, argv = flavor.reference_env(), flavor.argv()
    t0 = time.monotonic()
    rc, stdout, err = job.run(remote_command(job, cl, work, env, argv, out), timeout=180, label="reference run")
    if rc != 0:
        raise harness.TestFailure(f"reference run (ssh, no ckpt) exited {rc}:\n{harness.tail(out)}\n"
                                  f"{harness.tail(out + '.err')}\n{err[-1500:]}")
    harness.log(f"reference run: {harness.step_lines(out)} steps in {time.monotonic() - t0:.1f}s")
    return out


def status(job, coord):
    """The processes --status --json names, or None while no coordinator answers."""
    env = dict(job.env, CKPT_COORD_HOST=coord)
    rc, out, err = job.run([job.bins.command, "--status", "--json"], timeout=30, env=env, label="--status")
    if rc != 0:
        harness.log(f"ckpt_command --status --json (coordinator {coord}) exited {rc}: {err.strip()}")
        return None
    return json.loads(out).get("processes", [])


def wait_rank_hosts(job, coord, want, label, timeout=60):
    """Waits until --status names ranks 0..RANKS-1 on the hosts `want` {rank: host}."""
    deadline = time.monotonic() + job.remaining(timeout)
    while True:
        procs = status(job, coord)
        got = {p["rank"]: p.get("host") for p in procs or [] if p.get("rank", -1) >= 0}
        if procs is not None and got == want:
            others = sorted(f"{p.get('program')}@{p.get('host')}" for p in procs if p.get("rank", -1) < 0)
            harness.log(f"{label}: --status: ranks on {got}; also {others}")
            return procs
        if time.monotonic() > deadline:
            raise harness.TestFailure(f"{label}: --status shows ranks on {got}, expected {want}")
        time.sleep(0.2)


def checkpoint(job, coord, label, want_hosts):
    job.env["CKPT_COORD_HOST"] = coord
    time.sleep(random.uniform(0, 0.5))  # any moment: a rank in MPI_Recv, a block in flight
    images = job.checkpoint(label)
    hosts = {}
    for img in images:
        rc, out, _ = job.run([job.bins.info, img], timeout=60, label="ckpt_info")
        host = next((l.split(" on ")[1].split(";")[0] for l in out.splitlines()
                     if l.startswith("process ") and " on " in l), None)
        hosts.setdefault(host, []).append(os.path.basename(img))
    harness.log(f"{label}: images per host: {dict((h, len(v)) for h, v in hosts.items())}")
    if sorted(hosts) != sorted(want_hosts):
        raise harness.TestFailure(f"{label}: images of hosts {sorted(hosts)}, expected {want_hosts}: {hosts}")
    return images


def kill(job, coord, proc, label):
    env = dict(job.env, CKPT_COORD_HOST=coord)
    rc, out, err = job.run([job.bins.command, "--kill"], timeout=30, env=env, label="ckpt_command --kill")
    if rc != 0:
        raise harness.TestFailure(f"{label}: ckpt_command --kill exited {rc}: {err.strip() or out.strip()}")
    try:
        proc.wait(timeout=job.remaining(30))
    except Exception:
        raise harness.TestFailure(f"{label}: the launching ssh (pid {proc.pid}) still runs 30 s after --kill")
    harness.log(f"{label}: {out.strip()}; the launching command ended (status {proc.returncode})")


def restart(job, cl, mapping, cycle, source=None):
    env = {k: v for k, v in job.env.items() if k != "CKPT_COORD_HOST"}  # ckpt_restart picks the address
    env["CKPT_TIMEOUT"] = str(PHASE_LIMIT)  # the coordinator it starts gives up on a silent host
    argv = [job.bins.restart, "--dir", job.ckpt_dir, "--hosts", mapping, "--rsh", cl.rsh_string(),
            source or job.ckpt_dir]
    return job.start(argv, job.path(f"restart{cycle}.out"), f"ckpt_restart --hosts {mapping}", env=env,
                     cwd=job.path())


def port_moves(job, cycle):
    """The port moves ckpt_restart noted (ports of one old host taken here by another's)."""
    err = job.path(f"restart{cycle}.err")
    notes = [l for l in open(err, errors="replace") if "is taken here" in l] if os.path.exists(err) else []
    harness.log(f"restart {cycle}: {len(notes)} port moves" + (f", e.g. {notes[0].strip()}" if notes else ""))


def body(job, bins, cl, flavor_class):
    flavor = flavor_class(bins, cl)
    ref = reference_run(job, cl, flavor)

    work = job.path("run")
    os.makedirs(work)
    out = os.path.join(work, "app.out")
    env = dict(flavor.env(), CKPT_DIR=job.ckpt_dir, CKPT_COORD_PORT=str(job.port))
    argv = [bins.launch, *flavor.argv()]
    proc = job.start(remote_command(job, cl, work, env, argv, out), job.path("launch.out"),
                     f"ssh ckh1 ckpt_launch {argv[1]}")
    h1 = netns_hosts.HOSTS["ckh1"]  # the coordinator ckpt_launch started on ckh1
    harness.wait_steps(job, out, random.randint(3, 20), proc, "after ckpt_launch")
    wait_rank_hosts(job, h1, flavor.layout, "launch")
    checkpoint(job, h1, "checkpoint 1", ["ckh1", "ckh2"])
    n = harness.step_lines(out)
    harness.wait_steps(job, out, n + 2, proc, "checkpoint 1: the job must keep running", 60)
    kill(job, h1, proc, "kill 1")

    head = "127.0.0.1"  # ckpt_restart starts the coordinator on the head node
    where = dict(flavor.layout)  # rank -> host it runs on now
    first = os.path.realpath(os.path.join(job.ckpt_dir, "ckpt_latest"))  # checkpoint 1
    for cycle, mapping in enumerate(flavor.cycles, 1):
        last = cycle == len(flavor.cycles)
        source = None
        if isinstance(mapping, tuple):  # (mapping, "first"): checkpoint 1 again
            mapping, source = mapping[0], first
            where = dict(flavor.layout)
            harness.log(f"restart {cycle}: checkpoint 1 ({source}) again")
        n_kill = harness.step_lines(out)
        proc = restart(job, cl, mapping, cycle, source)
        harness.wait_steps(job, out, min(n_kill, harness.step_lines(out)) + 1, proc,
                           f"restart {cycle} ({mapping}): progress", 120)
        moved = dict(pair.split("=") for pair in mapping.split(","))
        where = {r: moved[h] for r, h in where.items()}
        # --status names the host each process runs on now.
        wait_rank_hosts(job, head, where, f"restart {cycle}")
        port_moves(job, cycle)
        if last:
            break
        images = checkpoint(job, head, f"checkpoint {cycle + 1}", sorted(set(where.values())))
        n = harness.step_lines(out)
        harness.wait_steps(job, out, n + 2, proc, f"checkpoint {cycle + 1}: the job must keep running", 60)
        if cycle == 1 and flavor.faults:  # the next restart goes back to this checkpoint
            host_dies(job, cl, head, proc, DYING, images, flavor)
        if flavor.faults is False and cycle == 1:
            cannot_split(job, cl, sorted(set(where.values())))
        kill(job, head, proc, f"kill {cycle + 1}")
    try:
        rc = proc.wait(timeout=job.remaining(180))
    except Exception:
        raise harness.TestFailure(f"restart {cycle}: the job did not finish within 180 s")
    if rc != 0:
        raise harness.TestFailure(f"restart {cycle}: ckpt_restart exited {rc}, expected the job's 0:\n"
                                  f"{harness.tail(job.path(f'restart{cycle}.err'))}")
    harness.compare_files(out, ref, "mpirun's stdout")
    harness.log(f"stdout ({os.path.getsize(out)} bytes) equals the uninterrupted run's")
    if flavor.faults:
        unreachable_host(job, cl, flavor)


def host_dies(job, cl, coord, proc, host, images, flavor):
    """`host` stops answering during a checkpoint (its job processes frozen, as
    a node that hangs or drops off the network), then dies (they are killed).
    The checkpoint fails after the coordinator's phase limit (CKPT_TIMEOUT,
    set for this restart) with one line naming a process on `host`, and the
    previous checkpoint stays the one to restart."""
    rc, ps, _ = cl.run(host, "ps -eo pid=,comm=")
    pids = [l.split()[0] for l in ps.splitlines()
            if len(l.split()) == 2 and l.split()[1] in ("orted", "hydra_pmi_proxy", "ckpt_rsh", flavor.program)]
    if not pids:
        raise harness.TestFailure(f"host_dies: no job process on {host}: {ps}")
    rc, _, err = cl.run(host, "kill -STOP " + " ".join(pids))
    if rc != 0:
        raise harness.TestFailure(f"host_dies: kill -STOP on {host}: {err.strip()}")
    env = dict(job.env, CKPT_COORD_HOST=coord)
    rc, out, err = job.run([job.bins.command, "--checkpoint"], timeout=90, env=env, label="checkpoint, host frozen")
    cl.run(host, "kill -KILL " + " ".join(pids))
    lines = err.strip().splitlines()
    if rc == 0 or len(lines) != 1 or f"@{host}" not in lines[0]:
        raise harness.TestFailure(f"checkpoint while {host} does not answer: wanted one line naming a process on "
                                  f"{host} and a non-zero exit, got status {rc}: {out.strip()} {err.strip()}")
    harness.log(f"checkpoint while {host} does not answer: status {rc}: {lines[0]}")
    if sorted(job.images()) != sorted(images):
        raise harness.TestFailure(f"the failed checkpoint changed the images: {sorted(job.images())}")
    for img in images:
        job.verify_image(img, "the checkpoint before the failed one")


def cannot_split(job, cl, hosts):
    """A checkpoint whose old hosts were packed onto one host cannot be split
    across hosts again: one line saying why, the checkpoint intact."""
    if len(hosts) != 1:
        return
    env = {k: v for k, v in job.env.items() if k != "CKPT_COORD_HOST"}
    mapping = f"{hosts[0]}=ckh1,{hosts[0]}=ckh2"
    argv = [job.bins.restart, "--dir", job.ckpt_dir, "--hosts", mapping, "--rsh", cl.rsh_string(), job.ckpt_dir]
    rc, _, err = job.run(argv, timeout=60, env=env, label="ckpt_restart splitting one host")
    lines = err.strip().splitlines()
    if rc == 0 or len(lines) != 1 or hosts[0] not in lines[0]:
        raise harness.TestFailure(f"--hosts {mapping}: wanted one line and a non-zero exit, got {rc}: {err}")
    harness.log(f"--hosts {mapping}: status {rc}: {lines[0]}")
    for img in job.images():
        job.verify_image(img, "after the refused split")


def unreachable_host(job, cl, flavor):
    """A new host that does not answer: one line naming it, non-zero, nothing
    restarted anywhere, the checkpoint intact."""
    env = {k: v for k, v in job.env.items() if k != "CKPT_COORD_HOST"}
    argv = [job.bins.restart, "--dir", job.ckpt_dir, "--hosts", "ckh1=ckh9,ckh2=ckh3", "--rsh", cl.rsh_string(),
            job.ckpt_dir]
    rc, stdout, err = job.run(argv, timeout=90, env=env, label="ckpt_restart to an unknown host")
    lines = err.strip().splitlines()
    if rc == 0 or len(lines) != 1 or "ckh9" not in lines[0]:
        raise harness.TestFailure(f"restart onto unknown host ckh9: wanted one line naming it and a non-zero exit, "
                                  f"got status {rc}, stderr:\n{err[-1500:]}")
    harness.log(f"restart onto ckh9: status {rc}: {lines[0]}")
    for host in ("ckh1", "ckh2", "ckh3"):
        rc, ps, _ = cl.run(host, "ps -eo comm=")
        restored = [p for p in ps.split() if p in ("orterun", "orted", "mpiexec.hydra", "hydra_pmi_proxy",
                                                   "ckpt_rsh", "ckpt_restart", flavor.program)]
        if restored:
            raise harness.TestFailure(f"restart onto ckh9 left {restored} running on {host}")
    for img in job.images():
        rc, _, err = job.run([job.bins.info, "--verify", img], timeout=60, label="ckpt_info --verify")
        if rc != 0:
            raise harness.TestFailure(f"the failed restart damaged the checkpoint: {img}: {err.strip()}")


def main(flavor=OpenMpi):
    tempfile.tempdir = "/var/tmp"  # the hosts' /tmp are their own; the job's directory is shared
    name = flavor.name
    if flavor.missing():
        print(f"SKIP {name}: {flavor.missing()}", flush=True)
        sys.exit(harness.SKIP_EXIT)
    cl = cluster.Cluster()
    cl.pid_base = dict(getattr(flavor, "pid_base", {}))
    netns_hosts.run_test(name, cl, lambda job, bins: body(job, bins, cl, flavor), "namespaces and sshd")


if __name__ == "__main__":
    main()
