"""e2e: sweep_memory (96 MiB of zero, pattern and random pages from malloc,
every page written several times per step, as stencil codes do) survives two
checkpoint/kill/restart cycles and prints exactly what an uninterrupted run
prints. The write mode is left to the runtime (CKPT_WRITE_MODE unset, i.e.
auto): for such a program it must choose copy-first, which the runtime's
verbose log shows after every checkpoint ("N MiB copied first", N > 0).
Then the last checkpoint of a run (`ckpt_command --checkpoint --kill`, as a
preemption's): there the shortest commit wins and the runtime must fork
("0 MiB copied first"); the restart from it ends as the uninterrupted run."""

import glob
import os
import re
import subprocess

import harness

COPIED_RE = re.compile(rb"\[ckpt (\d+)@[^\]]*\] image writer forked, (\d+) MiB copied first")


def copied_by(job, pid):
    """MiB that process `pid` copied first at its last checkpoint, per the
    runtime's verbose log (a restored process writes its log where the
    launched one did), or None."""
    found = None
    for path in glob.glob(job.path("*.err")):
        with open(path, "rb") as f:
            for m in COPIED_RE.finditer(f.read()):
                if int(m.group(1)) == pid:
                    found = int(m.group(2))
    return found


def body(job, bins):
    prog = harness.e2e_program(bins, "sweep_memory")
    job.env["CKPT_VERBOSE"] = "1"

    def check_mode(job, cycle):
        pid = job.procs[-1][0].pid  # ckpt_launch execs the program; ckpt_restart becomes it
        mib = copied_by(job, pid)
        if not mib:
            raise harness.TestFailure(f"checkpoint {cycle}: the runtime did not choose copy-first for a program "
                                      f"that sweeps its memory (pid {pid} copied {mib} MiB first)")
        harness.log(f"checkpoint {cycle}: copy-first, {mib} MiB copied")

    sc = harness.Scenario("sweep_memory", lambda work: [prog, os.environ.get("CKPT_E2E_MIB", "96"), "3000", "8"],
                          after_checkpoint=check_mode)
    harness.run_cycles(job, sc)
    last_checkpoint_forks(job, sc)


def last_checkpoint_forks(job, sc):
    """Launch again, `--checkpoint --kill`, restart: fork, exact output."""
    work = job.path("run_last")
    os.makedirs(work)
    out = job.path("last.out")
    proc = job.start([job.bins.launch, *sc.argv(work)], out, "ckpt_launch (last)", cwd=work)
    harness.wait_steps(job, out, sc.first_steps, proc, "after ckpt_launch (last)")
    rc, text, err = job.command("--checkpoint", "--kill", timeout=300)
    if rc != 0 or "killed" not in text:
        raise harness.TestFailure(f"ckpt_command --checkpoint --kill exited {rc}: {text.strip()} {err.strip()}")
    try:
        proc.wait(timeout=job.remaining(30))
    except subprocess.TimeoutExpired:
        raise harness.TestFailure("--checkpoint --kill: the program still runs 30 s after the commit")
    mib = copied_by(job, proc.pid)
    if mib != 0:
        raise harness.TestFailure(f"--checkpoint --kill: the runtime copied {mib} MiB first; the last checkpoint "
                                  "of a computation must fork (its shortest commit)")
    harness.log(f"--checkpoint --kill: forked, {text.strip()}")
    proc = job.start([job.bins.restart, job.ckpt_dir], job.path("restart_last.out"), "ckpt_restart (last)")
    try:
        rc = proc.wait(timeout=job.remaining(sc.timeout))
    except subprocess.TimeoutExpired:
        raise harness.TestFailure(f"restart after --checkpoint --kill: not finished within {sc.timeout}s")
    if rc != 0:
        raise harness.TestFailure(f"restart after --checkpoint --kill: ckpt_restart exited with status {rc}")
    harness.compare_files(out, job.path("ref.out"), "program stdout (restarted after --checkpoint --kill)")
    harness.log("restart after --checkpoint --kill: stdout equals the uninterrupted run")


if __name__ == "__main__":
    harness.main("sweep_memory", body)
