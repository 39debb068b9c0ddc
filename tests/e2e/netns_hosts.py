"""An emulated cluster on this one machine, for the multi-host e2e scenario:
a Linux bridge ckbr0 in the root network namespace holding the "head node"
address 10.77.0.1/24, and network namespaces ckh1, ckh2, ckh3 ("hosts"), each
with a veth into the bridge (eth0 inside, 10.77.0.11/.12/.13 /24) and lo up.
netns_rsh (next to this file) runs a command on such a host.

setup() is idempotent: it first removes whatever an earlier (perhaps crashed)
run left, then builds everything again; teardown() removes it all. Both need
root. setup() raises Unavailable with the reason when this machine cannot
make bridges or namespaces (no root, no CAP_NET_ADMIN, no bridge module).

    python3 netns_hosts.py up|down|check     (by hand: build, remove, test)
"""

import fcntl
import os
import subprocess
import sys
import time

BRIDGE = "ckbr0"
HEAD = "10.77.0.1"
PREFIX = 24
HOSTS = {"ckh1": "10.77.0.11", "ckh2": "10.77.0.12", "ckh3": "10.77.0.13"}
RSH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "netns_rsh")
# One emulated cluster per machine: a second test run (another build dir, a
# bench) waits here until the first one's teardown.
LOCK = "/run/lock/ckpt-emulated-hosts.lock"
LOCK_WAIT_S = 900
_lock_fd = None


class Unavailable(Exception):
    """Network namespaces or bridges cannot be made here; the message says why."""


def _veth(host):
    return f"ckv{host[len('ckh'):]}"  # root-side end of host's veth: ckh1 -> ckv1


def _ip(*args, check=True):
    r = subprocess.run(["ip", *args], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    err = r.stderr.decode("utf-8", "replace").strip()
    if check and r.returncode != 0:
        raise Unavailable(f"`ip {' '.join(args)}` failed (status {r.returncode}): {err}")
    return r.returncode, r.stdout.decode("utf-8", "replace"), err


def _lock():
    global _lock_fd
    if _lock_fd is not None:
        return
    os.makedirs(os.path.dirname(LOCK), exist_ok=True)
    fd = os.open(LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise Unavailable(f"the emulated hosts stayed in use by another run for {LOCK_WAIT_S}s ({LOCK})")
            time.sleep(1)
    _lock_fd = fd


def _unlock():
    global _lock_fd
    if _lock_fd is not None:
        os.close(_lock_fd)
        _lock_fd = None


def teardown():
    """Removes the emulated cluster and lets another run have it."""
    _remove()
    _unlock()


def _remove():
    """Removes the namespaces, their veths and the bridge; silent about what is
    already gone. Processes still in a namespace keep it alive until they end,
    but its name is gone, so a later setup() starts afresh."""
    for host in HOSTS:
        _ip("netns", "delete", host, check=False)  # takes the veth pair with it
        _ip("link", "delete", _veth(host), check=False)
    _ip("link", "delete", BRIDGE, check=False)


def setup():
    """Builds the emulated cluster (after a teardown of any leftovers)."""
    if os.geteuid() != 0:
        raise Unavailable("network namespaces need root (this runs as uid %d)" % os.geteuid())
    try:
        subprocess.run(["ip", "-V"], capture_output=True, timeout=10)
    except OSError:
        raise Unavailable("no `ip` command (install iproute2)")
    for tool in ("unshare", "hostname"):
        if not any(os.access(os.path.join(d, tool), os.X_OK) for d in os.environ.get("PATH", "").split(":")):
            raise Unavailable(f"no `{tool}` command (netns_rsh needs it)")
    _lock()
    _remove()
    try:
        _ip("link", "add", BRIDGE, "type", "bridge")
        _ip("addr", "add", f"{HEAD}/{PREFIX}", "dev", BRIDGE)
        _ip("link", "set", BRIDGE, "up")
        for host, addr in HOSTS.items():
            veth = _veth(host)
            _ip("netns", "add", host)
            _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", host)
            _ip("link", "set", veth, "master", BRIDGE)
            _ip("link", "set", veth, "up")
            _ip("-n", host, "link", "set", "lo", "up")
            _ip("-n", host, "addr", "add", f"{addr}/{PREFIX}", "dev", "eth0")
            _ip("-n", host, "link", "set", "eth0", "up")
    except Unavailable:
        teardown()
        raise


def run_test(name, fixture, body, what="network namespaces"):
    """The main of an e2e test on emulated hosts: fixture (this module, or a
    cluster.Cluster) is set up and checked, harness.main(name, body) runs,
    and the fixture is torn down. SKIP (77) when the hosts cannot be made
    here, FAIL when they are made but do not work."""
    import harness
    try:
        fixture.setup()
        problem = fixture.check()
    except Unavailable as e:
        fixture.teardown()
        print(f"SKIP {name}: cannot emulate hosts with {what} here: {e}", flush=True)
        sys.exit(harness.SKIP_EXIT)
    try:
        if problem:
            print(f"FAIL {name}: the emulated cluster does not work: {problem}", flush=True)
            sys.exit(1)
        harness.main(name, body)
    finally:
        fixture.teardown()


def check(timeout=10):
    """Returns None when every host reaches the head node and the others over
    TCP (through netns_rsh), else what failed. Uses bash's /dev/tcp: a
    listener in the root namespace on HEAD answers each host."""
    import socket
    problems = []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((HEAD, 0))
        srv.listen(16)
        port = srv.getsockname()[1]
        for host in HOSTS:
            p = subprocess.Popen([RSH, host, "bash", "-c", f"hostname; exec 3<>/dev/tcp/{HEAD}/{port}"],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            srv.settimeout(timeout)
            try:
                conn, peer = srv.accept()
                conn.close()
                if peer[0] != HOSTS[host]:
                    problems.append(f"{host}: connected from {peer[0]}, expected {HOSTS[host]}")
            except OSError as e:
                problems.append(f"{host}: no connection to {HEAD}:{port}: {e}")
            out, err = p.communicate(timeout=timeout)
            if out.decode().strip() != host:
                problems.append(f"{host}: netns_rsh hostname printed {out.decode().strip()!r} "
                                f"(status {p.returncode}, stderr {err.decode().strip()!r})")
    return "; ".join(problems) or None


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "check"
    try:
        if what == "up":
            setup()
        elif what == "down":
            teardown()
        elif what == "check":
            setup()
            try:
                bad = check()
            finally:
                teardown()
            print(bad or "ok")
            sys.exit(1 if bad else 0)
        else:
            sys.exit("usage: netns_hosts.py up|down|check")
    except Unavailable as e:
        sys.exit(f"unavailable: {e}")
