"""The application API's programs run unchanged without ckpt: the C and
Fortran binaries have no link-time dependency on ckpt (no NEEDED entry for
libckpt*), and api_counter in C, Python and Fortran, run plainly, print the
same stdout and are told "not running" by every call (api_common.WITHOUT_CKPT).
Not a checkpoint scenario: the e2e suite's test_api_* run the same programs
under ckpt."""

import os
import subprocess
import sys

import api_common
import harness
from harness import TestFailure


def needed(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
    return [line.split("[")[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line]


def body(job, bins):
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    job.env["PYTHONPATH"] = os.path.join(harness.SOURCE_ROOT, "api", "python")
    programs = {"c": [bins.example("api/api_counter")],
                "python": [python, os.path.join(harness.SOURCE_ROOT, "examples", "api", "api_counter.py")]}
    fortran = os.path.join(bins.examples, "api", "api_counter_f")
    if os.path.exists(fortran):
        programs["fortran"] = [fortran]
    outputs = {}
    for lang, argv in programs.items():
        if not argv[0].endswith("python3") and not argv[0].endswith("python"):
            libs = needed(argv[0])
            if any("ckpt" in lib for lib in libs):
                raise TestFailure(f"{argv[0]} links to ckpt: NEEDED {libs}")
            harness.log(f"{lang}: NEEDED {libs}")
        full = argv + [str(api_common.STEPS), "0", api_common.EVENTS]
        outputs[lang] = api_common.run_without_ckpt(job, lambda: full, name=f"ref_{lang}")
    for lang, out in outputs.items():
        harness.compare_files(out, outputs["c"], f"{lang} stdout vs C stdout")


if __name__ == "__main__":
    harness.main("api_without_ckpt", body)
