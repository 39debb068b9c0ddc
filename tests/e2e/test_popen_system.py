"""e2e (process trees): popen_system runs, every step, a system() shell
pipeline writing through an inherited fd (its exit status checked) and a
popen("printf | sort | tr") pipeline whose output it checks and saves, next
to one coprocess (sum_helper, fork+exec, over two pipes) that keeps a running
sum for the whole run and checks its getppid(). Two checkpoint/kill/restart
cycles may catch shells half-way; stdout, results.txt and system.txt must
equal an uninterrupted run's, and the coprocess must exit with status 5."""

import harness


def body(job, bins):
    prog = harness.e2e_program(bins, "popen_system")
    helper = harness.e2e_program(bins, "sum_helper")
    sc = harness.Scenario("popen_system", lambda work: [prog, helper, "50", "120"],
                          outputs=["results.txt", "system.txt"], tree=True)
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("popen_system", body)
