#!/usr/bin/env python3
"""Builds the libFuzzer targets of fuzz/ in a clang build dir of their own
and runs each on its corpus (fuzz/corpus/<target>/) for a bounded time.

The `fuzz` meson test runs this with a few seconds per target; by hand, run
it for as long as you like (docs/testing.md):

  fuzz/run_fuzz.py --build-dir build/fuzz/clang --seconds 600 --target fuzz_image

New inputs the fuzzer finds go to <build-dir>/found/<target>/, never into
the committed corpus; a crash, leak or UB report fails the run and leaves
the input in <build-dir>/artifacts/. Exits 77 (skipped) without clang or
libFuzzer.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = FUZZ_DIR.parent
SKIP = 77


def targets():
    return sorted(p.stem for p in FUZZ_DIR.glob("fuzz_*.cc"))


def clang_env():
    env = dict(os.environ, CC="clang", CXX="clang++")
    # A meson test's own environment must not leak into the sub-build.
    for k in ("MESON_TESTTHREADS", "MALLOC_PERTURB_", "ASAN_OPTIONS", "UBSAN_OPTIONS"):
        env.pop(k, None)
    return env


def have_libfuzzer(env):
    if not shutil.which("clang++"):
        return False
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "t.cc"
        src.write_text('#include <cstdint>\n#include <cstddef>\nextern "C" int '
                       "LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n")
        r = subprocess.run(["clang++", "-fsanitize=fuzzer", str(src), "-o", str(Path(d) / "t")],
                           env=env, capture_output=True)
        return r.returncode == 0


def build(build_dir, names, env):
    if not (build_dir / "build.ninja").exists():
        subprocess.run(["meson", "setup", str(build_dir), str(SOURCE_ROOT), "-Dfuzz=true",
                        "-Db_sanitize=address,undefined", "-Db_lundef=false", "-Dtests=false",
                        "-Dbench=false", "-Dmpi=disabled", "--buildtype=debugoptimized"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", str(build_dir)] + [f"fuzz/{n}" for n in names],
                   env=env, check=True, stdout=subprocess.DEVNULL)


def run_target(build_dir, name, seconds, jobs, env):
    corpus = FUZZ_DIR / "corpus" / name
    found = build_dir / "found" / name
    artifacts = build_dir / "artifacts"
    found.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    run_env = dict(env, ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1",
                   UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    cmd = [str(build_dir / "fuzz" / name), f"-max_total_time={seconds}", "-timeout=20",
           "-rss_limit_mb=2560", "-max_len=1048576", "-close_fd_mask=3", "-print_final_stats=1",
           f"-artifact_prefix={artifacts}/{name}-", str(found)]
    if corpus.is_dir():
        cmd.append(str(corpus))
    if jobs > 1:
        cmd += [f"-jobs={jobs}", f"-workers={jobs}"]
    print(f"run_fuzz: {name}: {seconds} s on {corpus.relative_to(SOURCE_ROOT)}", flush=True)
    r = subprocess.run(cmd, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, errors="replace")
    lines = r.stdout.splitlines()
    stats = [l for l in lines if l.startswith(("stat::number_of_executed_units", "#", "Done"))]
    if r.returncode != 0:
        print("\n".join(lines[-80:]))
        print(f"run_fuzz: {name}: FAILED (exit {r.returncode}); input in {artifacts}")
        return False
    print(f"run_fuzz: {name}: ok, {stats[-1] if stats else ''}", flush=True)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", type=Path, default=SOURCE_ROOT / "build" / "fuzz" / "clang")
    ap.add_argument("--seconds", type=int, default=8, help="per target")
    ap.add_argument("--target", action="append", choices=targets(),
                    help="run only this target (repeatable)")
    ap.add_argument("--jobs", type=int, default=1, help="parallel fuzzing processes per target")
    args = ap.parse_args()
    env = clang_env()
    if not have_libfuzzer(env):
        print("run_fuzz: skipped: clang++ with libFuzzer is not installed (apt-get install clang)")
        return SKIP
    names = args.target or targets()
    build_dir = args.build_dir.resolve()
    build(build_dir, names, env)
    ok = True
    for n in names:
        ok = run_target(build_dir, n, args.seconds, args.jobs, env) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
