"""What the stress scenarios (test_thread_stress.py, test_fork_stress.py)
share: checkpoints at random moments under ckpt_launch, each of which must
commit a new generation while the program keeps progressing, then two
checkpoint/kill/restart cycles and the final stdout compared with an
uninterrupted run's."""

import os
import random
import re
import statistics
import time

import harness
from harness import TestFailure, log


def committed_generation(job):
    """N of $CKPT_DIR/ckpt_latest -> .ckpt_gen_N (docs/usage.md), or None."""
    try:
        m = re.search(r"ckpt_gen_(\d+)$", os.readlink(os.path.join(job.ckpt_dir, "ckpt_latest")))
    except OSError:
        return None
    return int(m.group(1)) if m else None


def random_checkpoints(job, proc, out, count, rng):
    """`count` checkpoints at random moments; fails on a hang, a failed
    checkpoint, one that committed no new generation, a dead program or no
    progress."""
    times = []
    gen = committed_generation(job)
    for i in range(1, count + 1):
        time.sleep(rng.uniform(0.02, 0.2))
        if proc.poll() is not None:
            raise TestFailure(f"stress checkpoint {i}: the program exited (status {proc.returncode}) after "
                              f"{i - 1} checkpoints, with {harness.step_lines(out)} step lines; if it just "
                              f"finished, raise CKPT_E2E_CHURN_ROUNDS")
        t0 = time.monotonic()
        rc, sout, serr = job.command("--checkpoint", timeout=60)
        dt = time.monotonic() - t0
        times.append(dt)
        if rc != 0:
            raise TestFailure(f"stress checkpoint {i}: ckpt_command --checkpoint exited {rc} after {dt:.2f}s\n"
                              f"  stdout: {sout.strip()}\n  stderr: {serr.strip()}")
        images = job.images()
        if not images:
            raise TestFailure(f"stress checkpoint {i}: reported success but no $CKPT_DIR/ckpt_*.img")
        new_gen = committed_generation(job)
        if gen is not None and new_gen != gen + 1:
            raise TestFailure(f"stress checkpoint {i}: ckpt_latest names generation {new_gen}, expected {gen + 1}")
        gen = new_gen
        if i % 10 == 0 or i == count:
            for img in images:
                job.verify_image(img, f"stress checkpoint {i}")
            log(f"stress checkpoint {i}: ok, generation {gen} ({harness.step_lines(out)} step lines)")
        if proc.poll() is not None:
            raise TestFailure(f"stress checkpoint {i}: the program died (status {proc.returncode}) right after it")
    log(f"{count} checkpoints: min {min(times):.2f}s, median {statistics.median(times):.2f}s, "
        f"max {max(times):.2f}s")
    n = harness.step_lines(out)
    harness.wait_steps(job, out, n + 2, proc, "after the stress checkpoints: the program must keep progressing", 60)


def kill_restart_cycles(job, proc, out, cycles):
    """The second half of harness.run_cycles: checkpoint, kill, restart, twice."""
    elsewhere = job.path("elsewhere")
    os.makedirs(elsewhere)
    for cycle in range(1, cycles + 1):
        label = f"checkpoint {cycle}"
        images = job.checkpoint(label)
        n = harness.step_lines(out)
        harness.wait_steps(job, out, n + 2, proc, f"{label}: the program must keep running after the checkpoint", 60)
        job.kill_computation(proc, f"kill {cycle}")
        n_kill = harness.step_lines(out)
        log(f"kill {cycle}: killed with {n_kill} step lines in the output")
        target = images if cycle % 2 == 1 else [job.ckpt_dir]
        proc = job.start([job.bins.restart, *target], job.path(f"restart{cycle}.out"), f"ckpt_restart #{cycle}",
                         cwd=elsewhere)
        if cycle < cycles:
            harness.wait_steps(job, out, n_kill + 1, proc, f"restart {cycle}: progress after the restart", 120)
    return proc


def seeded_rng():
    """A random.Random seeded from CKPT_E2E_SEED, or from the clock (logged)."""
    seed = int(os.environ.get("CKPT_E2E_SEED", str(int(time.time() * 1000) % 1000000)))
    log(f"random seed {seed} (set CKPT_E2E_SEED={seed} to repeat the delays)")
    return random.Random(seed)


def run_stress(job, bins, sc, count, rng):
    """Scenario `sc` under ckpt_launch: `count` random checkpoints, two
    kill/restart cycles, and stdout equal to an uninterrupted run's."""
    ref_work, ref_out = harness.reference_run(job, sc)
    work = job.path("run")
    os.makedirs(work)
    out = job.path("app.out")
    proc = job.start([bins.launch, *sc.argv(work)], out, "ckpt_launch", cwd=work)
    harness.wait_steps(job, out, sc.first_steps, proc, "after ckpt_launch")
    random_checkpoints(job, proc, out, count, rng)
    proc = kill_restart_cycles(job, proc, out, 2)
    try:
        rc = proc.wait(timeout=job.remaining(sc.timeout))
    except harness.subprocess.TimeoutExpired:
        raise TestFailure(f"the restarted program did not finish within {sc.timeout}s")
    if rc != 0:
        raise TestFailure(f"last restart: ckpt_restart exited with status {rc}, expected the program's 0")
    harness.compare_files(out, ref_out, "program stdout")
    log(f"stdout ({os.path.getsize(out)} bytes) equals the uninterrupted run's")
