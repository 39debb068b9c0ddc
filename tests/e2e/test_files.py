"""e2e: file_ops keeps a read-at-offset input, an O_APPEND log, two dup'd fds
sharing an offset, an unlinked-while-open file, a MAP_SHARED mapping, its
pid/ppid, cwd, RLIMIT_NOFILE, a SIGUSR1 handler and a blocked SIGUSR2 across
two checkpoint/kill/restart cycles. Its stdout and every file it leaves must
equal an uninterrupted run's (file rollback: nothing duplicated)."""

import harness


def body(job, bins):
    sc = harness.Scenario("file_ops", lambda work: [bins.example("file_ops"), work, "120", "50"],
                          outputs=["input.txt", "log.txt", "shared.txt", "mapped.bin"])
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("files", body)
