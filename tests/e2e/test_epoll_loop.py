"""e2e (process trees): epoll_loop, an epoll event loop over a pipe filled by
a writer child (records waiting in it for most of the run), an in-process
pipe, an eventfd and a periodic timerfd, each registered with its own data
value, survives two checkpoint/kill/restart cycles. The loop takes pipe A in
and out of the set as timer ticks give it credit; its output follows the
records only (not the timing) and ends with the exact counts per source. The
program checks event data, record values, eventfd totals, that the timer keeps
firing, and the writer's getppid() and exit status; stdout must equal an
uninterrupted run's."""

import harness


def body(job, bins):
    prog = harness.e2e_program(bins, "epoll_loop")
    sc = harness.Scenario("epoll_loop", lambda work: [prog, "360", "25"], first_steps=20, tree=True)
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("epoll_loop", body)
