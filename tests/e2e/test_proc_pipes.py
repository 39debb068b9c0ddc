"""e2e (process trees): proc_pipes, a parent and three worker children joined
by work and result pipes that always hold data in flight, a grandchild
answering one worker over two more pipes, and a zombie child, survives two
checkpoint/kill/restart cycles of the whole tree. The parent signals the
workers with SIGUSR1 and later reaps them by the pids fork() returned before
the checkpoints (exit statuses 10, 11, 12; the grandchild's 7, reaped by its
parent); the zombie must stay waitable with status 23 at every step across
the checkpoints and is reaped at the end. Every child checks its getppid()
and the payloads byte for byte, the parent every result; stdout must equal an
uninterrupted run's."""

import harness


def body(job, bins):
    prog = harness.e2e_program(bins, "proc_pipes")
    sc = harness.Scenario("proc_pipes", lambda work: [prog, "60", "150"], tree=True)
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("proc_pipes", body)
