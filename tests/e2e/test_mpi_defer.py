"""e2e (MPI plugin, no MPI needed): checkpoints wait for MPI_Init and
MPI_Finalize. programs/mpi_defer calls an MPI_Init and an MPI_Finalize that
take 1.5 s each, in a stand-in MPI library (programs/fake_mpi.c) that fails
the program if its thread is ever stopped inside them. ckpt_launch preloads
libckpt_mpi.so, whose wrappers defer checkpoints around the PMPI_ calls.

1. With CKPT_DEFER_TIMEOUT=1 and a 3 s MPI_Init, a checkpoint requested
   inside it fails after about 1 s with a message naming MPI_Init, and the
   program runs on untouched.
2. The standard two checkpoint/kill/restart cycles, the first checkpoint
   requested right after step 3, i.e. inside MPI_Init: it must complete only
   after MPI_Init returned; output equal to an uninterrupted run's."""

import os
import time

import harness


def last_time(log, what):
    with open(log) as f:
        times = [int(l.split()[-1]) for l in f if l.startswith(what + " ")]
    return times[-1] / 1e9 if times else None


def wait_for_line(job, log, what, proc, timeout=30):
    deadline = time.monotonic() + job.remaining(timeout)
    while not (os.path.exists(log) and last_time(log, what)):
        if proc.poll() is not None:
            raise harness.TestFailure(f"the program exited ({proc.returncode}) before '{what}'")
        if time.monotonic() > deadline:
            raise harness.TestFailure(f"no '{what}' in {log} after {timeout}s")
        time.sleep(0.02)


def timeout_phase(job, prog):
    sub = job.subjob("timeout")
    log = sub.path("fake_mpi.log")
    sub.env.update({"FAKE_MPI_LOG": log, "FAKE_MPI_MS": "3000", "CKPT_DEFER_TIMEOUT": "1"})
    out = sub.path("app.out")
    proc = sub.start([job.bins.launch, prog, "20", "20", "1", "100"], out, "ckpt_launch (timeout)")
    wait_for_line(sub, log, "init start", proc)
    t0 = time.monotonic()
    rc, stdout, stderr = sub.command("--checkpoint", timeout=60)
    dt = time.monotonic() - t0
    if rc == 0:
        raise harness.TestFailure("a checkpoint inside a 3 s MPI_Init with CKPT_DEFER_TIMEOUT=1 succeeded")
    if "MPI_Init" not in stdout + stderr:
        raise harness.TestFailure(f"the failed checkpoint does not name MPI_Init: {stdout.strip()} {stderr.strip()}")
    if dt > 2.5:
        raise harness.TestFailure(f"the checkpoint gave up after {dt:.1f}s, CKPT_DEFER_TIMEOUT=1")
    harness.log(f"timeout: the checkpoint failed after {dt:.1f}s: {(stdout + stderr).strip()}")
    try:
        rc = proc.wait(timeout=sub.remaining(60))
    except Exception:
        raise harness.TestFailure("the program did not finish after the failed checkpoint")
    if rc != 0:
        raise harness.TestFailure(f"the program exited {rc} after the failed checkpoint:\n{harness.tail(out)}")
    harness.log("timeout: the program finished normally")


def body(job, bins):
    prog = harness.e2e_program(bins, "mpi_defer")
    timeout_phase(job, prog)
    log = job.path("fake_mpi.log")
    job.env["FAKE_MPI_LOG"] = log
    plain_checkpoint = job.checkpoint
    first = [True]

    def checkpoint(label):
        asked = time.time()
        images = plain_checkpoint(label)
        done = time.time()
        if first[0]:
            first[0] = False
            start, end = last_time(log, "init start"), last_time(log, "init done")
            if end is None or end > done:
                raise harness.TestFailure(f"{label} completed before MPI_Init returned")
            if start < asked < end:
                harness.log(f"{label}: asked {end - asked:.2f}s before MPI_Init returned; "
                            f"committed {done - end:.2f}s after it")
            else:
                harness.log(f"{label}: warning: asked outside MPI_Init (a slow machine?)")
        return images

    job.checkpoint = checkpoint
    sc = harness.Scenario("mpi_defer", lambda work: [prog, "80", "50", "3", "70"], first_steps=3)
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("mpi_defer", body)
