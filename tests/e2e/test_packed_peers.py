"""e2e (several hosts): connections first made after two old hosts were packed onto one.

When ckpt_restart --hosts packs two old hosts onto one new host, both old
addresses now share the new host's one real address. A connection made
after that restart between a process of each old host must still show each
end the other's old address (what Open MPI's TCP transport checks against
the addresses its peer published), and each end its own.

packed_peers (programs/packed_peers.c) runs as peer "a" on ckh1 and peer
"b" on ckh2 (emulated hosts, netns_hosts.py); each publishes its address
before any checkpoint, and connects to the other (TCP both ways, UDP both
ways) only when the test creates go<R>, checking every address accept,
getpeername, getsockname and recvfrom report against the published ones.

  1. Reference: a on ckh1, b on ckh2, no ckpt; go1 and go2 at once.
  2. Both under ckpt_launch, the coordinator on the head node; checkpoint 1
     (before any connection between them), kill.
  3. Restart packed: --hosts ckh1=ckh3,ckh2=ckh3 (neither old address is
     there); go1: round 1 connects; checkpoint 2, kill.
  4. Restart the packed checkpoint onto ckh1 (a's old address is real there,
     b's moves to it): the round-1 connections come back; go2: round 2
     connects anew; both run to the end.
  Each peer's summary must equal the reference's byte for byte.

Needs root (network namespaces): SKIPs (77) with the reason when the
emulated cluster cannot be built."""

import os
import subprocess

import harness
import netns_hosts
from test_multi_host import (checkpoint, ckpt_env, kill_job, rsh, start_coordinator, start_restart,
                             wait_file_line, wait_progress)

PORTS = {"a": 7720, "b": 7721}
HOSTS = {"a": "ckh1", "b": "ckh2"}


def peer_argv(prog, me, other, work, outfile):
    return [prog, me, other, str(PORTS[me]), netns_hosts.HOSTS[HOSTS[other]], str(PORTS[other]), work, "2",
            outfile]


def go(work, round_no):
    with open(os.path.join(work, f"go{round_no}"), "w"):
        pass


def reference_run(job, prog):
    work = job.path("ref")
    os.makedirs(work)
    procs = {}
    for me, other in (("a", "b"), ("b", "a")):
        procs[me] = job.start(rsh(HOSTS[me], *peer_argv(prog, me, other, work, os.path.join(work, f"{me}.txt"))),
                              job.path(f"ref_{me}.out"), f"reference peer {me} ({HOSTS[me]})", cwd=work)
    plist = [(p, f"reference peer {me}") for me, p in procs.items()]
    for me in procs:
        wait_file_line(job, job.path(f"ref_{me}.out"), "ready", plist, f"reference peer {me}", 30)
    go(work, 1)
    go(work, 2)
    for me, p in procs.items():
        rc = p.wait(timeout=job.remaining(60))
        if rc != 0:
            raise harness.TestFailure(f"reference peer {me} (no ckpt) exited {rc}:\n"
                                      f"{harness.tail(job.path(f'ref_{me}.out'))}")
    harness.log("reference run: " + "; ".join(
        f"{me}: {open(os.path.join(work, f'{me}.txt')).read().strip().replace(chr(10), ', ')}" for me in procs))
    return work


def fail_lines(outs):
    """Every peer's FAIL: line (the first peer to fail makes the other's connect fail too)."""
    lines = []
    for me, out in outs.items():
        with open(out, "rb") as f:
            lines += [f"peer {me}: {l}" for l in f.read().decode("utf-8", "replace").splitlines() if "FAIL:" in l]
    return lines


def wait_line(job, outs, line, procs, label, timeout=60):
    """Waits until every peer's stdout holds `line`; a failure names every peer's FAIL: line."""
    try:
        for me, out in outs.items():
            wait_file_line(job, out, line, procs, f"{label}: peer {me}", timeout)
    except harness.TestFailure as e:
        raise harness.TestFailure("\n  ".join([str(e), *fail_lines(outs)]))


def body(job, bins):
    prog = harness.e2e_program(bins, "packed_peers")
    job.env["CKPT_COORD_HOST"] = netns_hosts.HEAD
    ref = reference_run(job, prog)

    # Launch a on ckh1 and b on ckh2; checkpoint 1 before they ever connected; kill.
    start_coordinator(job, bins)
    work = job.path("run")
    os.makedirs(work)
    outs = {me: job.path(f"{me}.out") for me in PORTS}
    launched = {}
    for me, other in (("a", "b"), ("b", "a")):
        argv = peer_argv(prog, me, other, work, os.path.join(work, f"{me}.txt"))
        launched[me] = job.start(rsh(HOSTS[me], *ckpt_env(job), bins.launch, *argv), outs[me],
                                 f"ckpt_launch peer {me} ({HOSTS[me]})", cwd=work)
    procs = [(p, f"peer {me}'s ckpt_launch") for me, p in launched.items()]
    for me in outs:
        wait_file_line(job, outs[me], "ready", procs, f"after ckpt_launch: peer {me}", 30)
    wait_progress(job, outs["a"], 4, procs, "after ckpt_launch")
    checkpoint(job, bins, "checkpoint 1", ["ckh1", "ckh2"])
    wait_progress(job, outs["b"], 2, procs, "checkpoint 1: the job must keep running after the checkpoint")
    kill_job(job, procs, "kill 1")

    # Restart 1: both old hosts packed onto ckh3; the first connections now.
    restart = start_restart(job, bins, "ckh1=ckh3,ckh2=ckh3", 1)
    procs = [(restart, "ckpt_restart (cycle 1)")]
    for me in outs:
        wait_progress(job, outs[me], 2, procs, f"restart 1: peer {me} must progress after the restart")
    go(work, 1)
    wait_line(job, outs, "round 1 done", procs, "restart 1 (packed on ckh3), round 1")
    harness.log("restart 1: round 1 connected with the right addresses on both ends")
    checkpoint(job, bins, "checkpoint 2", ["ckh3"])
    wait_progress(job, outs["a"], 2, procs, "checkpoint 2: the job must keep running after the checkpoint")
    kill_job(job, procs, "kill 2")

    # Restart 2: the packed checkpoint onto ckh1 (a's old address is real
    # there); round 1's connections come back, round 2 connects anew.
    restart = start_restart(job, bins, "ckh3=ckh1", 2)
    procs = [(restart, "ckpt_restart (cycle 2)")]
    for me in outs:
        wait_progress(job, outs[me], 2, procs, f"restart 2: peer {me} must progress after the restart")
    go(work, 2)
    wait_line(job, outs, "OK", procs, "restart 2 (packed on ckh1): the end")
    try:
        rc = restart.wait(timeout=job.remaining(60))
    except subprocess.TimeoutExpired:
        raise harness.TestFailure("restart 2: ckpt_restart did not end 60 s after both peers ended")
    if rc != 0:
        raise harness.TestFailure(f"restart 2: ckpt_restart exited with status {rc}, expected the peers' 0")
    for me in outs:
        harness.compare_files(os.path.join(work, f"{me}.txt"), os.path.join(ref, f"{me}.txt"), f"peer {me}'s summary")
    harness.log("both summaries equal the reference: " + "; ".join(
        f"{me}: {open(os.path.join(work, f'{me}.txt')).read().strip().replace(chr(10), ', ')}" for me in outs))


def main():
    netns_hosts.run_test("packed_peers", netns_hosts, body)


if __name__ == "__main__":
    main()
