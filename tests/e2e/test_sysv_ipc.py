"""e2e (process trees): sysv_ipc, a parent and two children passing a turn
token with a System V semaphore set (IPC_PRIVATE: recreated with a new id at
each restart, which the processes must not see) and messages over a keyed
System V message queue that always holds a backlog (messages in flight at
every checkpoint; the killed run's queue is reused by the restart, emptied
first), survives two checkpoint/kill/restart cycles. Every turn checks the
messages received, the queue's length, every semaphore value. The children
must exit with 11 and 12; stdout must equal an uninterrupted run's.
Afterwards no message queue of the runs may be left; the semaphore sets the
killed runs left are removed."""

import subprocess

import harness


def table(kind):
    try:
        with open(f"/proc/sysvipc/{kind}") as f:
            return [line.split() for line in f.readlines()[1:]]
    except OSError:
        return []


def body(job, bins):
    prog = harness.e2e_program(bins, "sysv_ipc")
    sems_before = {s[1] for s in table("sem")}
    queues_before = {q[1] for q in table("msg")}
    sc = harness.Scenario("sysv_ipc", lambda work: [prog, "60", "100"], tree=True)
    try:
        harness.run_cycles(job, sc)
    finally:
        # The private sets of the killed runs (nsems 4): nothing else uses them.
        for s in table("sem"):
            if s[1] not in sems_before and int(s[0]) == 0 and s[3] == "4":
                subprocess.run(["ipcrm", "-s", s[1]], check=False)
    # Keyed queues of the killed runs are reused by the restarts and removed
    # by the program at the end.
    leaked = [q for q in table("msg") if q[1] not in queues_before and int(q[0]) >> 24 == 0x5f]
    for q in leaked:
        subprocess.run(["ipcrm", "-q", q[1]], check=False)
    if leaked:
        raise harness.TestFailure(f"SysV message queues left behind: {leaked}")


if __name__ == "__main__":
    harness.main("sysv_ipc", body)
