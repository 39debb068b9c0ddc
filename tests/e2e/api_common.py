"""The application API's scenario (docs/api.md), shared by the C, Python and
Fortran tests and by the package tests: examples/api/api_counter{.c,.py,.f90}
asks for checkpoints itself. The run under ckpt is checkpointed from inside,
killed and restarted twice:

  launch -> the program's checkpoint 1 at step STEPS/4 returns "resumed"
  (restart count 0; pre-checkpoint hooks A B, resume hooks B A) -> kill ->
  ckpt_restart DIR (the latest generation: that checkpoint) -> the same call
  returns "restarted" (count 1; restart hooks B A) -> checkpoint 2 at
  STEPS/2 resumed -> kill -> restart -> restarted (count 2) -> checkpoint 3
  at 3*STEPS/4, asked for by a second thread while the main thread is inside
  a critical section: the section ends ("critical:left") before the resume
  hooks, so the checkpoint waited for it -> the program finishes.

stdout must equal an uninterrupted run's without ckpt (the same binary,
unchanged), and the events file (rolled back with the program's files at
each restart) must hold exactly the lines of that lineage."""

import os
import subprocess
import time

import harness
from harness import TestFailure, log

STEPS = 40
SLEEP_MS = 60
EVENTS = "events.txt"

WITHOUT_CKPT = [
    "start: running=0 restarts=0 add_hook=-1",
    "ckpt 1 at step 10: not-running restarts=0 hooks=[]",
    "ckpt 2 at step 20: not-running restarts=0 hooks=[]",
    "ckpt 3 at step 30: not-running restarts=0 hooks=[critical:left]",
    "end: restarts=0",
]


def resumed(n, restarts):
    return f"ckpt {n} at step {STEPS * n // 4}: resumed restarts={restarts} hooks=[pre:A pre:B resume:B resume:A]"


def restarted(n, restarts):
    return (f"ckpt {n} at step {STEPS * n // 4}: restarted restarts={restarts} "
            f"hooks=[pre:A pre:B restart:B restart:A]")


UNDER_CKPT = [
    "start: running=1 restarts=0 add_hook=0",
    restarted(1, 1),
    restarted(2, 2),
    "ckpt 3 at step 30: resumed restarts=2 hooks=[pre:A pre:B critical:left resume:B resume:A]",
    "end: restarts=2",
]


def read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []


def expect_lines(path, want, label):
    got = read_lines(path)
    if got != want:
        raise TestFailure(f"{label}: {path} holds\n    " + "\n    ".join(got) +
                          "\n  expected\n    " + "\n    ".join(want))


def wait_event(job, path, prefix, want, proc, label, timeout=120, stale=None):
    """Waits for the events line starting with `prefix`; it must equal `want`.
    `stale`: the killed run's line, there until the restart rolls the file back."""
    deadline = time.monotonic() + job.remaining(timeout)
    while True:
        lines = [line for line in read_lines(path) if line.startswith(prefix) and line != stale]
        if lines:
            if lines[-1] != want:
                raise TestFailure(f"{label}: the program wrote\n    {lines[-1]}\n  expected\n    {want}\n"
                                  f"  events so far: {read_lines(path)}")
            log(f"{label}: {want}")
            return
        if proc.poll() is not None:
            raise TestFailure(f"{label}: the program exited (status {proc.returncode}) before writing "
                              f"'{prefix}...'; events: {read_lines(path)}")
        if time.monotonic() > deadline:
            raise TestFailure(f"{label}: no '{prefix}...' line within {timeout}s; events: {read_lines(path)}")
        time.sleep(0.05)


def run_without_ckpt(job, argv, name="ref"):
    """The same binary without ckpt: returns its stdout path; checks what the
    API answered there."""
    work = job.path(name)
    os.makedirs(work)
    out = job.path(f"{name}.out")
    with open(out, "wb") as f:
        r = subprocess.run(argv(), stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.PIPE, cwd=work,
                           env=job.env, timeout=job.remaining(120))
    if r.returncode != 0:
        raise TestFailure(f"run without ckpt exited {r.returncode}: {r.stderr.decode(errors='replace')[-2000:]}")
    expect_lines(os.path.join(work, EVENTS), WITHOUT_CKPT, "without ckpt")
    log(f"without ckpt: {harness.step_lines(out)} steps; the API answered 'not running' throughout")
    return out


def run_api_cycles(job, argv):
    """argv(): the program's command line (STEPS, SLEEP_MS, EVENTS appended)."""
    def full():
        return [*argv(), str(STEPS), str(SLEEP_MS), EVENTS]

    ref_out = run_without_ckpt(job, full)
    work = job.path("run")
    os.makedirs(work)
    elsewhere = job.path("elsewhere")
    os.makedirs(elsewhere)
    events = os.path.join(work, EVENTS)
    out = job.path("app.out")
    proc = job.start([job.bins.launch, *full()], out, "ckpt_launch", cwd=work)
    for cycle in (1, 2):
        prefix = f"ckpt {cycle} at"
        wait_event(job, events, prefix, resumed(cycle, cycle - 1), proc, f"checkpoint {cycle} from inside")
        images = job.images()
        if not images:
            raise TestFailure(f"checkpoint {cycle}: the program was told 'resumed' but CKPT_DIR has no image")
        for img in images:
            job.verify_image(img, f"checkpoint {cycle}")
        job.kill_computation(proc, f"kill {cycle}")
        proc = job.start([job.bins.restart, job.ckpt_dir], job.path(f"restart{cycle}.out"),
                         f"ckpt_restart #{cycle}", cwd=elsewhere)
        wait_event(job, events, prefix, restarted(cycle, cycle), proc, f"restart {cycle}",
                   stale=resumed(cycle, cycle - 1))
    try:
        rc = proc.wait(timeout=job.remaining(120))
    except subprocess.TimeoutExpired:
        raise TestFailure("restart 2: the program did not finish within 120s")
    if rc != 0:
        raise TestFailure(f"restart 2: ckpt_restart exited with status {rc}, expected the program's 0")
    harness.compare_files(out, ref_out, "program stdout")
    expect_lines(events, UNDER_CKPT, "under ckpt")
    log("stdout equals the run without ckpt; the events file holds exactly the restarted lineage")
