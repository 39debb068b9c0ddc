"""e2e: threads_mix (8 pthreads blocked in read, poll, epoll_wait, sem_wait,
condvar and barrier futex waits, nanosleeps holding an error-checking and a
recursive mutex, an rwlock-protected table, heavy compute) survives two
checkpoint/kill/restart cycles. The program checks its own TLS, pthread_self()
and gettid() values and every worker's result each step, treats any EINTR as
a failure, and cancels a thread blocked in epoll_wait at the end; its stdout
must equal an uninterrupted run's."""

import harness


def body(job, bins):
    prog = harness.e2e_program(bins, "threads_mix")
    sc = harness.Scenario("threads_mix", lambda work: [prog, "100", "40"])
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("threads", body)
