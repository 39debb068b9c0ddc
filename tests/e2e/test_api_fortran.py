"""e2e: the application API from Fortran (examples/api/api_counter.f90, the
ISO_C_BINDING module api/fortran/ckpt.f90): the same scenario as
test_api_c.py (see api_common.py). Skipped (77) without gfortran."""

import os
import sys

import api_common
import harness


def body(job, bins):
    api_common.run_api_cycles(job, lambda: [bins.example("api/api_counter_f")])


if __name__ == "__main__":
    bins = harness.Binaries()
    if not bins.examples or not os.path.exists(os.path.join(bins.examples, "api", "api_counter_f")):
        print("SKIP api_fortran: api_counter_f was not built (no gfortran with OpenMP)", flush=True)
        sys.exit(harness.SKIP_EXIT)
    harness.main("api_fortran", body)
