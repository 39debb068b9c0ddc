"""e2e: signals_heavy (SA_SIGINFO/SA_ONSTACK/SA_RESTART handlers on per-thread
alternate stacks, SIGUSR2 pending on the main thread and process-wide, three
queued SIGRTMIN+2 and a helper thread's SIGUSR1 left pending until the end,
self-sent SIGUSR1 and SIGRTMIN+1, ITIMER_REAL and two POSIX timers, one
SIGEV_THREAD, that must fire in every step, so after each restart, full-mask
sigprocmask read-back, restarted read()) survives two checkpoint/kill/restart
cycles; the program checks itself each step and its stdout must equal an
uninterrupted run's."""

import harness


def body(job, bins):
    prog = harness.e2e_program(bins, "signals_heavy")
    sc = harness.Scenario("signals_heavy", lambda work: [prog, "60"])
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("signals", body)
