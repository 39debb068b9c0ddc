"""e2e (process trees): shared_offset, a parent and a child taking turns (a
token over two pipes) to write records through one file description opened
before fork (shared offset, no O_APPEND) and lines through a shared O_APPEND
one, while the parent also writes one file through an fd and its dup(),
survives two checkpoint/kill/restart cycles. Each turn checks the shared
offset; at the end the parent reads the files back. stdout, data.txt, log.txt
and own.txt must equal an uninterrupted run's (rollback of files shared by
several processes), and the child must exit with status 6."""

import harness


def body(job, bins):
    prog = harness.e2e_program(bins, "shared_offset")
    sc = harness.Scenario("shared_offset", lambda work: [prog, "60", "75"],
                          outputs=["data.txt", "log.txt", "own.txt"], tree=True)
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("shared_offset", body)
