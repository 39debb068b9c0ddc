"""e2e (a coordinator that comes back, issue 14): a process tree (proc_pipes:
a parent, three workers, a grandchild, pipes with data in flight) runs under
ckpt; after each checkpoint its coordinator is SIGKILLed. The processes run
on; ckpt_command says (exit 2) that processes of the job run without a
coordinator. A new coordinator is started on the same port and checkpoint
dir: every process registers again by itself with the same identity (vpid,
parent, program, host), and a checkpoint on the new coordinator commits the
next generation without touching the previous one. Then the usual kill and
restart from that checkpoint; the second cycle does it all again with the
restored tree. The final output must equal an uninterrupted run's."""

import json
import os
import signal
import subprocess
import time

import harness


def identities(job):
    """(vpid, ppid, program, host) of every registered process, and the
    processes the coordinator knows to run unregistered."""
    rc, out, err = job.command("--status", "--json", timeout=20)
    if rc != 0:
        raise harness.TestFailure(f"ckpt_command --status --json exited {rc}: {err.strip()}")
    data = json.loads(out)
    procs = sorted((p["vpid"], p["ppid"], p["program"], p["host"]) for p in data["processes"])
    return procs, data.get("missing", []), data["generation"]


def kill_coordinators(job, label):
    pids = [p for p in harness.descendants(os.getpid()) if harness.is_coordinator(p)]
    if not pids:
        raise harness.TestFailure(f"{label}: no coordinator process found to kill")
    for pid in pids:
        harness.kill_pid(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(p in harness.descendants(os.getpid()) and not harness.proc_is_zombie(p) for p in pids):
        if time.monotonic() > deadline:
            raise harness.TestFailure(f"{label}: coordinator {pids} survived SIGKILL")
        time.sleep(0.05)
    for p, *_ in job.procs:  # a coordinator the test started itself
        if p.pid in pids:
            p.wait(timeout=10)
    job.reap_orphans()
    harness.log(f"{label}: SIGKILLed the coordinator {pids}")


def expect_no_coordinator(job, label, count):
    for args in (["--status"], ["--checkpoint"]):
        rc, out, err = job.command(*args, timeout=30)
        word = "runs" if count == 1 else "run"
        if rc != 2 or f"{count} process" not in err or f"{word} without a coordinator" not in err:
            raise harness.TestFailure(f"{label}: ckpt_command {args[0]} without a coordinator exited {rc}, "
                                      f"expected 2 and '{count} processes ... run without a coordinator':\n"
                                      f"  stdout: {out.strip()}\n  stderr: {err.strip()}")
        harness.log(f"{label}: ckpt_command {args[0]}: {err.strip()}")


def wait_registered(job, label, want):
    deadline = time.monotonic() + 30
    while True:
        try:
            procs, missing, gen = identities(job)
        except harness.TestFailure as e:  # the new coordinator is not listening yet
            procs, missing, gen = [], [str(e)], None
        if procs == want and not missing:
            return gen
        if time.monotonic() > deadline:
            raise harness.TestFailure(f"{label}: after 30s the new coordinator has {procs} (missing {missing}), "
                                      f"expected {want}")
        time.sleep(0.2)


def latest_generation(job):
    target = os.readlink(os.path.join(job.ckpt_dir, "ckpt_latest"))
    return int(target.rsplit("_", 1)[1])


def body(job, bins):
    def after_checkpoint(job, cycle):
        label = f"coordinator death {cycle}"
        before, _, _ = identities(job)
        gen = latest_generation(job)
        harness.log(f"{label}: {len(before)} processes registered, generation {gen} committed")
        kill_coordinators(job, label)
        expect_no_coordinator(job, label, len(before))
        job.start([bins.coordinator, "--port", str(job.port), "--ckpt-dir", job.ckpt_dir],
                  job.path(f"coordinator{cycle}.out"), f"new coordinator #{cycle}")
        t0 = time.monotonic()
        seen = wait_registered(job, label, before)
        harness.log(f"{label}: all {len(before)} processes registered again in {time.monotonic() - t0:.1f}s")
        if seen != gen:
            raise harness.TestFailure(f"{label}: the new coordinator reports generation {seen}, expected {gen}")
        job.checkpoint(f"{label}: checkpoint on the new coordinator")
        if latest_generation(job) != gen + 1:
            raise harness.TestFailure(f"{label}: committed generation {latest_generation(job)}, expected {gen + 1}")
        if not os.path.isdir(os.path.join(job.ckpt_dir, f".ckpt_gen_{gen}")):
            raise harness.TestFailure(f"{label}: generation {gen} was removed by the new coordinator's checkpoint")

    prog = harness.e2e_program(bins, "proc_pipes")
    sc = harness.Scenario("coordinator_restart", lambda work: [prog, "120", "150"], tree=True,
                          after_checkpoint=after_checkpoint)
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("coordinator_restart", body)
