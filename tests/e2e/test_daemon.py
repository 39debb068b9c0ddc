"""e2e (process trees): daemon_tree, a program whose child calls setsid()
and forks the daemon, then exits. The daemon, orphaned in its own session
and process group, keeps answering the parent over pipes across two
checkpoint/kill/restart cycles: at every step it must still be in the
session and group of the vanished intermediate process (the restart
recreates a short-lived session leader under that pid for it), the parent
checks every record and the daemon's pid, and at the end stops the daemon
with SIGTERM by its pre-checkpoint pid. Stdout must equal an uninterrupted
run's."""

import harness


def body(job, bins):
    prog = harness.e2e_program(bins, "daemon_tree")
    sc = harness.Scenario("daemon", lambda work: [prog, "50", "150"], tree=True)
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("daemon", body)
