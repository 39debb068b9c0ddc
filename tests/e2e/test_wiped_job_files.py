"""e2e: a job's temporary files are wiped before every restart (the job
ended, an epilog cleaned /tmp, the node rebooted, the restart runs on
another node), and the restart brings back what the job needs.

1. tests/e2e/programs/job_files keeps its state in a session tree under its
   own $TMPDIR (a state file rewritten in place, an O_APPEND log, a MAP_SHARED
   file, a FIFO, a UNIX socket with both ends held, directories of modes
   0750/0700) and a /dev/shm object; a worker thread is named "jf-worker".
2. examples/mpi_heat on 2 Open MPI ranks with Open MPI's shared memory kept
   (CKPT_MPI_SHM=1, as test_mpi_shm): its session directory (ompi.*: hwloc.sm,
   debugger_attach_fifo, ...) under the job's own $TMPDIR and its vader
   segments in /dev/shm.

Each runs under ckpt_launch; before every restart everything inside the
job's $TMPDIR and the /dev/shm names the job's processes held are deleted
(only those: other jobs run on this machine). Checkpoint, kill, wipe,
restart, repeated (3 cycles for the program, 2 for MPI); the final output
must equal an uninterrupted run's. After each restart the restored
processes' names (/proc/PID/comm) and, as root, command lines
(/proc/PID/cmdline) are the originals', and their threads' names are
too (before a restart the runtime has no thread between checkpoints; its
checkpoint thread, restored, is the thread-group leader and carries the
program's name, and a small runtime thread is then named ckpt-ctl)."""

import collections
import os
import shutil

import harness

CONTROL = "ckpt-ctl"


def process_names(pids):
    """{pid: (comm, Counter of thread names)} of the live processes."""
    out = {}
    for pid in pids:
        try:
            comm = harness.proc_comm(pid)
            threads = collections.Counter()
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/comm") as f:
                    threads[f.read().strip()] += 1
        except OSError:
            continue
        out[pid] = (comm, threads)
    return out


def command_lines(pids):
    """Sorted /proc/PID/cmdline of the live processes."""
    out = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                out.append(f.read().decode("utf-8", "replace"))
        except OSError:
            continue
    return sorted(out)


def app_view(names, restored):
    """The names as the application made them, the runtime's threads left out.
    Before a restart the runtime has none between checkpoints (one named
    ckpt-ctl may still be ending after the checkpoint: it is left out too);
    after a restart its checkpoint thread is the thread-group leader and
    carries the program's name, and a runtime thread named ckpt-ctl marks the
    process as one of the computation."""
    view = []
    for comm, threads in names.values():
        threads = collections.Counter(threads)
        for drop in ([comm, CONTROL] if restored else []):
            if threads[drop] == 0:
                raise harness.TestFailure(f"process {comm}: no thread named {drop!r} among {dict(threads)}")
            threads[drop] -= 1
        if not restored and threads[CONTROL] == 1:
            threads[CONTROL] -= 1
        view.append((comm, tuple(sorted(threads.elements()))))
    return sorted(view)


class Wiper:
    """Remembers the job's /dev/shm names and its processes' names after each
    checkpoint; deletes the job's files before each restart."""

    def __init__(self, tmpdir, must_hold):
        self.tmpdir = tmpdir
        self.must_hold = must_hold  # substrings the wiped paths must include
        self.shm = set()
        self.original = None

    def shm_names(self, pids):
        for pid in pids:
            paths = []
            try:
                with open(f"/proc/{pid}/maps") as f:
                    paths += [l.split(None, 5)[5].strip() for l in f if len(l.split(None, 5)) == 6]
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    paths.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                continue
            for p in paths:
                p = p.replace(" (deleted)", "")
                if p.startswith("/dev/shm/") and os.path.exists(p):
                    self.shm.add(p)

    def after_checkpoint(self, job, cycle):
        pids = job.status_real_pids()
        self.shm_names(pids)
        names = process_names(pids)
        if cycle == 1:
            self.original = app_view(names, restored=False)
            self.cmdlines = command_lines(pids)
            harness.log(f"names before any restart: {self.original}")
            return
        got = app_view(names, restored=True)
        if got != self.original:
            raise harness.TestFailure(f"after restart {cycle - 1}: process and thread names {got}, "
                                      f"expected the originals {self.original}")
        harness.log(f"after restart {cycle - 1}: /proc/PID/comm and thread names are the originals'")
        # The command line comes back where the kernel lets the restorer set
        # it (CAP_CHECKPOINT_RESTORE: root here; docs/usage.md).
        if os.geteuid() == 0:
            if command_lines(pids) != self.cmdlines:
                raise harness.TestFailure(f"after restart {cycle - 1}: /proc/PID/cmdline {command_lines(pids)}, "
                                          f"expected the originals {self.cmdlines}")
            harness.log(f"after restart {cycle - 1}: /proc/PID/cmdline is the originals'")

    def before_restart(self, job, images):
        wiped = []
        for root, dirs, files in os.walk(self.tmpdir):
            wiped += [os.path.join(root, n) for n in dirs + files]
        for name in os.listdir(self.tmpdir):
            p = os.path.join(self.tmpdir, name)
            shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
        for p in sorted(self.shm):
            if os.path.exists(p):
                os.unlink(p)
                wiped.append(p)
        for want in self.must_hold:
            if not any(want in p for p in wiped):
                raise harness.TestFailure(f"the wipe found no {want!r} to delete (wiped: {wiped})")
        harness.log(f"wiped {len(wiped)} paths of the job: {sorted(wiped)[:12]}...")


def program_part(job, bins):
    prog = harness.e2e_program(bins, "job_files")
    tag = f"ckpt-e2e-jf-{os.getpid()}"
    wiper = Wiper(None, ["session.jf/data/state", "session.jf/sock/ctl", "session.jf/fifo", "/dev/shm/"])

    def argv(work):
        tmp = os.path.join(work, "tmp")
        os.makedirs(tmp, exist_ok=True)
        if os.path.basename(work) != "ref":
            wiper.tmpdir = tmp
        return ["/usr/bin/env", f"TMPDIR={tmp}", prog, "120", f"/{tag}-{os.path.basename(work)}"]

    sc = harness.Scenario("job_files", argv, first_steps=8, cycles=3,
                          after_checkpoint=wiper.after_checkpoint, before_restart=wiper.before_restart)
    harness.run_cycles(job, sc)


def mpi_part(job, bins):
    heat = os.path.join(bins.examples or "", "mpi_heat")
    mpirun = shutil.which("mpirun.openmpi") or shutil.which("mpirun")
    if not bins.examples or not os.path.exists(heat) or not mpirun:
        harness.log("MPI part not run: examples/mpi_heat or mpirun is missing (no MPI installed)")
        return
    tmp = job.path("mpitmp")
    os.makedirs(tmp)
    job.env.update({"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                    "CKPT_MPI_SHM": "1", "TMPDIR": tmp})
    wiper = Wiper(tmp, ["/ompi.", "hwloc.sm", "/dev/shm/vader_segment"])
    argv = [mpirun, "-np", "2", "--oversubscribe", heat, "400", "128", "30"]
    sc = harness.Scenario("mpi_heat", lambda work: argv, first_steps=5, tree=True, timeout=400,
                          after_checkpoint=wiper.after_checkpoint, before_restart=wiper.before_restart)
    harness.run_cycles(job, sc)


def body(job, bins):
    program_part(job, bins)
    mpi_part(job.subjob("mpi"), bins)


if __name__ == "__main__":
    harness.main("wiped_job_files", body)
