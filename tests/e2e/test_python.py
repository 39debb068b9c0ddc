"""e2e: a pure Python script (examples/counter.py) run by python3 survives
two checkpoint/kill/restart cycles; its stdout and result file equal an
uninterrupted run's."""

import os
import sys

import harness


def body(job, bins):
    # The system python3 (not a pyenv-style shim script) when there is one.
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    script = os.path.join(bins.examples_src, "counter.py")
    sc = harness.Scenario("counter.py", lambda work: [python, script, "100", "60", "result.txt"],
                          outputs=["result.txt"])
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("python", body)
