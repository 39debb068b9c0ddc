"""Figures for one job on several (emulated) hosts: the cluster of
tests/e2e/netns_hosts.py (head node 10.77.0.1 on bridge ckbr0, hosts ckh1,
ckh2, ckh3 as network namespaces; netns_rsh runs a command on one).

K pairs of tests/e2e/programs/net_peers: K servers on ckh1 and K clients on
ckh2, each client streaming checked bytes to its server (and opening side
connections and asking UDP questions) for far longer than the part runs.
All 2K run under ckpt_launch, with the coordinator started by hand on the
head node (`ckpt_coordinator --daemon`, which makes the job secret). Each
client prints "step N" lines while it makes progress and "FAIL: ..." on a
wrong byte.

Rounds of: `ckpt_command --checkpoint` (wall clock, coordinator's figure,
image bytes), `ckpt_command --kill`, then ONE `ckpt_restart --hosts
OLD=NEW,ckh2=ckh2 --rsh netns_rsh`; restart time runs from starting it until
`ckpt_command --status --json` lists all 2K processes again, on their new
hosts (polled every 10 ms; each registers once its memory is back, just
before its threads resume). First `rounds` restarts with no move
(ckh1=ckh1), then `rounds` that move the servers (ckh1 -> ckh3, back to ckh1,
...). After each restart every client must make progress before the next
checkpoint; after the last one the clients must still progress and no
client may have printed a FAIL line, else the part fails.

Needs root (network namespaces); without it, or without bridges, the part
records why it was skipped. The namespaces are the ones the multi-host e2e
test uses: do not run both at once (the part refuses to start while a
process runs in one of them).
"""

import importlib.util
import json
import os
import re
import statistics
import subprocess
import time

from .memory_case import parse_coordinator_ms
from .procs import BenchError, Job, descendants, kill_pid, log, reap_orphans

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE_PORT = 7720  # pair i: TCP BASE_PORT + 2i, UDP BASE_PORT + 2i + 1 (in the hosts' namespaces)
TOTAL = 10**9  # bytes each client streams: hours, so they run through the whole part
IMAGE_HOST_RE = re.compile(r"_(ckh\d+)_\d+\.img$")
STEP_RE = re.compile(r"^step \d+", re.M)


def load_netns_hosts():
    """tests/e2e/netns_hosts.py, imported by path."""
    path = os.path.join(SOURCE_ROOT, "tests", "e2e", "netns_hosts.py")
    spec = importlib.util.spec_from_file_location("netns_hosts", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def hosts_in_use(nh):
    """Processes already running in one of the emulated hosts (another user of
    the same namespaces, e.g. the multi-host e2e test): {host: [pids]}."""
    busy = {}
    for host in nh.HOSTS:
        if not os.path.exists(f"/run/netns/{host}"):
            continue
        r = subprocess.run(["ip", "netns", "pids", host], capture_output=True, text=True, timeout=30)
        pids = r.stdout.split()
        if pids:
            busy[host] = pids
    return busy


class Cluster:
    """The job's coordinator on the head node and the commands that talk to it."""

    def __init__(self, job, bins, nh):
        self.job, self.bins, self.nh = job, bins, nh
        job.env.update({"CKPT_COORD_HOST": nh.HEAD})  # for Job.cleanup's --quit

    def command(self, *args, timeout=60):
        j = self.job
        return j.run([self.bins.command, "--host", self.nh.HEAD, "--port", str(j.port), "--dir", j.ckpt_dir, *args],
                     timeout)

    def start_coordinator(self):
        j = self.job
        rc, out, err, _ = j.run([self.bins.coordinator, "--listen", self.nh.HEAD, "--port", str(j.port),
                                 "--ckpt-dir", j.ckpt_dir, "--daemon"], 30)
        if rc != 0:
            raise BenchError(f"ckpt_coordinator --daemon exited {rc}: {(err or out).strip()}")

    def processes(self):
        """The coordinator's processes (ckpt_command --status --json), or None."""
        rc, out, _, _ = self.command("--status", "--json", timeout=30)
        try:
            return json.loads(out)["processes"] if rc == 0 else None
        except (ValueError, KeyError, TypeError):
            return None

    def on(self, host, *argv):
        """argv on `host`, under ckpt_launch, told where the coordinator and the images are."""
        j = self.job
        return [self.nh.RSH, host, "env", f"CKPT_COORD_HOST={self.nh.HEAD}", f"CKPT_COORD_PORT={j.port}",
                f"CKPT_DIR={j.ckpt_dir}", self.bins.launch, *argv]


def step_counts(job, pairs):
    """Step lines in each client's stdout; fails on a FAIL line."""
    counts = []
    for i in range(pairs):
        text = job.tail(f"client{i}.out", 1 << 30)
        if "FAIL" in text:
            raise BenchError(f"client {i}: {text[text.index('FAIL'):].splitlines()[0]}")
        counts.append(len(STEP_RE.findall(text)))
    return counts


def wait_progress(job, pairs, more, procs, what, timeout=30):
    """Waits until every client has printed `more` step lines beyond what it has now."""
    want = [c + more for c in step_counts(job, pairs)]
    deadline = time.monotonic() + timeout
    while True:
        have = step_counts(job, pairs)
        if all(h >= w for h, w in zip(have, want)):
            return have
        for p in procs:
            if p.poll() is not None:
                raise BenchError(f"{what}: {p.args[0] if isinstance(p.args, list) else p.args} exited "
                                 f"{p.returncode}; steps {have}")
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: clients at {have} step lines after {timeout}s, wanted {want}")
        time.sleep(0.05)


def wait_registered(cluster, want_hosts, proc, label, timeout):
    """Polls every 10 ms until the coordinator lists exactly the processes of
    want_hosts ({host: count}) on those hosts; returns the seconds waited."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    total = sum(want_hosts.values())
    while True:
        ps = cluster.processes() or []
        if len(ps) >= total:
            have = {}
            for p in ps:
                have[p.get("host")] = have.get(p.get("host"), 0) + 1
            if have == want_hosts:
                return time.monotonic() - t0
            raise BenchError(f"processes registered on {have}, expected {want_hosts}")
        if proc.poll() is not None:
            raise BenchError(f"{label} exited {proc.returncode} with {len(ps)} of {total} registered: "
                             f"{cluster.job.tail(label + '.err')}")
        if time.monotonic() > deadline:
            raise BenchError(f"only {len(ps)} of {total} processes registered within {timeout}s")
        time.sleep(0.01)


def checkpoint(cluster, count):
    rc, out, err, dt = cluster.command("--checkpoint", timeout=120)
    if rc != 0:
        raise BenchError(f"checkpoint: {(err or out).strip()[-400:]}")
    images = cluster.job.images()
    if len(images) != count:
        raise BenchError(f"checkpoint wrote {len(images)} images, expected {count}")
    by_role = {"server": [], "client": []}
    for img in images:
        m = IMAGE_HOST_RE.search(img)
        by_role["client" if m and m.group(1) == "ckh2" else "server"].append(os.path.getsize(img))
    return dt, parse_coordinator_ms(out), by_role


def kill(cluster, procs, timeout=20):
    """ckpt_command --kill; waits for `procs` (launchers or ckpt_restart) to end
    and for the coordinator to list no process."""
    rc, out, err, _ = cluster.command("--kill", timeout=30)
    if rc != 0:
        raise BenchError(f"ckpt_command --kill exited {rc}: {(err or out).strip()}")
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise BenchError(f"{p.args[0]} (pid {p.pid}) still runs {timeout}s after ckpt_command --kill")
    while cluster.processes():
        if time.monotonic() > deadline:
            raise BenchError(f"the coordinator still lists processes {timeout}s after ckpt_command --kill")
        time.sleep(0.05)
    reap_orphans({p.pid for p in cluster.job.procs})


def restart(cluster, mapping, label):
    j = cluster.job
    argv = [cluster.bins.restart, "--host", cluster.nh.HEAD, "--port", str(j.port), "--dir", j.ckpt_dir,
            "--hosts", mapping, "--rsh", cluster.nh.RSH, j.ckpt_dir]
    return j.start(argv, label)


def measure(job, bins, nh, pairs, rounds, result):
    cluster = Cluster(job, bins, nh)
    prog = bins.net_peers
    count = 2 * pairs
    cluster.start_coordinator()
    procs = []
    for i in range(pairs):
        procs.append(job.start(cluster.on("ckh1", prog, "server", str(BASE_PORT + 2 * i), str(BASE_PORT + 2 * i + 1)),
                               f"server{i}"))
    for i in range(pairs):
        procs.append(job.start(cluster.on("ckh2", prog, "client", nh.HOSTS["ckh1"], str(BASE_PORT + 2 * i),
                                          str(BASE_PORT + 2 * i + 1), str(TOTAL), job.path(f"result{i}.txt")),
                               f"client{i}"))
    wait_registered(cluster, {"ckh1": pairs, "ckh2": pairs}, procs[0], "server0", 60)
    wait_progress(job, pairs, 2, procs, "after ckpt_launch")  # every client connected and streaming

    server_host = "ckh1"
    plan = [("nomove", "ckh1")] * rounds + [("move", None)] * rounds
    ckpts, coords = result.setdefault("checkpoint_all_s", []), result.setdefault("coordinator_all_ms", [])
    restarts = {"nomove": result.setdefault("restart_nomove_all_s", []),
                "move": result.setdefault("restart_move_all_s", [])}
    for n, (kind, new_host) in enumerate(plan, 1):
        new_host = new_host or ("ckh3" if server_host == "ckh1" else "ckh1")
        dt, cms, by_role = checkpoint(cluster, count)
        ckpts.append(dt)
        coords.append(cms)
        result["image_bytes"] = by_role
        kill(cluster, procs)
        time.sleep(0.5)
        mapping = f"{server_host}={new_host},ckh2=ckh2"
        t0 = time.monotonic()
        rp = restart(cluster, mapping, f"restart{n}")
        wait_registered(cluster, {new_host: pairs, "ckh2": pairs}, rp, f"restart{n}", 60)
        rs = time.monotonic() - t0
        restarts[kind].append(rs)
        procs = [rp]
        log(f"  round {n}: checkpoint {dt:.3f}s, restart --hosts {mapping} {rs:.3f}s")
        server_host = new_host
        wait_progress(job, pairs, 1, procs, f"round {n}: progress after the restart")

    before = step_counts(job, pairs)
    after = wait_progress(job, pairs, 3, procs, "after the last restart")
    result["client_steps_after"] = [a - b for a, b in zip(after, before)]


def summarize(result):
    """Medians of what was measured (all of it, or up to a failure)."""
    def median(key):
        vals = [v for v in result.get(key, []) if v is not None]
        return statistics.median(vals) if vals else None

    result.update({"checkpoint_s": median("checkpoint_all_s"), "coordinator_ms": median("coordinator_all_ms"),
                   "restart_move_s": median("restart_move_all_s"),
                   "restart_nomove_s": median("restart_nomove_all_s")})
    sizes = result.get("image_bytes")
    if sizes:
        every = sizes["server"] + sizes["client"]
        result.update({"image_bytes_each": statistics.mean(every), "image_bytes_max": max(every),
                       "server_image_bytes": statistics.mean(sizes["server"]) if sizes["server"] else None,
                       "client_image_bytes": statistics.mean(sizes["client"]) if sizes["client"] else None})
        del result["image_bytes"]


def run_hosts(bins, workdir, pairs, rounds):
    result = {"processes": 2 * pairs, "pairs": pairs, "rounds": rounds}
    try:
        nh = load_netns_hosts()
    except (OSError, ImportError, SyntaxError) as e:
        result["skipped"] = f"cannot load tests/e2e/netns_hosts.py: {e}"
        return result
    busy = hosts_in_use(nh) if os.geteuid() == 0 else {}
    if busy:
        raise BenchError(f"the emulated hosts are in use by other processes ({busy}); "
                         "is the multi-host e2e test running?")
    try:
        nh.setup()
    except nh.Unavailable as e:
        nh.teardown()
        result["skipped"] = f"cannot emulate hosts with network namespaces here: {e}"
        log(f"  hosts: skipped: {result['skipped']}")
        return result
    before = set(descendants(os.getpid()))
    job = Job("hosts", bins, workdir)
    try:
        problem = nh.check()
        if problem:
            raise BenchError(f"the emulated cluster does not work: {problem}")
        measure(job, bins, nh, pairs, rounds, result)
    except (BenchError, OSError, subprocess.SubprocessError) as e:
        result["error"] = str(e)
        log(f"  hosts: FAILED: {e}")
    finally:
        try:
            Cluster(job, bins, nh).command("--kill", timeout=15)
        except (BenchError, OSError):
            pass
        job.cleanup()
        # Restored processes whose command line names neither the job's dir
        # nor its port: everything this part started and left.
        for pid in set(descendants(os.getpid())) - before:
            kill_pid(pid)
        deadline = time.monotonic() + 5
        while set(descendants(os.getpid())) - before and time.monotonic() < deadline:
            reap_orphans(before)
            time.sleep(0.05)
        nh.teardown()
    summarize(result)
    if "checkpoint_s" in result and result["checkpoint_s"] is not None and result.get("restart_move_s") is not None:
        log(f"  {result['processes']} processes on 2 hosts: checkpoint {result['checkpoint_s']:.3f}s, restart "
            f"moving the servers {result['restart_move_s']:.3f}s, without moving {result['restart_nomove_s']:.3f}s, "
            f"{result['image_bytes_each'] / 1e6:.2f} MB per image")
    return result
