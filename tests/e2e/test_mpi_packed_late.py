"""e2e (across nodes): an Open MPI job whose ranks on two old nodes first
talk to each other after those nodes were packed onto one.

The emulated cluster of test_mpi_multinode.py (cluster.py: hosts with their
own namespaces and sshd, everything through ssh). `mpirun -np 4 --host
ckh1:2,ckh2:2 mpi_late_pairs GO STEPS`: ranks 0, 1 on ckh1, 2, 3 on ckh2
talk in pairs (0-1, 2-3) until the file GO appears, then in a ring and
MPI_Allreduce over all ranks (programs/mpi_late_pairs.c). Open MPI's TCP
transport makes a connection at the first message between two ranks, and
the accepting rank drops it unless its source address is one the
connecting rank published at start-up.

  1. Reference: GO exists from the start; no ckpt.
  2. `ckpt_launch mpirun ...` on ckh1; checkpoint 1 while the pairs wait
     (no connection between the two nodes' ranks yet); kill.
  3. `ckpt_restart --hosts ckh1=ckh3,ckh2=ckh3`: every process on ckh3, the
     old addresses of ckh1 and ckh2 both on ckh3's one address; GO: the
     ranks of the two old nodes connect now; checkpoint 2 in the ring; kill.
  4. `ckpt_restart --hosts ckh3=ckh1` (the packed checkpoint onto ckh1);
     the job runs to its end: mpirun's stdout must equal the reference's.

SKIPs (77) without Open MPI or when the emulated cluster cannot be built."""

import os
import sys
import time

import harness
import test_mpi_multinode as multinode

STEPS = 150


class LatePairs(multinode.OpenMpi):
    name = "mpi_packed_late"
    program = "mpi_late_pairs"
    faults = False
    go = None  # the GO file of the run being made

    def argv(self):
        return ["mpirun", "-np", str(multinode.RANKS), "--host", "ckh1:2,ckh2:2", self.prog, self.go, str(STEPS)]


def wait_err_lines(job, path, word, more, proc, what, timeout=60):
    """Waits for `more` lines starting with `word` in `path` beyond those there now."""
    def count():
        try:
            with open(path, "rb") as f:
                return sum(1 for l in f.read().splitlines() if l.startswith(word.encode()))
        except OSError:
            return 0
    want = count() + more
    deadline = time.monotonic() + job.remaining(timeout)
    while count() < want:
        if proc.poll() is not None:
            raise harness.TestFailure(f"{what}: the job ended (status {proc.returncode})")
        if time.monotonic() > deadline:
            raise harness.TestFailure(f"{what}: no new {word!r} line in {path} after {timeout}s")
        time.sleep(0.1)


def body(job, bins, cl):
    flavor = LatePairs(bins, cl)
    flavor.go = job.path("ref_go")
    open(flavor.go, "w").close()
    ref = multinode.reference_run(job, cl, flavor)

    work = job.path("run")
    os.makedirs(work)
    out = os.path.join(work, "app.out")
    flavor.go = os.path.join(work, "go")
    env = dict(flavor.env(), CKPT_DIR=job.ckpt_dir, CKPT_COORD_PORT=str(job.port))
    argv = [bins.launch, *flavor.argv()]
    proc = job.start(multinode.remote_command(job, cl, work, env, argv, out), job.path("launch.out"),
                     f"ssh ckh1 ckpt_launch {argv[1]}")
    h1 = multinode.netns_hosts.HOSTS["ckh1"]
    multinode.wait_rank_hosts(job, h1, flavor.layout, "launch")
    wait_err_lines(job, out + ".err", "wait", 2, proc, "after ckpt_launch: the pairs must wait")
    multinode.checkpoint(job, h1, "checkpoint 1", ["ckh1", "ckh2"])
    wait_err_lines(job, out + ".err", "wait", 1, proc, "checkpoint 1: the job must keep running")
    if harness.step_lines(out) != 0:
        raise harness.TestFailure("the ranks of the two nodes talked before GO")
    multinode.kill(job, h1, proc, "kill 1")

    head = "127.0.0.1"
    proc = multinode.restart(job, cl, "ckh1=ckh3,ckh2=ckh3", 1)
    multinode.wait_rank_hosts(job, head, {r: "ckh3" for r in flavor.layout}, "restart 1 (packed on ckh3)")
    wait_err_lines(job, out + ".err", "wait", 1, proc, "restart 1: the pairs must wait again")
    open(flavor.go, "w").close()
    try:
        harness.wait_steps(job, out, 10, proc, "restart 1: after GO, the ranks of both old nodes must talk", 60)
    except harness.TestFailure as e:  # Open MPI says why on stderr (an inbound connection dropped)
        raise harness.TestFailure(f"{e}\nthe job's stderr:\n{harness.tail(out + '.err')}")
    multinode.checkpoint(job, head, "checkpoint 2", ["ckh3"])
    n = harness.step_lines(out)
    harness.wait_steps(job, out, n + 2, proc, "checkpoint 2: the job must keep running", 60)
    multinode.kill(job, head, proc, "kill 2")

    proc = multinode.restart(job, cl, "ckh3=ckh1", 2)
    try:
        rc = proc.wait(timeout=job.remaining(180))
    except Exception:
        raise harness.TestFailure("restart 2: the job did not finish within 180 s")
    if rc != 0:
        raise harness.TestFailure(f"restart 2: ckpt_restart exited {rc}, expected the job's 0:\n"
                                  f"{harness.tail(job.path('restart2.err'))}")
    harness.compare_files(out, ref, "mpirun's stdout")
    harness.log(f"stdout ({os.path.getsize(out)} bytes) equals the uninterrupted run's")


def main():
    multinode.tempfile.tempdir = "/var/tmp"  # the hosts' /tmp are their own; the job's directory is shared
    if LatePairs.missing():
        print(f"SKIP {LatePairs.name}: {LatePairs.missing()}", flush=True)
        sys.exit(harness.SKIP_EXIT)
    cl = multinode.cluster.Cluster()
    cl.pid_base = dict(multinode.PACKING_PID_BASE)  # packed processes need different pids
    multinode.netns_hosts.run_test(LatePairs.name, cl, lambda job, bins: body(job, bins, cl),
                                   "namespaces and sshd")


if __name__ == "__main__":
    main()
