"""Processes for the benchmark driver: finding the binaries in a build tree,
and Job, one temp CKPT_DIR + one loopback coordinator port + every process
started for it, all killed and reaped by cleanup().

The driver makes itself a child subreaper, so whatever a command leaves
behind (a daemonized coordinator, a restored process) is adopted by it and
can be killed by pid and reaped. Every wait has a timeout.
"""

import glob
import importlib.util
import os
import resource
import secrets
import shutil
import subprocess
import tempfile
import time


class BenchError(Exception):
    """A step failed; the message says which and why."""


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _load_proc_tree():
    """tests/e2e/proc_tree.py (shared with the e2e harness), imported by path."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(root, "tests", "e2e", "proc_tree.py")
    spec = importlib.util.spec_from_file_location("proc_tree", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_proc_tree = _load_proc_tree()
children_of = _proc_tree.children_of
descendants = _proc_tree.descendants
is_zombie = _proc_tree.is_zombie
kill_pid = _proc_tree.kill_pid
free_port = _proc_tree.free_port


def make_subreaper():
    err = _proc_tree.make_subreaper()
    if err:
        log(f"warning: PR_SET_CHILD_SUBREAPER failed (errno {err})")


def reap_orphans(known):
    """Reaps zombie children that no Popen owns (adopted orphans)."""
    for pid in children_of(os.getpid()):
        if pid not in known and is_zombie(pid):
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Binaries:
    """Paths of the ckpt commands and the bench programs in one build tree."""

    PATHS = {
        "launch": "launcher/ckpt_launch",
        "command": "launcher/ckpt_command",
        "restart": "launcher/ckpt_restart",
        "coordinator": "coordinator/ckpt_coordinator",
        "workload": "bench/bench_workload",
        "sweep": "bench/bench_sweep",
        "incr": "bench/bench_incr",
        "mpi_sweep": "bench/bench_mpi_sweep",
        "empty": "bench/bench_empty",
        "barrier_clients": "bench/bench_barrier_clients",
        "tree": "bench/bench_tree",
        "soak": "bench/bench_soak",
        "interpose": "bench/bench_interpose",
        "floors": "bench/bench_floors",
        "net_peers": "tests/e2e/programs/net_peers",
    }

    def __init__(self, build):
        self.build = os.path.abspath(build)
        self.paths = {k: os.path.join(self.build, v) for k, v in self.PATHS.items()}

    def has(self, key):
        return os.access(self.paths[key], os.X_OK)

    def __getattr__(self, key):
        paths = self.__dict__.get("paths", {})
        if key not in paths:
            raise AttributeError(key)
        if not os.access(paths[key], os.X_OK):
            raise BenchError(f"{paths[key]} not built (run: ninja -C {self.build})")
        return paths[key]


class Job:
    """One CKPT_DIR under `workdir`, one loopback port, and its processes."""

    def __init__(self, name, bins, workdir):
        self.name = name
        self.bins = bins
        self.root = tempfile.mkdtemp(prefix=f"ckpt-bench-{name}-", dir=workdir)
        self.ckpt_dir = os.path.join(self.root, "ckpt")
        os.makedirs(self.ckpt_dir)
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CKPT_")}
        self.env.update({"CKPT_DIR": self.ckpt_dir, "CKPT_COORD_PORT": str(self.port),
                         "CKPT_COORD_HOST": "127.0.0.1"})
        self.procs = []

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write_secret(self):
        path = os.path.join(self.ckpt_dir, ".ckpt_secret")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(16) + "\n")

    def start(self, argv, label, stdout=None, env=None):
        """Starts a process; stdout/stderr go to files named after label."""
        out = stdout or self.path(f"{label}.out")
        with open(out, "ab") as o, open(self.path(f"{label}.err"), "ab") as e:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=o, stderr=e, cwd=self.root,
                                 env=env or self.env, preexec_fn=raise_fd_limit)
        self.procs.append(p)
        return p

    def start_coordinator(self, timeout=10):
        """Our own coordinator on loopback; it outlives the job's processes."""
        if not os.path.exists(os.path.join(self.ckpt_dir, ".ckpt_secret")):
            self.write_secret()
        port_file = self.path("coordinator.port")
        self.coordinator = self.start(
            [self.bins.coordinator, "--port", str(self.port), "--port-file", port_file, "--listen",
             "127.0.0.1", "--ckpt-dir", self.ckpt_dir], "coordinator")
        deadline = time.monotonic() + timeout
        while not os.path.exists(port_file):
            if self.coordinator.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"coordinator did not start: {self.tail('coordinator.err')}")
            time.sleep(0.01)

    def run(self, argv, timeout, env=None):
        """Runs a command to completion: (rc, stdout, stderr, seconds)."""
        t0 = time.monotonic()
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                               env=env or self.env, cwd=self.root)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{' '.join(argv)} did not finish within {timeout}s")
        dt = time.monotonic() - t0
        return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace"), dt

    def command(self, *args, timeout=60):
        return self.run([self.bins.command, *args], timeout)

    def images(self):
        return sorted(glob.glob(os.path.join(self.ckpt_dir, "ckpt_*.img")))

    def tail(self, name, chars=600):
        try:
            with open(self.path(name), "rb") as f:
                return f.read().decode(errors="replace")[-chars:].strip()
        except OSError:
            return ""

    def kill_processes(self, procs, timeout=20):
        """ckpt_command --kill, then SIGKILL each of `procs`; waits for them."""
        try:
            self.command("--kill", timeout=30)
        except BenchError:
            pass
        deadline = time.monotonic() + timeout
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                kill_pid(p.pid)
                p.wait(timeout=10)
        reap_orphans({p.pid for p in self.procs})

    def cleanup(self, keep=False):
        try:
            self.command("--quit", timeout=15)
        except (BenchError, OSError):
            pass
        for p in self.procs:
            if p.poll() is None:
                kill_pid(p.pid)
        mine = {p.pid for p in self.procs}
        for pid in descendants(os.getpid()):
            if pid in mine or self.root in cmdline(pid) or str(self.port) in cmdline(pid):
                kill_pid(pid)
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log(f"warning: pid {p.pid} did not die")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            reap_orphans(set())
            if not [c for c in children_of(os.getpid()) if is_zombie(c)]:
                break
            time.sleep(0.05)
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
