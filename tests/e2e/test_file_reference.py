"""e2e: program text and libraries are stored by reference, not copied.

1. By reference (the default): a copy of mixed_memory is checkpointed; its
   image holds none of the program's unmodified pages. After the program
   file changes (a new modification time), ckpt_restart refuses with one
   line naming it and a non-zero exit; once the file is as it was, the same
   image restarts, is checkpointed and restarted again, and finishes with
   the uninterrupted result.
2. --embed-files: the image is self-contained: with the program file
   deleted, the restart still finishes with the uninterrupted result.
"""

import os
import shutil

import harness


def launch(job, prog, extra=()):
    work = job.path("run")
    os.makedirs(work, exist_ok=True)
    out = job.path("app.out")
    proc = job.start([job.bins.launch, *extra, prog, "40", "60", "30", "3"], out, "ckpt_launch", cwd=work)
    harness.wait_steps(job, out, 3, proc, "after ckpt_launch")
    return proc, out


def finish(job, proc, out, ref_out, what):
    rc = proc.wait(timeout=job.remaining(300))
    if rc != 0:
        raise harness.TestFailure(f"{what}: ckpt_restart exited {rc}, expected 0")
    harness.compare_files(out, ref_out, f"{what}: program stdout")


def restart(job, label):
    return job.start([job.bins.restart, job.ckpt_dir], job.path(f"{label}.out"), label)


def by_reference(job, bins):
    prog = job.path("prog")
    shutil.copy2(bins.example("mixed_memory"), prog)
    sc = harness.Scenario("prog", lambda work: [prog, "40", "60", "30", "3"])
    _, ref_out = harness.reference_run(job, sc)
    proc, out = launch(job, prog)
    images = job.checkpoint("checkpoint 1")
    rc, info, _ = job.run([bins.info, images[0]], label="ckpt_info")
    # The program's text is never written to: none of its pages is stored.
    text = [l for l in info.splitlines() if l.rstrip().endswith(prog) and " r-x " in l]
    if not text or any(" 0 pages stored" not in l for l in text):
        raise harness.TestFailure("the program's unmodified text was stored:\n" + "\n".join(text))
    job.kill_computation(proc, "kill 1")

    st = os.stat(prog)
    os.utime(prog, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    rc, _, err = job.run([bins.restart, job.ckpt_dir], timeout=60, label="ckpt_restart (file changed)")
    lines = [l for l in err.splitlines() if l.strip()]
    if rc == 0 or rc >= 128 or len(lines) != 1 or prog not in lines[0]:
        raise harness.TestFailure(f"restart with a changed program file: exit {rc}, stderr {err!r}")
    harness.log(f"changed file refused: {lines[0]}")
    os.utime(prog, ns=(st.st_atime_ns, st.st_mtime_ns))

    n = harness.step_lines(out)
    proc = restart(job, "restart1")
    harness.wait_steps(job, out, n + 1, proc, "restart 1: progress", 120)
    job.checkpoint("checkpoint 2")
    job.kill_computation(proc, "kill 2")
    finish(job, restart(job, "restart2"), out, ref_out, "by reference")
    harness.log("by reference: refused a changed file, then two cycles equal the uninterrupted run")


def embedded(job, bins):
    prog = job.path("prog")
    shutil.copy2(bins.example("mixed_memory"), prog)
    sc = harness.Scenario("prog", lambda work: [prog, "40", "60", "30", "3"])
    _, ref_out = harness.reference_run(job, sc)
    proc, out = launch(job, prog, ["--embed-files"])
    job.checkpoint("checkpoint (--embed-files)")
    job.kill_computation(proc, "kill")
    os.unlink(prog)
    finish(job, restart(job, "restart"), out, ref_out, "--embed-files")
    harness.log("--embed-files: restarted without the program file, equal to the uninterrupted run")


def body(job, bins):
    by_reference(job, bins)
    embedded(job.subjob("embed"), bins)


if __name__ == "__main__":
    harness.main("file_reference", body)
