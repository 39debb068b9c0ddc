"""e2e (process trees): pty_driver drives an interactive python3 (-S -i, no
readline) on a pseudo-terminal: the child leads its own session with the
slave as controlling terminal and stdio. Through two checkpoint/kill/restart
cycles the driver keeps sending statements and checking python's answers (its
variables must survive), that the termios and window size it set are intact,
and that the slave's session and foreground group are the child's pid; python
itself reports its terminal every 10 steps. stdout and results.txt must equal
an uninterrupted run's, and python must exit with status 4."""

import os
import sys

import harness


def body(job, bins):
    prog = harness.e2e_program(bins, "pty_driver")
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else os.path.realpath(sys.executable)
    sc = harness.Scenario("pty_driver", lambda work: [prog, python, "60", "150"], outputs=["results.txt"],
                          tree=True)
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("pty_repl", body)
