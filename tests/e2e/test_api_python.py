"""e2e: the application API from Python (examples/api/api_counter.py, the
pure-Python module api/python/ckpt over ctypes): the same scenario as
test_api_c.py (see api_common.py), run by the system python3."""

import os
import sys

import api_common
import harness


def body(job, bins):
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    job.env["PYTHONPATH"] = os.environ.get("CKPT_API_PYTHONPATH") or os.path.join(harness.SOURCE_ROOT, "api", "python")
    script = os.path.join(harness.SOURCE_ROOT, "examples", "api", "api_counter.py")
    api_common.run_api_cycles(job, lambda: [python, script])


if __name__ == "__main__":
    harness.main("api_python", body)
