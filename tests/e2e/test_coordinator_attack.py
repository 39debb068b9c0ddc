"""e2e (issue 18 part 4, the coordinator under attack): while a real job runs
under ckpt_launch through two checkpoint/kill/restart cycles (exact final
output), an attacker opens at least 1,000 connections that never
authenticate: silent ones held open, garbage, frames announcing 64 MiB or
1 MiB (more than a Hello may have), half frames cut by a disconnect, Hellos
with a wrong proof, and connect-then-close. The coordinator runs with
CKPT_MAX_PENDING=64 so that the bound on pending connections is reached.

Checked: every checkpoint commits and the final output equals an
uninterrupted run's (harness.run_cycles); the coordinators' open fds stay
under the bound (pending cap + what the job needs) and their RSS under
baseline + 32 MiB, during and after the attack; every bad peer is in the
coordinator log exactly once, by name (at most 10 lines per 10 s window) or
counted in a summary line, and nothing else (no line per frame)."""

import os
import random
import re
import socket
import struct
import threading
import time

import harness
import proc_usage

MAX_PENDING = 64
CONNECTIONS = 1000
# What a coordinator holds besides pending peers: stdio, log, listener,
# epoll, the job's process, ckpt_command and launcher connections.
FD_ALLOWANCE = 24
RSS_ALLOWANCE_KB = 32 * 1024
HELLO, VERSION = 2, 2
NAMED_RE = re.compile(r"ckpt_coordinator\[(\d+)\]: dropped a connection from (\S+) before it authenticated: (.*)$")
SUMMARY_RE = re.compile(r"ckpt_coordinator\[(\d+)\]: dropped (\d+) more connections before they authenticated")


def frame_header(size, msg_type=HELLO, version=VERSION):
    return struct.pack("<IHH", size, msg_type, version)


class Attacker:
    """Connects again and again, each time misbehaving in one of the KINDS,
    until told to stop and CONNECTIONS connections were answered."""

    KINDS = ["silent", "garbage", "oversized", "big_frame", "half_frame", "wrong_secret", "hang_up"]

    def __init__(self, port):
        self.port = port
        self.stop = threading.Event()
        self.answered = 0  # connections that got the coordinator's Challenge
        self.unanswered = 0  # accepted by the kernel, no Challenge within 3 s
        self.refused = 0  # no coordinator listening at that moment
        self.by_kind = {k: 0 for k in self.KINDS}
        self.silent = []  # held open, never a byte sent
        self.rng = random.Random(18)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.error = None

    def run(self):
        try:
            i = 0
            while not (self.stop.is_set() and self.answered >= CONNECTIONS):
                self.one(self.KINDS[i % len(self.KINDS)])
                i += 1
                time.sleep(0.008)
        except Exception as e:  # reported by the test
            self.error = repr(e)
        finally:
            for s in self.silent:
                s.close()

    def one(self, kind):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=3)
        except OSError:
            self.refused += 1
            time.sleep(0.05)
            return
        try:
            challenge = b""
            while len(challenge) < 24:
                chunk = s.recv(24 - len(challenge))
                if not chunk:
                    break
                challenge += chunk
        except OSError:
            challenge = b""
        if len(challenge) < 24:
            self.unanswered += 1
            s.close()
            return
        self.answered += 1
        self.by_kind[kind] += 1
        if kind == "silent":
            self.silent.append(s)
            self.silent = [x for x in self.silent if not self.closed_by_peer(x)]
            return
        try:
            self.misbehave(s, kind)
        except OSError:
            pass  # the coordinator hung up first: fine
        s.close()

    def misbehave(self, s, kind):
        if kind == "garbage":
            s.sendall(self.rng.randbytes(200))
        elif kind == "oversized":
            s.sendall(frame_header(64 << 20) + self.rng.randbytes(64 << 10))
        elif kind == "big_frame":
            s.sendall(frame_header(1 << 20) + self.rng.randbytes(256 << 10))
        elif kind == "half_frame":
            s.sendall(frame_header(4000) + self.rng.randbytes(1000))
        elif kind == "wrong_secret":
            s.sendall(frame_header(9) + struct.pack("<QB", self.rng.getrandbits(64), 2))
            s.settimeout(2)
            s.recv(4096)  # the Reject
        # hang_up: nothing

    @staticmethod
    def closed_by_peer(s):
        s.setblocking(False)
        try:
            return s.recv(1) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True
        finally:
            s.settimeout(3)


class Sampler:
    """Every 0.1 s: fds and RSS of each coordinator below the harness."""

    def __init__(self):
        self.stop = threading.Event()
        self.peak = {}  # pid -> {"fds", "rss_kb"}
        self.last = {}
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.wait(0.1):
            for pid in coordinators():
                u = proc_usage.usage(pid)
                if not u:
                    continue
                p = self.peak.setdefault(pid, {"fds": 0, "rss_kb": 0})
                p["fds"] = max(p["fds"], u["fds"])
                p["rss_kb"] = max(p["rss_kb"], u["rss_kb"])
                self.last[pid] = u


def coordinators():
    return [p for p in harness.descendants(os.getpid()) if harness.is_coordinator(p) and not harness.proc_is_zombie(p)]


def wait_for_coordinator(job, timeout=60):
    """The pid of the first coordinator, once it listens (its log says so)."""
    listening = re.compile(r"ckpt_coordinator\[(\d+)\]: listening on ")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pids = [int(m.group(1)) for m in map(listening.search, read_log(job)) if m]
        except OSError:
            pids = []
        if pids:
            return pids[0]
        time.sleep(0.05)
    raise harness.TestFailure("no coordinator listened within 60 s of ckpt_launch")


def read_log(job):
    path = os.path.join(job.ckpt_dir, "ckpt_coordinator.log")
    with open(path, errors="replace") as f:
        return f.read().splitlines()


def check_log(job, attacker):
    lines = read_log(job)
    named = [m for m in map(NAMED_RE.search, lines) if m]
    summaries = [m for m in map(SUMMARY_RE.search, lines) if m]
    total = len(named) + sum(int(m.group(2)) for m in summaries)
    for m in summaries:
        harness.log(f"  {m.string[m.start():]}")
    harness.log(f"coordinator log: {len(lines)} lines, {len(named)} bad peers named, "
                f"{len(summaries)} summary lines counting {total - len(named)} more")
    # Each answered attacker connection is accounted for once; a connection
    # the kernel queued but the attacker gave up on may be too, and so may
    # a process of the job killed during its handshake.
    high = attacker.answered + attacker.unanswered + 4
    if not attacker.answered <= total <= high:
        job.problem(f"the coordinator log accounts for {total} bad peers; the attacker made {attacker.answered} "
                    f"answered (+{attacker.unanswered} unanswered) connections")
    addresses = [m.group(2) for m in named]
    if len(set(addresses)) != len(addresses):
        job.problem("a bad peer was named twice in the coordinator log")
    for pid in {m.group(1) for m in named}:
        stamps = [line[:19] for line in lines if (m := NAMED_RE.search(line)) and m.group(1) == pid]
        windows = (time.mktime(time.strptime(stamps[-1], "%Y-%m-%d %H:%M:%S")) -
                   time.mktime(time.strptime(stamps[0], "%Y-%m-%d %H:%M:%S"))) / 10 + 2
        if len(stamps) > 10 * windows:
            job.problem(f"coordinator {pid} named {len(stamps)} bad peers within {windows:.0f} windows of 10 s")
    if len(lines) > 400:
        job.problem(f"the coordinator log has {len(lines)} lines: one per frame or per retry?")


def check_usage(job, sampler, baseline):
    fd_bound = baseline["fds"] + MAX_PENDING + FD_ALLOWANCE
    rss_bound = baseline["rss_kb"] + RSS_ALLOWANCE_KB
    for pid, peak in sorted(sampler.peak.items()):
        harness.log(f"coordinator {pid}: at most {peak['fds']} fds (bound {fd_bound}), "
                    f"{peak['rss_kb'] / 1024:.1f} MiB RSS (bound {rss_bound / 1024:.1f}); "
                    f"last seen {sampler.last.get(pid)}")
        if peak["fds"] > fd_bound:
            job.problem(f"coordinator {pid} held {peak['fds']} fds, more than {fd_bound}")
        if peak["rss_kb"] > rss_bound:
            job.problem(f"coordinator {pid} reached {peak['rss_kb']} KiB RSS, more than {rss_bound}")


def wait_coordinators_gone(job, timeout=30):
    deadline = time.monotonic() + timeout
    while coordinators():
        if time.monotonic() > deadline:
            job.problem(f"the coordinator did not exit within {timeout} s after the job ended")
            return
        time.sleep(0.1)


def body(job, bins):
    job.env["CKPT_MAX_PENDING"] = str(MAX_PENDING)
    attacker = Attacker(job.port)
    sampler = Sampler()
    state = {}

    def start_attack():
        pid = wait_for_coordinator(job)
        state["baseline"] = proc_usage.usage(pid)
        harness.log(f"coordinator {pid} before the attack: {state['baseline']}")
        sampler.thread.start()
        attacker.thread.start()

    def after_checkpoint(job, cycle):
        harness.log(f"checkpoint {cycle} committed under attack: {attacker.answered} connections so far")
        if not attacker.thread.is_alive():
            job.problem(f"checkpoint {cycle} was not taken under attack (the attacker was not running)")
        if cycle == 2:
            attacker.stop.set()

    starter = threading.Thread(target=start_attack, daemon=True)
    starter.start()
    sc = harness.Scenario("coordinator_attack", lambda work: [bins.example("mixed_memory"), "48", "400", "30", "5"],
                          after_checkpoint=after_checkpoint)
    try:
        harness.run_cycles(job, sc)
    finally:
        attacker.stop.set()
        attacker.thread.join(timeout=60) if attacker.thread.ident else None
    if attacker.error:
        raise harness.TestFailure(f"the attacker failed: {attacker.error}")
    harness.log(f"attacker: {attacker.answered} connections answered ({attacker.by_kind}), "
                f"{attacker.unanswered} unanswered, {attacker.refused} refused")
    if attacker.answered < CONNECTIONS:
        job.problem(f"the attacker made only {attacker.answered} connections")
    wait_coordinators_gone(job)
    sampler.stop.set()
    sampler.thread.join(timeout=5) if sampler.thread.ident else None
    check_usage(job, sampler, state["baseline"])
    check_log(job, attacker)


if __name__ == "__main__":
    harness.main("coordinator_attack", body)
