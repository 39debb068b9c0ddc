"""Runs ckpt from an installed tree (meson install --destdir, or the Debian
packages unpacked with dpkg -x): the demo program, an MPI example and the
application API, each through two checkpoint/kill/restart cycles with the
e2e harness (tests/e2e/harness.py), every binary and library taken from the
tree. ckpt_launch finds libckpt.so and ckpt_coordinator relative to its own
path, so a tree unpacked anywhere works as installed."""

import glob
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))

import api_common  # noqa: E402
import harness  # noqa: E402
from harness import TestFailure, log  # noqa: E402


class Tree:
    """The installed files under `root` (a DESTDIR); prefix as configured."""

    def __init__(self, root, prefix):
        self.root = root
        self.prefix = os.path.join(root, prefix.lstrip("/"))
        self.bindir = os.path.join(self.prefix, "bin")
        self.examples = self.one("libexec/ckpt/examples", "lib/*/ckpt/examples")
        self.libckpt = self.one("lib/ckpt/libckpt.so", "lib/*/ckpt/libckpt.so", "lib64/ckpt/libckpt.so")
        self.header = self.one("include/ckpt.h")
        self.pc_dir = os.path.dirname(self.one("lib/pkgconfig/ckpt.pc", "lib/*/pkgconfig/ckpt.pc"))
        self.python_dir = os.path.dirname(self.one("lib/python*/*-packages/ckpt/__init__.py",
                                                   "lib/python3/dist-packages/ckpt/__init__.py"))
        self.python_dir = os.path.dirname(self.python_dir)

    def one(self, *patterns):
        for p in patterns:
            hits = sorted(glob.glob(os.path.join(self.prefix, p)))
            if hits:
                return hits[0]
        raise TestFailure(f"the installed tree {self.prefix} has none of {patterns}")

    def use(self):
        """Points the harness at this tree only (not at a build directory)."""
        os.environ["CKPT_BIN_DIR"] = self.bindir
        os.environ["CKPT_EXAMPLES_DIR"] = self.examples
        os.environ["CKPT_BUILD_ROOT"] = os.path.join(self.root, "no-build-tree")
        os.environ.pop("CKPT_E2E_PROGRAMS_DIR", None)


def check_locations(job, tree):
    """ckpt_launch must preload the tree's libckpt.so, not a build's."""
    rc, out, err = job.run(["ldd", os.path.join(tree.bindir, "ckpt_launch")])
    if "not found" in out:
        raise TestFailure(f"ckpt_launch from the tree misses a library:\n{out}")
    for tool in ("ckpt_launch", "ckpt_command", "ckpt_restart", "ckpt_info", "ckpt_coordinator", "ckpt_rsh"):
        if not os.access(os.path.join(tree.bindir, tool), os.X_OK):
            raise TestFailure(f"{tool} is not installed in {tree.bindir}")
    env = dict(job.env, CKPT_VERBOSE="1")
    probe = "import os; print(open('/proc/self/maps').read())"
    rc, out, err = job.run([os.path.join(tree.bindir, "ckpt_launch"), "/usr/bin/python3", "-c", probe],
                           env=env, label="ckpt_launch python3 (maps)")
    if rc != 0 or os.path.realpath(tree.libckpt) not in out:
        raise TestFailure(f"the program under the tree's ckpt_launch did not map {tree.libckpt} "
                          f"(status {rc}):\n{err[-1500:]}")
    log(f"ckpt_launch from {tree.bindir} preloads {tree.libckpt}")


def demo(job, tree):
    """The README's demo program (examples/mixed_memory), two cycles."""
    prog = os.path.join(tree.examples, "mixed_memory")
    sc = harness.Scenario("mixed_memory", lambda work: [prog, "32", "200", "40", "3"])
    harness.run_cycles(job, sc)


def mpi_example(job, tree):
    """examples/mpi_heat on 2 Open MPI ranks under ckpt_launch mpirun."""
    mpirun = shutil.which("mpirun.openmpi") or shutil.which("mpirun")
    heat = os.path.join(tree.examples, "mpi_heat")
    if not mpirun or not os.path.exists(heat):
        raise TestFailure(f"no MPI example in the tree ({heat}) or no mpirun")
    job.env.update({"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"})
    argv = [mpirun, "-np", "2", "--oversubscribe", heat, "120", "64", "30"]
    sc = harness.Scenario("mpi_heat", lambda work: argv, first_steps=5, tree=True)
    harness.run_cycles(job, sc)


def api_c(job, tree):
    """api_counter.c compiled against the tree's ckpt.h through its
    pkg-config file, then the API scenario (api_common.py)."""
    env = dict(job.env, PKG_CONFIG_PATH=tree.pc_dir)
    rc, flags, err = job.run(["pkg-config", f"--define-variable=prefix={tree.prefix}", "--cflags", "--libs", "ckpt"],
                             env=env)
    if rc != 0 or tree.prefix not in flags:
        raise TestFailure(f"pkg-config ckpt from the tree: status {rc}, '{flags.strip()}' {err.strip()}")
    prog = job.path("api_counter")
    src = os.path.join(harness.SOURCE_ROOT, "examples", "api", "api_counter.c")
    rc, out, err = job.run(["cc", "-o", prog, src, "-pthread", *flags.split()])
    if rc != 0:
        raise TestFailure(f"compiling api_counter.c with the installed ckpt.h failed:\n{out[-1000:]}{err[-2000:]}")
    log(f"api_counter.c built with `pkg-config ckpt` ({flags.strip()})")
    api_common.run_api_cycles(job, lambda: [prog])


def api_python(job, tree):
    """The installed Python module, the API scenario (api_common.py)."""
    job.env["PYTHONPATH"] = tree.python_dir
    script = os.path.join(tree.examples, "api_counter.py")
    api_common.run_api_cycles(job, lambda: ["/usr/bin/python3", script])
