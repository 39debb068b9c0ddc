"""e2e: periodic checkpoints. A program runs ~6 s under `ckpt_launch
--interval 1 --keep 2`: afterwards the last two committed generations
remain, with the older ones their incremental images need (and no other),
and each of the two, restarted explicitly (ckpt_restart $CKPT_DIR/.ckpt_gen_N),
finishes with exactly the output of an uninterrupted run. Then a checkpoint
of a ~1 GiB program is killed halfway (SIGKILL while it writes its image):
it is discarded, and the previous checkpoint restarts and finishes right."""

import glob
import os
import re
import signal
import subprocess
import time

import harness
from harness import TestFailure, log


def generations(ckpt_dir):
    dirs = glob.glob(os.path.join(ckpt_dir, ".ckpt_gen_*"))
    return sorted(int(d.rsplit("_", 1)[1]) for d in dirs)


def latest(ckpt_dir):
    return os.readlink(os.path.join(ckpt_dir, "ckpt_latest"))


def with_ancestors(job, gens):
    """`gens` and every generation their images name as parent (ckpt_info's
    lineage of incremental images), sorted."""
    needed, todo = set(gens), list(gens)
    while todo:
        gen = todo.pop()
        for img in glob.glob(os.path.join(job.ckpt_dir, f".ckpt_gen_{gen}", "ckpt_*.img")):
            text = subprocess.run([job.bins.info, img], capture_output=True, text=True).stdout
            for parent in map(int, re.findall(r"parent\s+generation (\d+)", text)):
                if parent not in needed:
                    needed.add(parent)
                    todo.append(parent)
    return sorted(needed)


def coordinator_log(job):
    try:
        with open(os.path.join(job.ckpt_dir, "ckpt_coordinator.log")) as f:
            return f.read()
    except OSError:
        return ""


def restart_and_finish(job, target, out, ref_out, label):
    proc = job.start([job.bins.restart, target], job.path(f"{label}.restart.out"), f"ckpt_restart {label}",
                     cwd=job.root)
    try:
        rc = proc.wait(timeout=job.remaining(120))
    except subprocess.TimeoutExpired:
        raise TestFailure(f"{label}: the restarted program did not finish within 120s")
    if rc != 0:
        raise TestFailure(f"{label}: ckpt_restart {target} exited {rc}, expected the program's 0")
    harness.compare_files(out, ref_out, f"{label}: program stdout")
    log(f"{label}: restarted from {target}, finished with the uninterrupted output")


def periodic(job, bins):
    argv = lambda work: [bins.example("mixed_memory"), "16", "60", "100", "11"]
    _, ref_out = harness.reference_run(job, harness.Scenario("periodic", argv))
    work = job.path("run")
    os.makedirs(work)
    out = job.path("app.out")
    proc = job.start([bins.launch, "--interval", "1", "--keep", "2", *argv(work)], out,
                     "ckpt_launch --interval 1 --keep 2", cwd=work)
    try:
        rc = proc.wait(timeout=job.remaining(120))
    except subprocess.TimeoutExpired:
        raise TestFailure("the program under ckpt_launch --interval 1 did not finish within 120s")
    if rc != 0:
        raise TestFailure(f"ckpt_launch --interval 1 exited {rc}")
    harness.compare_files(out, ref_out, "program stdout under periodic checkpoints")
    # The job's coordinator outlives its last process briefly (a program
    # that execs reconnects); stop it, so that the restarts below run under
    # a coordinator of their own, without periodic checkpoints.
    job.command("--quit", timeout=30)
    commits = re.findall(r"checkpoint (\d+) committed", coordinator_log(job))
    if len(commits) < 3:
        raise TestFailure(f"only {len(commits)} periodic checkpoints committed in ~6 s with --interval 1")
    gens = generations(job.ckpt_dir)
    log(f"{len(commits)} periodic checkpoints committed; generation dirs left: {gens}")
    # The last two, and the generations their incremental images need.
    kept = [int(c) for c in commits[-2:]]
    needed = with_ancestors(job, kept)
    if gens != needed:
        raise TestFailure(f"--keep 2 left generation dirs {gens}, expected {needed} (the last two, "
                          f"{kept}, and their parents)")
    if latest(job.ckpt_dir) != f".ckpt_gen_{gens[-1]}" or gens[-1] != int(commits[-1]):
        raise TestFailure(f"ckpt_latest -> {latest(job.ckpt_dir)}, last commit {commits[-1]}, dirs {gens}")
    # Oldest first, so each restart must cut the output back (file rollback).
    for gen in kept:
        target = os.path.join(job.ckpt_dir, f".ckpt_gen_{gen}")
        harness.Job.verify_image(job, glob.glob(os.path.join(target, "ckpt_*.img"))[0], f"generation {gen}")
        restart_and_finish(job, target, out, ref_out, f"generation {gen}")


def wait_for_partial_image(job, gen_dir, proc, min_bytes=32 << 20, timeout=60):
    deadline = time.monotonic() + job.remaining(timeout)
    while time.monotonic() < deadline:
        for tmp in glob.glob(os.path.join(gen_dir, "*")):
            try:
                if os.path.getsize(tmp) >= min_bytes and not os.path.exists(os.path.join(gen_dir, "MANIFEST")):
                    return tmp
            except OSError:
                pass
        if proc.poll() is not None:
            raise TestFailure(f"ckpt_command --checkpoint ended (status {proc.returncode}) before the "
                              f"image in {gen_dir} reached {min_bytes >> 20} MiB")
        time.sleep(0.005)
    raise TestFailure(f"no partial image in {gen_dir} within {timeout}s")


def killed_halfway(job, bins):
    sub = job.subjob("halfway")
    # 400 ms between steps: the program must outlast a loaded machine's first
    # checkpoint of 1 GiB (5 s in one CI run) and most of the second.
    argv = lambda work: [bins.example("mixed_memory"), "1024", "24", "400", "5"]
    _, ref_out = harness.reference_run(sub, harness.Scenario("halfway", argv))
    work = sub.path("run")
    os.makedirs(work)
    out = sub.path("app.out")
    # Every image full: the second one is large whatever the program wrote
    # between the two checkpoints, so it is still being written when killed.
    proc = sub.start([bins.launch, "--full-every", "1", *argv(work)], out, "ckpt_launch (1 GiB)",
                     cwd=work)
    harness.wait_steps(sub, out, 3, proc, "after ckpt_launch")
    sub.checkpoint("first checkpoint")
    gen = generations(sub.ckpt_dir)[-1]
    harness.wait_steps(sub, out, harness.step_lines(out) + 1, proc, "after the first checkpoint")
    cmd = subprocess.Popen([bins.command, "--checkpoint"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=sub.env)
    partial = wait_for_partial_image(sub, os.path.join(sub.ckpt_dir, f".ckpt_gen_{gen + 1}"), cmd)
    size = os.path.getsize(partial)
    os.kill(proc.pid, signal.SIGKILL)
    log(f"SIGKILLed the program while it wrote {os.path.basename(partial)} ({size >> 20} MiB so far)")
    try:
        _, err = cmd.communicate(timeout=sub.remaining(60))
    except subprocess.TimeoutExpired:
        cmd.kill()
        raise TestFailure("ckpt_command --checkpoint did not return after the program was killed")
    proc.wait(timeout=sub.remaining(20))
    if cmd.returncode == 0:
        raise TestFailure("ckpt_command --checkpoint exited 0 for a checkpoint whose process was killed")
    log(f"interrupted checkpoint reported: {err.decode().strip()}")
    if generations(sub.ckpt_dir) != [gen] or latest(sub.ckpt_dir) != f".ckpt_gen_{gen}":
        raise TestFailure(f"after the interrupted checkpoint: dirs {generations(sub.ckpt_dir)}, "
                          f"ckpt_latest -> {latest(sub.ckpt_dir)}; expected only generation {gen}")
    restart_and_finish(sub, sub.ckpt_dir, out, ref_out, "previous checkpoint")


def body(job, bins):
    periodic(job, bins)
    killed_halfway(job, bins)


if __name__ == "__main__":
    harness.main("sched_periodic", body)
