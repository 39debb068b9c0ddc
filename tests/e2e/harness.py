"""End-to-end harness for ckpt: runs programs under ckpt_launch, checkpoints,
kills and restarts them, and compares what they produce with an
uninterrupted run. Python 3 standard library only.

Each scenario file (test_*.py) builds on Job (one temp CKPT_DIR, one free
coordinator port, every process it started) and run_cycles() (reference run,
then launch -> checkpoint -> kill -> restart -> checkpoint -> kill -> restart
-> finish, then byte-for-byte comparison).

The harness makes itself a child subreaper so that whatever the commands
leave behind (a daemonized coordinator, a restored process) is adopted by it,
killed and reaped at the end. Every wait has a timeout.

Binaries are found through CKPT_BIN_DIR (one directory holding them all) or
CKPT_BUILD_ROOT (a meson build tree; meson test sets it), else by searching
the build*/ trees next to the sources. Set CKPT_E2E_KEEP=1 to keep the temp
directory of a failed test.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

import proc_tree  # noqa: E402  (beside this file; shared with bench/)
from proc_tree import children_of, descendants, free_port, kill_pid  # noqa: E402,F401

SKIP_EXIT = 77  # meson's "skipped"
SOURCE_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STEP_RE = re.compile(rb"^step (\d+)", re.M)


class TestFailure(Exception):
    """A check failed; the message says which and why."""


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def tail(path, lines=25):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return f"(cannot read {path}: {e.strerror})"
    text = data.decode("utf-8", "replace").splitlines()
    if not text:
        return "(empty)"
    return "\n".join("    " + line for line in text[-lines:])


# --- Processes -----------------------------------------------------------------


def make_subreaper():
    err = proc_tree.make_subreaper()
    if err:
        log(f"warning: PR_SET_CHILD_SUBREAPER failed (errno {err})")


def proc_comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


proc_is_zombie = proc_tree.is_zombie


def is_coordinator(pid):
    comm = proc_comm(pid)
    return "coordinator" in comm or comm.startswith("ckpt_coordinat")


# --- Binaries --------------------------------------------------------------------


class Binaries:
    """Paths of the ckpt commands and of the example programs."""

    TOOLS = {
        "launch": ["launcher/ckpt_launch"],
        "command": ["launcher/ckpt_command"],
        "restart": ["launcher/ckpt_restart"],
        "info": ["launcher/ckpt_info"],
        "coordinator": ["coordinator/ckpt_coordinator"],
        "libckpt": ["runtime/core/libckpt.so", "runtime/libckpt.so"],
    }

    def __init__(self):
        roots = []
        if os.environ.get("CKPT_BUILD_ROOT"):
            roots.append(os.environ["CKPT_BUILD_ROOT"])
        else:
            roots += sorted(glob.glob(os.path.join(SOURCE_ROOT, "build*")), key=os.path.getmtime, reverse=True)
        self.roots = roots
        bin_dir = os.environ.get("CKPT_BIN_DIR")
        self.paths = {}
        for key, rels in self.TOOLS.items():
            cands = []
            if bin_dir:
                cands.append(os.path.join(bin_dir, os.path.basename(rels[0])))
            for root in roots:
                cands += [os.path.join(root, r) for r in rels]
            self.paths[key] = next((c for c in cands if os.path.exists(c)), None)
        ex = os.environ.get("CKPT_EXAMPLES_DIR")
        ex_roots = [ex] if ex else [os.path.join(r, "examples") for r in roots]
        self.examples = next((d for d in ex_roots if os.path.exists(os.path.join(d, "mixed_memory"))), None)
        self.examples_src = os.path.join(SOURCE_ROOT, "examples")

    def __getattr__(self, key):
        paths = self.__dict__.get("paths", {})
        if key not in paths:
            raise AttributeError(key)
        if paths[key] is None:
            raise TestFailure(
                f"{self.TOOLS[key][0].split('/')[-1]} not found (looked in CKPT_BIN_DIR and "
                f"{', '.join(self.roots) or 'no build tree'})")
        return paths[key]

    def example(self, name):
        if self.examples is None:
            raise TestFailure(f"example {name} not built (no examples/ in {', '.join(self.roots)})")
        return os.path.join(self.examples, name)

    def describe(self):
        return "\n".join(f"    {k:12} {v or 'MISSING'}" for k, v in self.paths.items())


# --- A job: one CKPT_DIR, one port, every process started for it -------------------


class Job:
    def __init__(self, name, bins, ckpt_dir=None):
        self.name = name
        self.bins = bins
        self.root = tempfile.mkdtemp(prefix=f"ckpt-e2e-{name}-")
        self.ckpt_dir = ckpt_dir or os.path.join(self.root, "ckpt")
        os.makedirs(self.ckpt_dir, exist_ok=True)
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CKPT_")}
        self.env.update({"CKPT_DIR": self.ckpt_dir, "CKPT_COORD_PORT": str(self.port)})
        self.procs = []  # (Popen, label, stdout path, stderr path)
        self.problems = []  # contract violations found without stopping the test
        self.mounts = []
        self.subjobs = []  # jobs with their own port and CKPT_DIR, cleaned up with this one
        self.deadline = time.monotonic() + float(os.environ.get("CKPT_E2E_BUDGET", "540"))

    def subjob(self, name, ckpt_dir=None):
        """Another job (own port, own CKPT_DIR) that shares this one's budget."""
        j = Job(f"{self.name}-{name}", self.bins, ckpt_dir)
        j.deadline = self.deadline
        self.subjobs.append(j)
        return j

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def remaining(self, timeout):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TestFailure(f"test budget exhausted (CKPT_E2E_BUDGET); a step hung")
        return min(timeout, left)

    def problem(self, msg):
        log(f"PROBLEM: {msg}")
        self.problems.append(msg)

    # Running commands.

    def run(self, argv, timeout=60, env=None, cwd=None, label=None):
        """Runs a command to completion; returns (rc, stdout, stderr) as text."""
        label = label or os.path.basename(argv[0])
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=self.remaining(timeout),
                               env=env or self.env, cwd=cwd or self.root)
        except subprocess.TimeoutExpired as e:
            raise TestFailure(f"{label} did not finish within {timeout}s: {' '.join(argv)}\n"
                              f"  stderr: {(e.stderr or b'').decode('utf-8', 'replace')[-2000:]}")
        out = r.stdout.decode("utf-8", "replace")
        err = r.stderr.decode("utf-8", "replace")
        return r.returncode, out, err

    def start(self, argv, stdout_path, label, cwd=None, env=None):
        """Starts a long-running process with stdout to a file."""
        err_path = stdout_path + ".err" if not stdout_path.endswith(".out") else stdout_path[:-4] + ".err"
        with open(stdout_path, "wb") as out, open(err_path, "wb") as err:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=cwd or self.root,
                                 env=env or self.env)
        self.procs.append((p, label, stdout_path, err_path))
        log(f"started {label} (pid {p.pid}): {' '.join(argv)}")
        return p

    def command(self, *args, timeout=60, env=None):
        return self.run([self.bins.command, *args], timeout=timeout, env=env, label=f"ckpt_command {args[0]}")

    # Checkpoints.

    def images(self):
        return sorted(glob.glob(os.path.join(self.ckpt_dir, "ckpt_*.img")))

    def checkpoint(self, label):
        t0 = time.monotonic()
        rc, out, err = self.command("--checkpoint", timeout=300)
        dt = time.monotonic() - t0
        if rc != 0:
            raise TestFailure(f"{label}: ckpt_command --checkpoint exited {rc} after {dt:.1f}s\n"
                              f"  stdout: {out.strip()}\n  stderr: {err.strip()}")
        images = self.images()
        if not images:
            raise TestFailure(f"{label}: checkpoint reported success but $CKPT_DIR/ckpt_*.img matches nothing; "
                              f"CKPT_DIR holds {sorted(os.listdir(self.ckpt_dir))}")
        sizes = ", ".join(f"{os.path.basename(i)} {os.path.getsize(i) / 2**20:.1f} MiB" for i in images)
        log(f"{label}: committed in {dt:.2f}s: {sizes}")
        for img in images:
            mode = os.stat(img).st_mode & 0o777
            if mode & 0o077:
                self.problem(f"{label}: image {img} has mode {mode:o}, expected 0600")
            self.verify_image(img, label)
        return images

    def verify_image(self, img, label):
        rc, out, err = self.run([self.bins.info, "--verify", img], timeout=120, label="ckpt_info --verify")
        if rc != 0:
            raise TestFailure(f"{label}: ckpt_info --verify {img} exited {rc}\n  {out.strip()[-1500:]}\n  "
                              f"{err.strip()[-1500:]}")

    def status_real_pids(self):
        """Real pids named by `ckpt_command --status --json` (best effort)."""
        try:
            rc, out, _ = self.command("--status", "--json", timeout=20)
            data = json.loads(out) if rc == 0 else None
        except (TestFailure, ValueError):
            return []
        pids = []

        def walk(x):
            if isinstance(x, dict):
                for k, v in x.items():
                    if k in ("real_pid", "pid") and isinstance(v, int) and v > 1:
                        pids.append(v)
                    walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)

        walk(data)
        return pids

    def kill_computation(self, proc, label, tree=False):
        """ckpt_command --kill, then SIGKILL by pid to be sure; waits for the end.
        tree: the computation has several processes (real pids differ after a
        restart, some may not be below `proc`): see kill_tree."""
        status_pids = self.status_real_pids()
        if tree:
            log(f"{label}: the coordinator names {len(status_pids)} process(es): {sorted(status_pids)}")
        rc, out, err = self.command("--kill", timeout=30)
        if rc != 0:
            self.problem(f"{label}: ckpt_command --kill exited {rc}: {err.strip() or out.strip()}")
        try:
            proc.wait(timeout=self.remaining(10))
            log(f"{label}: computation ended after ckpt_command --kill (status {proc.returncode})")
        except subprocess.TimeoutExpired:
            self.problem(f"{label}: ckpt_command --kill did not end the computation (pid {proc.pid}) within 10s")
        ours = set(descendants(os.getpid()))
        victims = [proc.pid] + descendants(proc.pid) + [p for p in status_pids if p in ours]
        for pid in victims:
            if not is_coordinator(pid):
                kill_pid(pid)
        try:
            proc.wait(timeout=self.remaining(20))
        except subprocess.TimeoutExpired:
            raise TestFailure(f"{label}: pid {proc.pid} survived SIGKILL for 20s")
        self.reap_orphans()
        if tree:
            self.kill_tree(label)

    def kill_tree(self, label):
        """Kills and reaps every process below the harness but the coordinators
        (the harness is a subreaper: orphans of the computation, zombies and
        half-run shell pipelines included), and fails if one survives 20s: a
        process of the old computation left running would write into the
        restarted one's files and pipes."""
        deadline = time.monotonic() + self.remaining(20)
        killed = set()
        while alive := self.live_processes():
            if time.monotonic() > deadline:
                raise TestFailure(f"{label}: processes of the computation survived SIGKILL for 20s: "
                                  f"{[(p, proc_comm(p)) for p in alive]}")
            for pid in alive:
                kill_pid(pid)
                killed.add(pid)
            time.sleep(0.05)
        if killed:
            log(f"{label}: killed {len(killed)} more process(es) of the computation: {sorted(killed)}")

    def live_processes(self):
        """Reaps orphaned zombies, then returns the processes below the harness
        that still run, but the coordinators."""
        self.reap_orphans()
        return [p for p in descendants(os.getpid()) if not is_coordinator(p) and not proc_is_zombie(p)]

    def reap_orphans(self):
        known = {p.pid for p, *_ in self.procs}
        for pid in children_of(os.getpid()):
            if pid not in known and proc_is_zombie(pid):
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass

    # Mounts (for full and read-only directories).

    def mount_tmpfs(self, path, size="64m"):
        os.makedirs(path, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", path],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        if r.returncode != 0:
            return r.stderr.decode("utf-8", "replace").strip() or f"mount exited {r.returncode}"
        self.mounts.append(path)
        return None

    def make_readonly(self, path):
        """Stacks a read-only bind mount of `path` on itself: new lookups see a
        read-only directory while files already open stay writable (a plain
        `remount,ro` is refused while the coordinator's log is open)."""
        for argv in (["mount", "--bind", path, path], ["mount", "-o", "remount,bind,ro", path]):
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
            if r.returncode != 0:
                raise TestFailure(f"{' '.join(argv)} failed: {r.stderr.decode().strip()}")
            if argv[1] == "--bind":
                self.mounts.append(path)

    def undo_readonly(self, path):
        r = subprocess.run(["umount", path], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        if r.returncode != 0:
            raise TestFailure(f"umount {path} (the read-only layer) failed: {r.stderr.decode().strip()}")
        self.mounts.remove(path)

    # Diagnostics and cleanup.

    def diagnostics(self):
        lines = [f"--- diagnostics for {self.name} (temp dir {self.root}, port {self.port})"]
        for p, label, out, err in self.procs:
            rc = p.poll()
            lines.append(f"{label} pid {p.pid}: {'running' if rc is None else f'exit status {rc}'}")
            lines.append(f"  tail of stdout {out}:\n{tail(out)}")
            lines.append(f"  tail of stderr {err}:\n{tail(err)}")
        coord_log = os.path.join(self.ckpt_dir, "ckpt_coordinator.log")
        if os.path.exists(coord_log):
            lines.append(f"coordinator log {coord_log}:\n{tail(coord_log, 40)}")
        try:
            listing = subprocess.run(["ls", "-laR", self.ckpt_dir], capture_output=True, timeout=10).stdout
            lines.append(f"CKPT_DIR:\n{listing.decode('utf-8', 'replace')[-3000:]}")
        except (OSError, subprocess.TimeoutExpired):
            pass
        for j in self.subjobs:
            lines.append(j.diagnostics())
        return "\n".join(lines)

    def cleanup(self, keep=False):
        for j in self.subjobs:
            j.cleanup(keep)
        try:
            self.run([self.bins.paths["command"] or "true", "--quit"], timeout=15, label="ckpt_command --quit")
        except (TestFailure, OSError):
            pass
        for p, *_ in self.procs:
            if p.poll() is None:
                kill_pid(p.pid)
        for pid in descendants(os.getpid()):
            kill_pid(pid)
        for p, *_ in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log(f"warning: pid {p.pid} did not die")
        deadline = time.monotonic() + 10
        while children_of(os.getpid()) and time.monotonic() < deadline:
            for pid in children_of(os.getpid()):
                kill_pid(pid)
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
            time.sleep(0.05)
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", m], capture_output=True, timeout=30)
        if keep:
            log(f"kept {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


# --- Progress and comparison --------------------------------------------------------


def step_lines(path):
    try:
        with open(path, "rb") as f:
            return len(STEP_RE.findall(f.read()))
    except OSError:
        return 0


def wait_steps(job, path, count, proc, what, timeout=120):
    """Waits until `path` holds at least `count` "step" lines."""
    deadline = time.monotonic() + job.remaining(timeout)
    while True:
        n = step_lines(path)
        if n >= count:
            return n
        if proc.poll() is not None:
            raise TestFailure(f"{what}: the program exited with status {proc.returncode} with {n} step lines "
                              f"in {path}, before reaching {count}")
        if time.monotonic() > deadline:
            raise TestFailure(f"{what}: no progress: {n} step lines in {path} after {timeout}s, wanted {count}")
        time.sleep(0.05)


def compare_files(got, want, label):
    with open(got, "rb") as f:
        g = f.read()
    with open(want, "rb") as f:
        w = f.read()
    if g == w:
        return
    gl, wl = g.splitlines(), w.splitlines()
    i = next((k for k in range(min(len(gl), len(wl))) if gl[k] != wl[k]), min(len(gl), len(wl)))
    msg = [f"{label}: {got} ({len(g)} bytes) differs from the uninterrupted run's {want} ({len(w)} bytes)"]
    if gl and wl and (len(gl) > 1 or len(wl) > 1):
        msg.append(f"  first difference at line {i + 1}:")
        msg.append(f"    expected: {wl[i][:200]!r}" if i < len(wl) else "    expected: (end of file)")
        msg.append(f"    got:      {gl[i][:200]!r}" if i < len(gl) else "    got:      (end of file)")
        steps = STEP_RE.findall(g)
        dups = sorted({s for s in steps if steps.count(s) > 1}, key=int)
        if dups:
            msg.append(f"  step lines repeated (output not cut back at restart?): {[int(d) for d in dups[:10]]}")
    else:
        pos = next((k for k in range(min(len(g), len(w))) if g[k] != w[k]), min(len(g), len(w)))
        msg.append(f"  first differing byte at offset {pos}")
    raise TestFailure("\n".join(msg))


# --- The standard scenario ----------------------------------------------------------


class Scenario:
    """A program to run under ckpt and compare with an uninterrupted run.

    argv(workdir) gives the command line; the program runs with cwd=workdir.
    outputs are files (relative to workdir) compared after the run besides
    stdout. first_steps: step lines before the first checkpoint. tree: the
    program runs several processes; every kill ends them all (kill_tree).
    before_restart(job, images): called before each restart (images: the
    paths the checkpoint committed). restart_args: options of every
    ckpt_restart."""

    def __init__(self, name, argv, outputs=(), first_steps=3, cycles=2, timeout=300, tree=False,
                 before_restart=None, after_checkpoint=None, restart_args=()):
        self.name = name
        self.restart_args = list(restart_args)
        self.after_checkpoint = after_checkpoint  # f(job, cycle) right after each checkpoint
        self.before_restart = before_restart  # f(job, images) before each restart
        self.tree = tree
        self.argv = argv
        self.outputs = list(outputs)
        self.first_steps = first_steps
        self.cycles = cycles
        self.timeout = timeout


def reference_run(job, sc):
    work = job.path("ref")
    os.makedirs(work)
    out = job.path("ref.out")
    t0 = time.monotonic()
    with open(out, "wb") as f:
        try:
            r = subprocess.run(sc.argv(work), stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.PIPE, cwd=work,
                               env=job.env, timeout=job.remaining(sc.timeout))
        except subprocess.TimeoutExpired:
            raise TestFailure(f"reference run did not finish within {sc.timeout}s")
    if r.returncode != 0:
        raise TestFailure(f"reference run (no ckpt) exited {r.returncode}:\n{tail(out)}\n"
                          f"{r.stderr.decode('utf-8', 'replace')[-2000:]}")
    log(f"reference run: {step_lines(out)} steps in {time.monotonic() - t0:.1f}s")
    return work, out


def check_no_leftovers(job, label, grace=5):
    """After a multi-process program ended: none of its processes may be left
    running (the programs reap every child they make)."""
    deadline = time.monotonic() + grace
    while alive := job.live_processes():
        if time.monotonic() > deadline:
            job.problem(f"{label}: processes outlived the program: {[(p, proc_comm(p)) for p in alive]}")
            return
        time.sleep(0.05)


def run_cycles(job, sc):
    """Reference run, then launch and `cycles` x (checkpoint, kill, restart)."""
    ref_work, ref_out = reference_run(job, sc)
    work = job.path("run")
    os.makedirs(work)
    out = job.path("app.out")
    proc = job.start([job.bins.launch, *sc.argv(work)], out, "ckpt_launch", cwd=work)
    wait_steps(job, out, sc.first_steps, proc, "after ckpt_launch")
    elsewhere = job.path("elsewhere")  # restarts run from another directory
    os.makedirs(elsewhere)
    for cycle in range(1, sc.cycles + 1):
        label = f"checkpoint {cycle}"
        images = job.checkpoint(label)
        if sc.after_checkpoint:
            sc.after_checkpoint(job, cycle)
        n = step_lines(out)
        if proc.poll() is not None:
            raise TestFailure(f"{label}: the program exited (status {proc.returncode}) right after the checkpoint")
        wait_steps(job, out, n + 2, proc, f"{label}: the program must keep running after the checkpoint", 60)
        job.kill_computation(proc, f"kill {cycle}", tree=sc.tree)
        n_kill = step_lines(out)
        log(f"kill {cycle}: killed with {n_kill} step lines in the output")
        # First restart names the images, the next one names the directory.
        target = images if cycle % 2 == 1 else [job.ckpt_dir]
        if sc.before_restart:
            sc.before_restart(job, images)
        proc = job.start([job.bins.restart, *sc.restart_args, *target], job.path(f"restart{cycle}.out"),
                         f"ckpt_restart #{cycle}", cwd=elsewhere)
        if cycle < sc.cycles:
            wait_steps(job, out, n_kill + 1, proc, f"restart {cycle}: progress after the restart", 120)
            log(f"restart {cycle}: progressing ({step_lines(out)} step lines)")
    try:
        rc = proc.wait(timeout=job.remaining(sc.timeout))
    except subprocess.TimeoutExpired:
        raise TestFailure(f"restart {sc.cycles}: the program did not finish within {sc.timeout}s")
    if rc != 0:
        raise TestFailure(f"restart {sc.cycles}: ckpt_restart exited with status {rc}, expected the program's 0")
    log(f"restart {sc.cycles}: finished with status 0")
    if sc.tree:
        check_no_leftovers(job, f"restart {sc.cycles}")
    compare_files(out, ref_out, "program stdout")
    for rel in sc.outputs:
        compare_files(os.path.join(work, rel), os.path.join(ref_work, rel), rel)
    log(f"stdout ({os.path.getsize(out)} bytes) and {len(sc.outputs)} output file(s) equal the uninterrupted run")


def in_short(reason):
    """A failure's first lines and last lines, each cut to 240 characters."""
    lines = [l[:240] for l in reason.splitlines()]
    if len(lines) > 12:
        lines = lines[:5] + ["..."] + lines[-6:]
    return "\n    ".join(lines)


def main(name, body):
    """Runs body(job, bins) with diagnostics and cleanup; exits 0, 1 or 77."""
    make_subreaper()
    bins = Binaries()
    job = Job(name, bins)
    log(f"{name}: temp dir {job.root}, coordinator port {job.port}")
    ok = False
    reason = ""
    try:
        for tool in ("launch", "command", "restart", "info"):
            getattr(bins, tool)  # fail at once when a command is missing
        body(job, bins)
        problems = job.problems + [p for j in job.subjobs for p in j.problems]
        if problems:
            raise TestFailure("contract violations:\n  " + "\n  ".join(problems))
        ok = True
    except TestFailure as e:
        reason = str(e)
        print(f"\nFAIL {name}: {e}\n", flush=True)
        print(f"binaries:\n{bins.describe()}\n{job.diagnostics()}", flush=True)
    except Exception:  # a harness bug: say so plainly
        reason = "harness exception: " + traceback.format_exc().strip().splitlines()[-1]
        print(f"\nERROR {name}: harness exception\n{traceback.format_exc()}", flush=True)
        print(f"binaries:\n{bins.describe()}\n{job.diagnostics()}", flush=True)
    finally:
        job.cleanup(keep=not ok and os.environ.get("CKPT_E2E_KEEP") == "1")
    if not ok:  # again after the diagnostics: a log's tail is often all a CI report shows
        print(f"FAIL {name} (again, in short): {in_short(reason)}", flush=True)
    print(f"{'PASS' if ok else 'FAIL'} {name}", flush=True)
    sys.exit(0 if ok else 1)


# --- Programs built from tests/e2e/programs (added for the threads/signals scenarios) ---


def e2e_program(bins, name):
    """Path of a test program built from tests/e2e/programs: CKPT_E2E_PROGRAMS_DIR
    (meson test sets it), else <build root>/tests/e2e/programs."""
    dirs = [os.environ["CKPT_E2E_PROGRAMS_DIR"]] if os.environ.get("CKPT_E2E_PROGRAMS_DIR") else []
    dirs += [os.path.join(r, "tests", "e2e", "programs") for r in bins.roots]
    for d in dirs:
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    raise TestFailure(f"test program {name} not built (looked in {', '.join(dirs) or 'no build tree'})")
