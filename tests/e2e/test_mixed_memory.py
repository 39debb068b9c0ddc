"""e2e: mixed_memory (~300 MiB of zero, pattern and random pages, stack,
mmap regions, heap, AVX/x87 registers) survives two checkpoint/kill/restart
cycles and prints exactly what an uninterrupted run prints. Its images are
big enough to be written with direct I/O (O_DIRECT), which the runtime's
verbose log must show at every checkpoint: the restarts then prove those
images exact."""

import glob
import os
import re

import harness

IMAGE_RE = re.compile(rb"\] image \d+ MiB[^:\n]*: sections")


def last_image_line(job):
    """The runtime's verbose line on the image it wrote last. A restarted
    process rolls its stderr file back to the checkpoint, so only the last
    line tells; the checkpoint just committed wrote it after the restart."""
    last = (0, b"")
    for path in glob.glob(job.path("*.err")):
        with open(path, "rb") as f:
            found = IMAGE_RE.findall(f.read())
        if found:
            last = max(last, (os.path.getmtime(path), found[-1]))
    return last[1].decode()


def body(job, bins):
    mib = os.environ.get("CKPT_E2E_MIB", "300")
    job.env["CKPT_VERBOSE"] = "1"

    def check_direct(job, cycle):
        line = last_image_line(job)
        if "(direct I/O)" not in line:
            raise harness.TestFailure(f"checkpoint {cycle}: the {mib} MiB image was not written with direct I/O "
                                      f"(the runtime's verbose log says: {line or 'nothing'!r})")
        harness.log(f"checkpoint {cycle}: image written with direct I/O ({line})")

    sc = harness.Scenario("mixed_memory", lambda work: [bins.example("mixed_memory"), mib, "150", "40", "7"],
                          after_checkpoint=check_direct)
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("mixed_memory", body)
