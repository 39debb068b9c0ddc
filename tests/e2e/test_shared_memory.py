"""e2e (process trees): shared_memory, a parent and two children taking turns
(a token around a ring of pipes) to update six shared objects — anonymous
MAP_SHARED memory inherited over fork, a memfd and a shm_unlink'ed POSIX shm
file whose fds stay open (read back through them every turn), a named POSIX
shm file, a removed (IPC_RMID) SysV segment and a keyed one — under a
PTHREAD_PROCESS_SHARED mutex and a robust one, survives two
checkpoint/kill/restart cycles. Every turn checks every counter and log of
every object and that each object is at the parent's address, so a process
that restarted with a private copy fails at its next turn. The children must
exit with 11 and 12; stdout (a checksum per round) must equal an
uninterrupted run's. Afterwards no /dev/shm file and no SysV segment of the
runs may be left."""

import glob
import os

import harness


def segments():
    try:
        with open("/proc/sysvipc/shm") as f:
            return [line.split() for line in f.readlines()[1:]]
    except OSError:
        return []


def body(job, bins):
    prog = harness.e2e_program(bins, "shared_memory")
    before = {s[1] for s in segments()}
    files_before = set(glob.glob("/dev/shm/ckpt_e2e_*"))
    sc = harness.Scenario("shared_memory", lambda work: [prog, "60", "100"], tree=True)
    harness.run_cycles(job, sc)
    left = [p for p in glob.glob("/dev/shm/ckpt_e2e_*") if p not in files_before]
    for p in left:
        os.unlink(p)
    if left:
        raise harness.TestFailure(f"shared memory files left behind: {left}")
    # Keyed segments of the runs the test killed are reused by the restarts
    # and removed by the program at the end; removed ones go with their
    # last attachment.
    leaked = [s for s in segments() if s[1] not in before and int(s[0]) >> 24 == 0x5e]
    if leaked:
        raise harness.TestFailure(f"SysV segments left behind: {leaked}")


if __name__ == "__main__":
    harness.main("shared_memory", body)
