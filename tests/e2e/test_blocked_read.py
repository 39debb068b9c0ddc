"""e2e (process trees): blocked_read, a single-threaded process that blocks
every signal with sigprocmask and is blocked in read() on a pipe whenever a
checkpoint is requested (its forked writer sends one record per 100 ms and
blocks every signal too), survives two checkpoint/kill/restart cycles. The
reader never retries a read(): one that fails (EINTR included) or returns
short is a failure; both processes check after every record that their mask
still reads back whole, the writer its getppid() and the reader its exit
status; stdout must equal an uninterrupted run's."""

import harness


def body(job, bins):
    prog = harness.e2e_program(bins, "blocked_read")
    sc = harness.Scenario("blocked_read", lambda work: [prog, "120", "100"], tree=True)
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("blocked_read", body)
