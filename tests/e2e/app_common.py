"""Shared by the real-application scenarios (test_app_*.py): find Debian's
tools or skip (exit 77), and run a Python program given as text under the
standard cycles."""

import os
import shutil

import harness

DEBIAN_PYTHON = "/usr/bin/python3"  # a pyenv python first in PATH lacks Debian's modules


def require(tools, packages, python=False):
    """Skips the test (77) unless every tool is in PATH (and, with python,
    Debian's python3 exists); `packages` names what to install."""
    missing = [t for t in tools if shutil.which(t) is None]
    if python and not os.path.exists(DEBIAN_PYTHON):
        missing.append(DEBIAN_PYTHON)
    if missing:
        print(f"SKIP: missing {' '.join(missing)} (Debian packages: {packages})")
        raise SystemExit(harness.SKIP_EXIT)


def run_python_program(job, name, text, args, outputs):
    """Writes `text` to the job's directory as NAME.py and runs it with
    Debian's python3 through harness.run_cycles (a process tree)."""
    script = job.path(f"{name}.py")
    with open(script, "w") as f:
        f.write(text)
    sc = harness.Scenario(name, lambda work: [DEBIAN_PYTHON, script, *args], outputs=outputs, tree=True)
    harness.run_cycles(job, sc)
