"""e2e (lazy restart): a damaged memory chunk that only the lazy restart's
filler reads, after the process resumed. lazy_memory (64 MiB) is
checkpointed, killed, and one byte in the middle of a late chunk of its large
region is flipped. ckpt_restart --lazy must not let the process run with a
wrong page: the process is killed (SIGKILL) and ckpt_restart's stderr has one
line naming the process, the memory region and the generation, with the
reason (checksum mismatch). The same image restarted eagerly is refused
before anything runs, with one line too."""

import re
import signal
import struct
import subprocess

import harness
from harness import TestFailure, log

HEADER_SIZE = 96  # image::FileHeader
SECTION = struct.Struct("<IIQII")  # image::SectionHeader: tag, flags, size, crc, reserved
TAG_MEM_CHUNK = 7
LINE_RE = re.compile(r"ckpt_restart: lazy restart: process (\d+) \(lazy_memory\) of generation (\d+): memory region "
                     r"[0-9a-f]+-[0-9a-f]+ cannot be restored from \S+: memory chunk checksum mismatch")


def late_chunk_offset(data):
    """Offset of the middle of a large memory chunk's payload, three quarters
    of the way through the image's large chunks."""
    off = struct.unpack_from("<I", data, 16)[0] or HEADER_SIZE
    big = []
    while off + SECTION.size <= len(data):
        tag, _, size, _, _ = SECTION.unpack_from(data, off)
        if tag == TAG_MEM_CHUNK and size > 64 * 1024:
            big.append((off + SECTION.size, size))
        if size > len(data):
            break
        off += SECTION.size + size
    if len(big) < 8:
        raise TestFailure(f"expected the image to hold many large memory chunks, found {len(big)}")
    start, size = big[len(big) * 3 // 4]
    return start + size // 2


def body(job, bins):
    prog = harness.e2e_program(bins, "lazy_memory")
    out = job.path("app.out")
    proc = job.start([bins.launch, prog, "single", "64", "2000"], out, "ckpt_launch", cwd=job.root)
    harness.wait_steps(job, out, 3, proc, "after ckpt_launch")
    images = job.checkpoint("checkpoint 1")
    job.kill_computation(proc, "kill 1")
    with open(images[0], "rb") as f:
        data = bytearray(f.read())
    pos = late_chunk_offset(data)
    log(f"flipping the byte at offset {pos} of {len(data)} in {images[0]}")
    data[pos] ^= 0xFF
    with open(images[0], "wb") as f:
        f.write(data)

    env = dict(job.env, CKPT_LAZY_MBPS="8")  # the damage is found late, after the process resumed
    proc = job.start([bins.restart, "--lazy", job.ckpt_dir], job.path("restart1.out"), "ckpt_restart --lazy",
                     env=env)
    try:
        rc = proc.wait(timeout=job.remaining(60))
    except subprocess.TimeoutExpired:
        raise TestFailure("ckpt_restart --lazy of a damaged image kept running for 60 s")
    with open(job.path("restart1.err"), errors="replace") as f:
        err = f.read()
    if rc != -signal.SIGKILL:
        raise TestFailure(f"ckpt_restart --lazy of a damaged image exited {rc}, expected to be killed (SIGKILL)\n"
                          f"  stderr: {err[-1500:]}")
    lines = [l for l in err.splitlines() if "lazy restart" in l]
    if len(lines) != 1 or not LINE_RE.search(lines[0]):
        raise TestFailure(f"expected one line naming the process, region and generation, got:\n{err[-1500:]}")
    m = LINE_RE.search(lines[0])
    if m.group(2) != "1":
        raise TestFailure(f"the line names generation {m.group(2)}, the image is of generation 1: {lines[0]}")
    log(f"lazy restart killed the process: {lines[0]}")
    job.reap_orphans()

    rc, _, err = job.run([bins.restart, job.ckpt_dir], timeout=60, label="ckpt_restart (eager)")
    if rc <= 0 or len(err.strip().splitlines()) != 1 or "checksum" not in err:
        raise TestFailure(f"eager restart of the damaged image: exit {rc}, expected a failure with one line "
                          f"naming the checksum; stderr:\n{err[-1500:]}")
    log(f"eager restart refused it: {err.strip()}")


if __name__ == "__main__":
    harness.main("lazy_damaged", body)
