"""e2e (CPU binding, hwloc): a program started bound to CPU 1
(`taskset -c 1 ckpt_launch ...`) has that binding in its image (ckpt_info
shows it). Restart 1 runs under `taskset -c 0`, where CPU 1 is not available:
ckpt_restart must say, in one line, that it mapped the saved CPUs, and the
restored process must be bound to CPU 0. Checkpoint 2 saves that binding;
restart 2 runs unbound, where CPU 0 exists: the process must be bound to
CPU 0 again, without a word. Output equal to an uninterrupted run's.
SKIPs on a machine with fewer than 2 usable CPUs."""

import os
import re
import time

import harness


def allowed_cpus(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(l.split(":", 1)[1].strip() for l in f if l.startswith("Cpus_allowed_list"))


def app_pid(job):
    pids = job.status_real_pids()
    if len(pids) != 1:
        raise harness.TestFailure(f"expected one process in --status, got {pids}")
    return pids[0]


def body(job, bins):
    if len(os.sched_getaffinity(0)) < 2 or not {0, 1} <= os.sched_getaffinity(0):
        print("SKIP cpu_binding: needs CPUs 0 and 1", flush=True)
        raise SystemExit(harness.SKIP_EXIT)
    plain_start, plain_checkpoint = job.start, job.checkpoint

    def start(argv, stdout_path, label, cwd=None, env=None):
        if label == "ckpt_launch":
            argv = ["taskset", "-c", "1"] + argv
        elif label == "ckpt_restart #1":
            argv = ["taskset", "-c", "0"] + argv
        proc = plain_start(argv, stdout_path, label, cwd, env)
        if label == "ckpt_restart #2":
            check_last_restart(proc)
        return proc

    def check_last_restart(proc):
        deadline = time.monotonic() + job.remaining(10)
        while time.monotonic() < deadline:
            pids = job.status_real_pids()
            if len(pids) == 1 and proc.poll() is None:
                try:
                    got = allowed_cpus(pids[0])
                except OSError:
                    got = None
                if got is not None:
                    if got != "0":
                        raise harness.TestFailure(f"restart 2: the process is bound to CPUs {got}, expected 0")
                    harness.log("restart 2: the process is bound to CPU 0 again")
                    return
            time.sleep(0.05)
        raise harness.TestFailure("restart 2: the restored process did not register within 10s")

    def checkpoint(label):
        want = {"checkpoint 1": "1", "checkpoint 2": "0"}[label]
        got = allowed_cpus(app_pid(job))
        if got != want:
            raise harness.TestFailure(f"{label}: the process is bound to CPUs {got}, expected {want}")
        harness.log(f"{label}: the process is bound to CPU {got}")
        if label == "checkpoint 2":
            err = job.path("restart1.err")
            with open(err) as f:
                text = f.read()
            if not re.search(r"saved CPUs 1 are not all available here; bound to CPUs 0", text):
                raise harness.TestFailure(f"ckpt_restart under taskset -c 0 did not report the mapping:\n{text}")
        images = plain_checkpoint(label)
        rc, out, _ = job.run([bins.info, images[0]], label="ckpt_info")
        if not re.search(r"cpu binding.*\n\s+vtid \d+\s+cpus 1\b" if label == "checkpoint 1"
                         else r"cpu binding.*\n\s+vtid \d+\s+cpus 0\b", out):
            raise harness.TestFailure(f"{label}: ckpt_info does not show the binding:\n{out[:1500]}")
        return images

    job.start, job.checkpoint = start, checkpoint
    sc = harness.Scenario("cpu_binding", lambda work: [bins.example("mixed_memory"), "32", "60", "40"])
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("cpu_binding", body)
