"""Packaging: the Debian source package (debian/). Builds the .debs with
dpkg-buildpackage -b in a copy of the source tree (tests and benchmarks off,
as debian/rules configures), unpacks them with dpkg -x into a directory
(the machine's /usr is left alone), checks what each package holds and that
ckpt's dependencies are declared, then runs from the unpacked /usr: the demo
program and one MPI example (mpi_heat, 2 ranks) through two
checkpoint/kill/restart cycles each, and the application API from the
installed Python module (installed_tree.py). Skipped (77) when not root or
without dpkg-buildpackage/debhelper or the build dependencies.

CKPT_DEB_DIR=DIR reuses .debs built before (skips the build)."""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

import installed_tree
from installed_tree import harness

SOURCE = harness.SOURCE_ROOT


def skip(why):
    print(f"SKIP package_deb: {why}", flush=True)
    sys.exit(harness.SKIP_EXIT)


def copy_source(dest):
    """The files git knows (tracked or not ignored), without build trees."""
    files = subprocess.run(["git", "-C", SOURCE, "ls-files", "-co", "--exclude-standard", "-z"],
                           capture_output=True, check=True).stdout.split(b"\0")
    for rel in filter(None, (f.decode() for f in files)):
        src = os.path.join(SOURCE, rel)
        if rel.startswith("build") or not os.path.isfile(src):
            continue
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, rel))


def build_debs(work):
    src = os.path.join(work, "ckpt")
    copy_source(src)
    env = dict(os.environ, DEB_BUILD_OPTIONS=f"nocheck noddebs parallel={os.cpu_count() or 2}")
    t0 = time.monotonic()
    log_path = os.path.join(work, "dpkg-buildpackage.log")
    with open(log_path, "wb") as log:
        r = subprocess.run(["dpkg-buildpackage", "-b", "-uc", "-us"], cwd=src, env=env, stdout=log,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        print(f"FAIL package_deb: dpkg-buildpackage exited {r.returncode}:\n{harness.tail(log_path, 40)}")
        sys.exit(1)
    harness.log(f"dpkg-buildpackage -b: {time.monotonic() - t0:.0f}s")
    return work


def check_contents(debs):
    want = {"ckpt": ["./usr/bin/ckpt_launch", "./usr/bin/ckpt_restart", "/ckpt/libckpt.so",
                     "/ckpt/examples/mixed_memory", "/ckpt/examples/mpi_heat"],
            "ckpt-dev": ["./usr/include/ckpt.h", "/pkgconfig/ckpt.pc", "./usr/share/ckpt/fortran/ckpt.f90"],
            "python3-ckpt": ["./usr/lib/python3/dist-packages/ckpt/__init__.py"]}
    for name, paths in want.items():
        deb = next((d for d in debs if os.path.basename(d).startswith(name + "_")), None)
        if not deb:
            raise harness.TestFailure(f"no {name}_*.deb among {debs}")
        listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True).stdout
        names = [line.split()[-1] for line in listing.splitlines()]
        for p in paths:
            if not any(n.endswith(p) or n.startswith(p) for n in names):
                raise harness.TestFailure(f"{deb} lacks {p}")
    depends = subprocess.run(["dpkg-deb", "-f", next(d for d in debs if "/ckpt_" in d), "Depends"],
                             capture_output=True, text=True, check=True).stdout
    for lib in ("libzstd1", "libhwloc15", "libc6"):
        if lib not in depends:
            raise harness.TestFailure(f"ckpt's Depends lacks {lib}: {depends.strip()}")
    harness.log(f"package contents as expected; ckpt Depends: {depends.strip()}")


def main():
    if os.geteuid() != 0:
        skip("needs root (CI is root)")
    for tool in ("dpkg-buildpackage", "dh", "dpkg-deb", "dpkg-checkbuilddeps", "git"):
        if not shutil.which(tool):
            skip(f"{tool} is not installed (scripts/setup.sh installs debhelper and dpkg-dev)")
    if subprocess.run(["git", "-C", SOURCE, "rev-parse"], capture_output=True).returncode != 0:
        skip(f"{SOURCE} is not a git checkout (the test copies the files git knows)")
    r = subprocess.run(["dpkg-checkbuilddeps"], cwd=SOURCE, capture_output=True, text=True)
    if r.returncode != 0:
        skip(f"build dependencies missing: {r.stderr.strip()}")
    work = tempfile.mkdtemp(prefix="ckpt-deb-")
    try:
        deb_dir = os.environ.get("CKPT_DEB_DIR") or build_debs(work)
        debs = sorted(glob.glob(os.path.join(deb_dir, "*.deb")))
        root = os.path.join(work, "root")
        for deb in debs:
            subprocess.run(["dpkg", "-x", deb, root], check=True)
        tree = installed_tree.Tree(root, "/usr")
        tree.use()

        def body(job, bins):
            check_contents(debs)
            installed_tree.check_locations(job, tree)
            installed_tree.demo(job.subjob("demo"), tree)
            installed_tree.mpi_example(job.subjob("mpi"), tree)
            installed_tree.api_python(job.subjob("api_python"), tree)

        harness.main("package_deb", body)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
