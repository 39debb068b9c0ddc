"""e2e (sockets): TCP bytes in flight between the captures of a connection's
two ends. tcp_inflight (programs/tcp_inflight.c) streams 12 MiB from a sender
child to its parent over TCP, as fast as the network takes it; the parent
checks every byte. Everything runs in a network namespace of its own, ckto1,
whose loopback is rate-limited (tbf qdisc, 16 Mbit/s, up to 100 ms queued),
so at every checkpoint the sender's send queue holds bytes not yet ACKed and
ACKs keep arriving while the processes are stopped. The sender holds 1000
descriptors on /dev/null before its socket, so its descriptors take longer
to capture than the receiver's: with both ends captured in the same phase
(as before), every checkpoint lost a few hundred KB (the restart now refuses
such images, naming the gap).

The two ends are captured by different processes at different moments. If
the receiver's queue were captured before the sender's, bytes ACKed in
between would be in neither image and the restarted receiver would miss
them (it fails at the first wrong byte, naming the offset). The runtime
takes send queues in the Suspend phase and receive queues in the Snapshot
phase, after the coordinator's barrier; after each checkpoint this test
reads the images with ckpt_info and logs how many bytes the sender's queue
held and how many of them reached the receiver before its capture (the
window the ordering closes). Two checkpoint/kill/restart cycles; stdout must
equal the uninterrupted run's.

Needs root (a network namespace): SKIPs (77) with the reason otherwise."""

import os
import re
import shutil
import subprocess
import sys

NS = "ckto1"
SHAPE = ["tbf", "rate", "16mbit", "burst", "64kb", "latency", "100ms"]
SOCK_RE = re.compile(r"inet stream connected (\S+) -> (\S+?)(?:,|$)(.*)$", re.M)


def ip(*args):
    return subprocess.run(["ip", *args], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)


def outside():
    """Makes the namespace, runs this script inside it, removes it."""
    if os.geteuid() != 0:
        print(f"SKIP tcp_inflight: a network namespace needs root (uid {os.geteuid()})", flush=True)
        sys.exit(77)
    if not shutil.which("ip"):
        print("SKIP tcp_inflight: no `ip` command (iproute2) to make a network namespace", flush=True)
        sys.exit(77)
    ip("netns", "delete", NS)  # an earlier crashed run's
    r = ip("netns", "add", NS)
    if r.returncode != 0:
        print(f"SKIP tcp_inflight: cannot make network namespace {NS}: {r.stderr.decode().strip()}", flush=True)
        sys.exit(77)
    try:
        r = ip("-n", NS, "link", "set", "lo", "mtu", "1500", "up")
        if r.returncode != 0:
            sys.exit(f"FAIL tcp_inflight: cannot bring up lo in {NS}: {r.stderr.decode().strip()}")
        r = subprocess.run(["tc", "-n", NS, "qdisc", "add", "dev", "lo", "root", *SHAPE], capture_output=True) \
            if shutil.which("tc") else None
        shaped = "1" if r and r.returncode == 0 else "0"
        if shaped == "0":
            why = r.stderr.decode().strip() if r else "no `tc` command"
            print(f"tcp_inflight: no tbf qdisc ({why}): loopback at full speed", flush=True)
        env = dict(os.environ, CKPT_E2E_TCP_SHAPED=shaped)
        rc = subprocess.run(["ip", "netns", "exec", NS, sys.executable, os.path.abspath(__file__), "--inside"],
                            stdin=subprocess.DEVNULL, env=env).returncode
    finally:
        ip("netns", "delete", NS)
    sys.exit(rc)


def inside():
    import harness

    flights = []

    def report_in_flight(job, cycle):
        """Pairs the two ends of the stream in the images and logs what was in flight."""
        rc, out, err = job.run([job.bins.info, *job.images()], label="ckpt_info")
        if rc != 0:
            raise harness.TestFailure(f"checkpoint {cycle}: ckpt_info exited {rc}: {err.strip()}")
        ends = {}
        for local, peer, rest in SOCK_RE.findall(out):
            seq = re.search(r"seq recv (\d+) send (\d+)", rest)
            send = re.search(r"(\d+) bytes to send", rest)
            queued = re.search(r"(\d+) bytes queued", rest)
            if seq:
                ends[(local, peer)] = (int(seq.group(1)), int(seq.group(2)), int(send.group(1)) if send else 0,
                                       int(queued.group(1)) if queued else 0)
        streams = 0
        for (local, peer), (_, send_seq, to_send, _) in ends.items():
            other = ends.get((peer, local))
            if not other:
                continue
            recv_seq, queued = other[0], other[3]
            first = (send_seq - to_send) & 0xFFFFFFFF
            moved = ((recv_seq - first + 2**31) & 0xFFFFFFFF) - 2**31
            harness.log(f"checkpoint {cycle}: {local} -> {peer}: {to_send} bytes in flight in the sender's "
                        f"send queue, {queued} in the receiver's queue; {moved} bytes reached the receiver "
                        f"between the two captures")
            if moved < 0:
                job.problem(f"checkpoint {cycle}: {-moved} bytes of {local} -> {peer} are in neither image")
            flights.append(to_send)
            streams += 1
        if not ends:
            job.problem(f"checkpoint {cycle}: ckpt_info shows no connected TCP socket with sequence numbers:\n{out}")
        elif streams == 0:
            job.problem(f"checkpoint {cycle}: ckpt_info shows no TCP connection with both ends:\n{out}")

    def body(job, bins):
        prog = harness.e2e_program(bins, "tcp_inflight")
        sc = harness.Scenario("tcp_inflight", lambda work: [prog, "12", "256", "1000"], first_steps=3, tree=True,
                              after_checkpoint=report_in_flight)
        harness.run_cycles(job, sc)
        if not any(flights) and os.environ.get("CKPT_E2E_TCP_SHAPED") == "1":
            job.problem("no checkpoint caught bytes in flight in the sender's send queue: the race was not exercised")

    harness.main("tcp_inflight", body)


if __name__ == "__main__":
    inside() if "--inside" in sys.argv[1:] else outside()
