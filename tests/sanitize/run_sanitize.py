#!/usr/bin/env python3
"""The sanitizer run (docs/testing.md): builds the coordinator, the CLIs,
the unit tests, the preloaded runtime and the restorer in a build dir of
their own configured with -Db_sanitize=address,undefined (ASan and UBSan in
the coordinator, CLIs and tests; UBSan in trap mode in libckpt.so and the
restorer, which cannot take ASan), then runs the unit tests and two
end-to-end scenarios with those binaries. Any sanitizer report fails the
run: ASan reports (leaks included) go to files (ASAN_OPTIONS log_path) that
are printed and counted at the end, so that a report from a background
coordinator is not lost; a UBSan report ends its process (halt_on_error; gcc
prints it on stderr, not to log_path, when ASan is linked too), which fails
the step. A UB trap in the runtime or the restorer kills the application
(SIGILL), which fails its scenario.

The e2e programs come from the normal build (--programs-build, default the
build dir meson test runs in): the application must not be ASan-instrumented
(libckpt.so is preloaded before any ASan runtime could be).

  tests/sanitize/run_sanitize.py --build-dir build/tests/sanitize/gcc
"""
import argparse
import glob
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ["coordinator/ckpt_coordinator", "launcher/ckpt_launch", "launcher/ckpt_command",
           "launcher/ckpt_restart", "launcher/ckpt_info",
           "runtime/libckpt.so", "runtime/libckpt_mpi.so", "tests/unit/unit_tests"]
SCENARIOS = ["test_mixed_memory.py", "test_socket_stream.py"]


def build(build_dir):
    env = {k: v for k, v in os.environ.items() if k not in ("MESON_TESTTHREADS", "MALLOC_PERTURB_")}
    if not (build_dir / "build.ninja").exists():
        # -O0 with line tables: a third of the compile time of -O2 -g under
        # ASan, and reports still name file:line (libckpt.so and the
        # restorer keep -O2: runtime_sanitize_args in meson.build).
        subprocess.run(["meson", "setup", str(build_dir), str(ROOT), "-Db_sanitize=address,undefined",
                        "-Dbench=false", "-Dmpi=disabled", "--buildtype=debug", "-Dcpp_args=-g1",
                        "-Dc_args=-g1"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", str(build_dir)] + TARGETS, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    # The unit tests dlopen this stand-in libmpi by its build path.
    subprocess.run(["ninja", "-C", str(build_dir), "plugins/mpi/libfake_pmpi.so"], env=env,
                   check=True, stdout=subprocess.DEVNULL)


def is_lsan_stop_failure(text):
    """A report that only says LeakSanitizer could not read a thread's
    registers (the thread was exiting during its stop-the-world)."""
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and all("Unable to get registers from thread" in line for line in lines)


def sanitizer_env(report_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKPT_")}
    env.pop("MALLOC_PERTURB_", None)
    env["ASAN_OPTIONS"] = (f"log_path={report_dir}/asan:detect_leaks=1:abort_on_error=0:"
                           "halt_on_error=1:detect_stack_use_after_return=0")
    env["UBSAN_OPTIONS"] = f"log_path={report_dir}/ubsan:print_stacktrace=1:halt_on_error=1"
    return env


def run_step(label, argv, env, timeout):
    t0 = time.monotonic()
    r = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors="replace", timeout=timeout)
    dt = time.monotonic() - t0
    ok = r.returncode == 0
    print(f"run_sanitize: {label}: {'ok' if ok else f'FAILED (exit {r.returncode})'} in {dt:.0f} s",
          flush=True)
    if not ok:
        print("\n".join(r.stdout.splitlines()[-60:]))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", type=Path, default=ROOT / "build" / "tests" / "sanitize" / "gcc")
    ap.add_argument("--programs-build", type=Path, default=ROOT / "build",
                    help="the normal build whose test programs the e2e scenarios run")
    args = ap.parse_args()
    build_dir = args.build_dir.resolve()
    build(build_dir)
    reports = build_dir / "sanitizer-reports"
    reports.mkdir(exist_ok=True)
    for old in reports.iterdir():
        old.unlink()
    env = sanitizer_env(reports)
    # The restorer with its UBSan checks is still freestanding (trap mode
    # needs no runtime library).
    ok = run_step("restorer freestanding",
                  ["/usr/bin/python3", str(ROOT / "runtime/restorer/check_freestanding.py"),
                   str(build_dir / "runtime/restorer/restorer.elf")], env, 60)
    ok = run_step("unit tests", [str(build_dir / "tests/unit/unit_tests")],
                  dict(env, CKPT_COORDINATOR_BIN=str(build_dir / "coordinator/ckpt_coordinator")),
                  600) and ok
    programs = args.programs_build.resolve()
    e2e_env = dict(env, CKPT_BUILD_ROOT=str(build_dir), CKPT_EXAMPLES_DIR=str(programs / "examples"),
                   CKPT_E2E_PROGRAMS_DIR=str(programs / "tests/e2e/programs"), CKPT_E2E_MIB="48",
                   PYTHONDONTWRITEBYTECODE="1")
    for scenario in SCENARIOS:
        ok = run_step(scenario, ["/usr/bin/python3", str(ROOT / "tests/e2e" / scenario)], e2e_env,
                      600) and ok
    found = []
    for f in sorted(glob.glob(str(reports / "*"))):
        if is_lsan_stop_failure(Path(f).read_text(errors="replace")):
            # LeakSanitizer could not stop a thread that was ending as the
            # process exited: no leak check ran there, and no finding.
            print(f"run_sanitize: {f}: LeakSanitizer could not stop an ending thread (no finding)")
            continue
        found.append(f)
    for f in found:
        print(f"run_sanitize: report {f}:\n{Path(f).read_text(errors='replace')[-6000:]}")
    if found:
        print(f"run_sanitize: {len(found)} sanitizer report(s)")
    return 0 if ok and not found else 1


if __name__ == "__main__":
    sys.exit(main())
