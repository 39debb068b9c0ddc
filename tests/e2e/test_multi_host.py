"""e2e (several hosts): a job spanning emulated hosts, restarted on others.

netns_hosts.py emulates a cluster with network namespaces on this machine:
the head node 10.77.0.1 (root namespace, where the coordinator listens) and
hosts ckh1, ckh2, ckh3 (10.77.0.11/.12/.13); netns_rsh runs a command on one
of them. net_peers (programs/net_peers.c) serves TCP and UDP on one host and
is the client on another: it streams checked bytes on one connection, opens
new connections to the server address it learned at start, asks UDP
questions, and writes a summary (with its connection's getpeername()).

  1. Reference: server on ckh1, client on ckh2, no ckpt.
  2. Both under ckpt_launch on ckh1 and ckh2, the coordinator on the head
     node; checkpoint 1 (one image per host), kill.
  3. Restart with ckpt_restart --hosts ckh1=ckh3,ckh2=ckh2 --rsh netns_rsh
     (the server moves to ckh3, where a squatter holds its TCP port);
     checkpoint 2, kill.
  4. Restart with --hosts ckh3=ckh1,ckh2=ckh3 (both move); checkpoint 3, kill.
  5. Restart with --hosts ckh1=ckh2,ckh3=ckh2 (both on one host) and run to
     the end: the client's summary must equal the reference's byte for byte
     (the peer address included: addresses learned before a checkpoint keep
     working and keep reading the same after the server moved).
  6. Mistakes in a restart across hosts give one line and a non-zero exit.

Needs root (network namespaces): SKIPs (77) with the reason when the
emulated cluster cannot be built."""

import os
import re
import subprocess
import sys
import time

import harness
import netns_hosts

TCP_PORT, UDP_PORT = 7700, 7701
TOTAL = 1500000  # bytes the client streams: about 7 s uninterrupted
HOST_RE = re.compile(r"^process .* on (\S+); restarts", re.M)


def rsh(host, *argv):
    return [netns_hosts.RSH, host, *argv]


def ckpt_env(job):
    """The environment a user would pass through ssh: where the coordinator and the images are."""
    return ["env", f"CKPT_COORD_HOST={netns_hosts.HEAD}", f"CKPT_COORD_PORT={job.port}", f"CKPT_DIR={job.ckpt_dir}"]


def coord_args(job):
    return ["--host", netns_hosts.HEAD, "--port", str(job.port)]


def wait_file_line(job, path, line, procs, what, timeout):
    """Waits until `path` holds `line` (or a FAIL: line, or a process in `procs` ended)."""
    deadline = time.monotonic() + job.remaining(timeout)
    while True:
        try:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            text = ""
        if "FAIL:" in text:
            raise harness.TestFailure(f"{what}: {text[text.index('FAIL:'):].splitlines()[0]}")
        if line in text.splitlines():
            return
        for p, label in procs:
            if p.poll() is not None:
                raise harness.TestFailure(f"{what}: {label} ended (status {p.returncode}) first")
        if time.monotonic() > deadline:
            raise harness.TestFailure(f"{what}: no line {line!r} in {path} after {timeout}s")
        time.sleep(0.05)


def reference_run(job, prog):
    out = job.path("ref.txt")
    server = job.start(rsh("ckh1", prog, "server", str(TCP_PORT), str(UDP_PORT)), job.path("ref_server.out"),
                       "reference server (ckh1)")
    t0 = time.monotonic()
    rc, stdout, err = job.run(rsh("ckh2", prog, "client", f"{netns_hosts.HOSTS['ckh1']}", str(TCP_PORT),
                                  str(UDP_PORT), str(TOTAL), out), timeout=60, label="reference client")
    if rc != 0:
        raise harness.TestFailure(f"reference client (ckh2, no ckpt) exited {rc}:\n{stdout[-1500:]}\n{err[-1500:]}")
    harness.kill_pid(server.pid)
    server.wait(timeout=10)
    harness.log(f"reference run: {stdout.count('step ')} steps in {time.monotonic() - t0:.1f}s; "
                f"summary: {open(out).read().strip().replace(chr(10), ', ')}")
    return out


def start_coordinator(job, bins):
    """The job's coordinator on the head node, started by hand: it creates the
    job secret in the checkpoint directory, where every host reads it."""
    argv = [bins.coordinator, "--listen", netns_hosts.HEAD, "--port", str(job.port), "--ckpt-dir", job.ckpt_dir,
            "--daemon"]
    rc, out, err = job.run(argv, timeout=30, label="ckpt_coordinator --daemon")
    if rc != 0:
        raise harness.TestFailure(f"{' '.join(argv)} exited {rc}: {err.strip() or out.strip()}")
    harness.log(f"coordinator on {netns_hosts.HEAD}:{job.port}")


def images_by_host(job, bins, images):
    """{host: [images]} from ckpt_info (the host each process ran on)."""
    hosts = {}
    for img in images:
        rc, out, err = job.run([bins.info, img], timeout=60, label="ckpt_info")
        m = HOST_RE.search(out)
        if rc != 0 or not m:
            raise harness.TestFailure(f"ckpt_info {img} (status {rc}) names no host:\n{out[-1500:]}\n{err[-800:]}")
        hosts.setdefault(m.group(1), []).append(img)
    return hosts


def checkpoint(job, bins, label, want_hosts):
    images = job.checkpoint(label)
    hosts = images_by_host(job, bins, images)
    summary = ", ".join(f"{h}: {len(v)}" for h, v in sorted(hosts.items()))
    harness.log(f"{label}: images per host: {summary}")
    if sorted(hosts) != sorted(want_hosts):
        raise harness.TestFailure(f"{label}: images of hosts {sorted(hosts)}, expected {sorted(want_hosts)}")
    return hosts


def kill_job(job, procs, label):
    """ckpt_command --kill, then waits for every launcher/restarter in procs to
    end; SIGKILLs what is left of the computation (never the coordinator)."""
    rc, out, err = job.run([job.bins.command, *coord_args(job), "--dir", job.ckpt_dir, "--kill"], timeout=30,
                           label="ckpt_command --kill")
    if rc != 0:
        job.problem(f"{label}: ckpt_command --kill exited {rc}: {err.strip() or out.strip()}")
    for p, what in procs:
        try:
            p.wait(timeout=job.remaining(15))
            harness.log(f"{label}: {what} ended (status {p.returncode})")
        except subprocess.TimeoutExpired:
            job.problem(f"{label}: {what} (pid {p.pid}) still runs 15s after ckpt_command --kill")
    job.kill_tree(label)


def wait_progress(job, out, more, procs, what, timeout=30):
    """Waits for `more` step lines beyond what the client's stdout `out` holds
    now; fails at once on a FAIL: line there or when a process in procs ends
    (the client fails fast, while its restarter would wait for the server)."""
    want = harness.step_lines(out) + more
    deadline = time.monotonic() + job.remaining(timeout)
    while True:
        with open(out, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        if "FAIL:" in text:
            raise harness.TestFailure(f"{what}: the client says {text[text.index('FAIL:'):].splitlines()[0]!r}")
        n = len(harness.STEP_RE.findall(text.encode()))
        if n >= want:
            return n
        for p, label in procs:
            if p.poll() is not None:
                raise harness.TestFailure(f"{what}: {label} ended (status {p.returncode}) at {n} step lines")
        if time.monotonic() > deadline:
            raise harness.TestFailure(f"{what}: {n} step lines in {out} after {timeout}s, wanted {want}")
        time.sleep(0.05)


def start_restart(job, bins, mapping, cycle):
    argv = [bins.restart, *coord_args(job), "--dir", job.ckpt_dir, "--hosts", mapping, "--rsh", netns_hosts.RSH,
            job.ckpt_dir]
    return job.start(argv, job.path(f"restart{cycle}.out"), f"ckpt_restart --hosts {mapping}", cwd=job.path())


def start_squatter(job, host, port):
    """A process in `host` listening on TCP `port` (and accepting nothing)."""
    code = ("import socket, time\n"
            "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            f"s.bind(('0.0.0.0', {port})); s.listen(1); print('squatting', flush=True)\n"
            "time.sleep(3600)\n")
    out = job.path(f"squatter_{host}.out")
    p = job.start(rsh(host, sys.executable, "-c", code), out, f"squatter ({host}:{port})")
    wait_file_line(job, out, "squatting", [(p, "the squatter")], "squatter", 20)
    return p


def body(job, bins):
    prog = harness.e2e_program(bins, "net_peers")
    job.env["CKPT_COORD_HOST"] = netns_hosts.HEAD
    ref = reference_run(job, prog)

    # Launch on ckh1 (server) and ckh2 (client); checkpoint 1; kill.
    start_coordinator(job, bins)
    work = job.path("run")
    os.makedirs(work)
    outfile = os.path.join(work, "client.txt")
    client_out = job.path("client.out")
    server = job.start(rsh("ckh1", *ckpt_env(job), bins.launch, prog, "server", str(TCP_PORT), str(UDP_PORT)),
                       job.path("server.out"), "ckpt_launch server (ckh1)", cwd=work)
    client = job.start(rsh("ckh2", *ckpt_env(job), bins.launch, prog, "client", netns_hosts.HOSTS["ckh1"],
                           str(TCP_PORT), str(UDP_PORT), str(TOTAL), outfile),
                       client_out, "ckpt_launch client (ckh2)", cwd=work)
    procs = [(client, "the client's ckpt_launch"), (server, "the server's ckpt_launch")]
    wait_progress(job, client_out, 8, procs, "after ckpt_launch")  # about 2 s in
    checkpoint(job, bins, "checkpoint 1", ["ckh1", "ckh2"])
    wait_progress(job, client_out, 2, procs, "checkpoint 1: the job must keep running after the checkpoint")
    kill_job(job, procs, "kill 1")
    n_kill = harness.step_lines(client_out)
    harness.log(f"kill 1: the client had printed {n_kill} step lines")
    if os.path.exists(outfile):
        raise harness.TestFailure(f"kill 1: the client finished ({outfile} exists) before it was killed")

    # Restart 1: the server moves to ckh3, where its TCP port is taken.
    squatter = start_squatter(job, "ckh3", TCP_PORT)
    restart = start_restart(job, bins, "ckh1=ckh3,ckh2=ckh2", 1)
    procs = [(restart, "ckpt_restart (cycle 1)"), (squatter, "the squatter")]
    wait_progress(job, client_out, 4, procs, "restart 1: the client must progress after the restart")
    checkpoint(job, bins, "checkpoint 2", ["ckh3", "ckh2"])
    wait_progress(job, client_out, 2, procs, "checkpoint 2: the job must keep running after the checkpoint")
    kill_job(job, procs[:1], "kill 2")  # kill_tree ends the squatter too

    # Restart 2: both move; checkpoint 3, kill.
    restart = start_restart(job, bins, "ckh3=ckh1,ckh2=ckh3", 2)
    procs = [(restart, "ckpt_restart (cycle 2)")]
    wait_progress(job, client_out, 2, procs, "restart 2: the client must progress after the restart")
    checkpoint(job, bins, "checkpoint 3", ["ckh1", "ckh3"])
    kill_job(job, procs, "kill 3")

    # Restart 3: both old hosts on one new host (the client's old address is
    # now the server's real one: getpeername must still tell them apart); run
    # to the end.
    restart = start_restart(job, bins, "ckh1=ckh2,ckh3=ckh2", 3)
    wait_file_line(job, client_out, "OK", [(restart, "ckpt_restart (cycle 3)")], "restart 3: the client's end", 60)
    kill_job(job, [(restart, "ckpt_restart (cycle 3)")], "stop the server")
    harness.compare_files(outfile, ref, "client summary")
    harness.log(f"client summary equals the reference: {open(outfile).read().strip().replace(chr(10), ', ')}")
    bad_restarts(job, bins)


def expect_one_line_error(job, argv, label, want, env=None):
    rc, out, err = job.run(argv, timeout=60, label=label, env=env)
    lines = err.strip().splitlines()
    if rc == 0 or len(lines) != 1 or want not in lines[0]:
        raise harness.TestFailure(f"{label}: wanted a one-line error with {want!r} and a non-zero exit, "
                                  f"got status {rc}, stderr:\n{err[-1500:]}")
    harness.log(f"{label}: {lines[0]}")


def bad_restarts(job, bins):
    """Mistakes in a restart across hosts: one line, non-zero, nothing restored."""
    base = [bins.restart, *coord_args(job), "--dir", job.ckpt_dir]
    expect_one_line_error(job, [*base, "--hosts", "ckh9=ckh1", "--rsh", netns_hosts.RSH, job.ckpt_dir],
                          "--hosts with an unknown old host", "a host the checkpoint has no process of")
    expect_one_line_error(job, [*base, "--only-host", "ckh9", job.ckpt_dir], "--only-host with an unknown host",
                          "the checkpoint has no process of host ckh9")
    # One host restarts, the other never comes: the rendezvous gives up.
    env = dict(job.env, CKPT_RENDEZVOUS_TIMEOUT="2")
    expect_one_line_error(job, rsh("ckh1", *base, "--only-host", "ckh3", "--round", "alone", job.ckpt_dir),
                          "a host whose peers never restart", "waited 2 s for the other hosts", env=env)
    images = [os.path.join(job.ckpt_dir, f) for f in os.listdir(job.ckpt_dir) if f.endswith(".img")]
    for img in images:
        rc, _, err = job.run([bins.info, "--verify", img], timeout=60, label="ckpt_info --verify")
        if rc != 0:
            raise harness.TestFailure(f"the last checkpoint was damaged by the failed restarts: {img}: {err}")


def main():
    netns_hosts.run_test("multi_host", netns_hosts, body)


if __name__ == "__main__":
    main()
