"""e2e: bad input never crashes ckpt and never loses the last checkpoint.

- ckpt_restart of a truncated image, an image with a corrupted memory chunk,
  an image of another format version, an empty file, a file that is not an
  image and a missing file: non-zero exit (not a signal), exactly one line on
  stderr; "version" named for the version case.
- Connections without the job secret are refused: a raw Hello with a wrong
  proof, garbage bytes, ckpt_command with a wrong CKPT_SECRET or without any
  secret. The coordinator keeps serving its own job.
- A checkpoint into a full directory, then into a read-only one (a small
  tmpfs; SKIP if mount is not permitted), fails with a clear error while the
  program keeps running, and the previous checkpoint still restarts and gives
  the uninterrupted run's result.
"""

import os
import socket
import struct
import subprocess
import time

import harness
from harness import TestFailure, log

HEADER_SIZE = 96  # image::FileHeader
SECTION = struct.Struct("<IIQII")  # image::SectionHeader: tag, flags, size, crc, reserved
TAG_MEM_CHUNK = 7
FRAME = struct.Struct("<IHH")  # proto::FrameHeader: size, type, version
MSG_CHALLENGE, MSG_HELLO, MSG_WELCOME, MSG_REJECT, MSG_CMD_STATUS = 1, 2, 3, 4, 31
ROLE_COMMAND = 2


def small_program(bins, steps):
    return lambda work: [bins.example("mixed_memory"), "8", str(steps), "30", "3"]


def chunk_offset(data):
    """Offset of a byte in the middle of the largest memory chunk payload."""
    if len(data) < HEADER_SIZE:
        return None
    off = struct.unpack_from("<I", data, 16)[0] or HEADER_SIZE
    best = None
    while off + SECTION.size <= len(data):
        tag, _, size, _, _ = SECTION.unpack_from(data, off)
        if tag == TAG_MEM_CHUNK and (best is None or size > best[1]):
            best = (off + SECTION.size, size)
        if size > len(data):
            break
        off += SECTION.size + size
    return best[0] + best[1] // 2 if best else None


def make_bad_images(job, image):
    with open(image, "rb") as f:
        data = f.read()
    bad = job.path("bad")
    os.makedirs(bad)
    cases = []

    def add(name, content, expect=None, verify_too=True):
        path = os.path.join(bad, f"ckpt_{name}.img")
        if content is not None:
            with open(path, "wb") as f:
                f.write(content)
        cases.append((name, path, expect, verify_too))

    add("truncated", data[: len(data) // 2])
    pos = chunk_offset(data)
    if pos is None:
        log("no memory chunk found by parsing the image; corrupting the middle of the file instead")
        pos = len(data) // 2
    else:
        log(f"corrupting a memory chunk byte at offset {pos} of {len(data)}")
    corrupt = bytearray(data)
    corrupt[pos] ^= 0xFF
    add("corrupt_chunk", bytes(corrupt))
    other = bytearray(data)
    struct.pack_into("<I", other, 8, 99)
    add("v99", bytes(other), expect="version")  # the name must not say "version" itself
    add("empty", b"")
    add("not_an_image", b"this is a text file, not a checkpoint image\n" * 200)
    add("missing", None, verify_too=False)
    return cases


def check_bad_images(job, bins, image):
    for name, path, expect, verify_too in make_bad_images(job, image):
        rc, out, err = job.run([bins.restart, path], timeout=60, cwd=job.path("bad"), label=f"ckpt_restart {name}")
        lines = [line for line in err.splitlines() if line.strip()]
        what = f"ckpt_restart of {name} image"
        if rc == 0:
            job.problem(f"{what}: exit status 0, expected non-zero")
        elif rc < 0 or rc >= 128:
            job.problem(f"{what}: died with {'signal ' + str(-rc) if rc < 0 else 'status ' + str(rc)} (a crash)")
        if len(lines) != 1:
            job.problem(f"{what}: expected exactly one line on stderr, got {len(lines)}: {err.strip()[:600]!r}")
        if "Traceback" in err or "Segmentation" in err or "terminate called" in err:
            job.problem(f"{what}: crash output on stderr: {err.strip()[:600]!r}")
        if expect and expect not in err.replace(path, "").lower():
            job.problem(f"{what}: stderr does not mention '{expect}': {err.strip()[:300]!r}")
        log(f"{what}: exit {rc}: {lines[0] if lines else '(no stderr)'}")
        if verify_too:
            vrc, vout, verr = job.run([bins.info, "--verify", path], timeout=60, label="ckpt_info --verify")
            if vrc == 0:
                job.problem(f"ckpt_info --verify of {name} image: exit status 0, expected a failure")
            elif vrc < 0 or vrc >= 128:
                job.problem(f"ckpt_info --verify of {name} image crashed (status {vrc})")


def read_frames(sock, timeout=5.0):
    """Frames received until the peer closes; ('open', frames) if it does not."""
    sock.settimeout(0.5)
    buf, deadline = b"", time.monotonic() + timeout
    closed = False
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:  # reset
            closed = True
            break
        if not chunk:
            closed = True
            break
        buf += chunk
    frames, off = [], 0
    while off + FRAME.size <= len(buf):
        size, typ, _ = FRAME.unpack_from(buf, off)
        frames.append(typ)
        off += FRAME.size + size
    return closed, frames


def connect(job):
    try:
        return socket.create_connection(("localhost", job.port), timeout=5)
    except OSError as e:
        raise TestFailure(f"cannot connect to the coordinator on localhost:{job.port}: {e}")


def check_secret(job, bins, proc, out):
    # A Hello whose proof is wrong.
    with connect(job) as s:
        s.settimeout(5)
        head = s.recv(FRAME.size, socket.MSG_WAITALL)
        if len(head) == FRAME.size and FRAME.unpack(head)[1] != MSG_CHALLENGE:
            job.problem(f"coordinator's first frame has type {FRAME.unpack(head)[1]}, expected a Challenge")
        elif len(head) == FRAME.size:
            s.recv(FRAME.unpack(head)[0], socket.MSG_WAITALL)
        payload = struct.pack("<QB", 0x0123456789ABCDEF, ROLE_COMMAND)
        s.sendall(FRAME.pack(len(payload), MSG_HELLO, 1) + payload)
        s.sendall(FRAME.pack(1, MSG_CMD_STATUS, 1) + b"\0")
        closed, frames = read_frames(s)
    if MSG_WELCOME in frames or len([f for f in frames if f not in (MSG_REJECT,)]) > 0:
        job.problem(f"a Hello with a wrong proof was answered with frames {frames} (expected Reject and close)")
    if not closed:
        job.problem("a Hello with a wrong proof: the coordinator did not close the connection within 5s")
    log(f"wrong proof: connection {'closed' if closed else 'left open'}, frames received {frames}")

    # Garbage instead of a Hello.
    with connect(job) as s:
        s.sendall(os.urandom(512))
        closed, frames = read_frames(s)
    if not closed:
        job.problem("garbage bytes: the coordinator did not close the connection within 5s")
    if MSG_WELCOME in frames:
        job.problem("garbage bytes were answered with a Welcome")
    log(f"garbage: connection {'closed' if closed else 'left open'}")

    # ckpt_command with a wrong secret, and with none at all.
    wrong = dict(job.env, CKPT_SECRET=os.urandom(16).hex())
    empty_dir = job.path("no_secret_here")
    os.makedirs(empty_dir)
    for label, env in (("a wrong CKPT_SECRET", wrong), ("no secret (CKPT_DIR without .ckpt_secret)",
                                                         dict(job.env, CKPT_DIR=empty_dir))):
        rc, o, e = job.run([bins.command, "--status"], timeout=30, env=env, label="ckpt_command --status")
        if rc == 0:
            job.problem(f"ckpt_command --status with {label} succeeded: {o.strip()[:200]!r}")
        elif rc < 0 or rc >= 128:
            job.problem(f"ckpt_command --status with {label} crashed (status {rc})")
        elif not (e.strip() or o.strip()):
            job.problem(f"ckpt_command --status with {label} failed without a message")
        log(f"ckpt_command with {label}: exit {rc}: {(e.strip() or o.strip())[:200]}")

    # The job itself is unaffected.
    rc, o, e = job.command("--status")
    if rc != 0:
        job.problem(f"after the refused connections, ckpt_command --status with the right secret failed: {e.strip()}")
    n = harness.step_lines(out)
    harness.wait_steps(job, out, n + 2, proc, "after the refused connections the program must keep running", 30)


def fill(directory):
    """Writes a file until the filesystem is full; returns its path."""
    path = os.path.join(directory, "filler")
    block = b"\xa5" * (1 << 20)
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(block)
        except OSError:
            pass
        try:  # the last partial megabyte, byte pages at a time
            while True:
                f.write(block[:4096])
        except OSError:
            pass
    return path


def failing_checkpoint(job, proc, out, label, before):
    rc, o, e = job.command("--checkpoint", timeout=300)
    msg = (e.strip() or o.strip()).replace("\n", " | ")
    log(f"{label}: ckpt_command --checkpoint exit {rc}: {msg[:300]}")
    if rc == 0:
        job.problem(f"{label}: the checkpoint succeeded, expected a failure")
    elif rc < 0 or rc >= 128:
        job.problem(f"{label}: ckpt_command crashed (status {rc})")
    elif not msg:
        job.problem(f"{label}: the checkpoint failed without a message")
    if proc.poll() is not None:
        raise TestFailure(f"{label}: the program exited (status {proc.returncode}); it must keep running")
    n = harness.step_lines(out)
    harness.wait_steps(job, out, n + 2, proc, f"{label}: the program must keep running", 60)
    now = [os.path.realpath(i) for i in job.images()]
    if now != before:
        job.problem(f"{label}: $CKPT_DIR/ckpt_*.img changed after a failed checkpoint: {before} -> {now}")
    for img in job.images():
        job.verify_image(img, f"{label}: the previous checkpoint")


def check_full_and_readonly(job, bins):
    mnt = job.path("small_fs")
    err = job.mount_tmpfs(mnt, "64m")
    if err:
        print(f"SKIP: full and read-only checkpoint directories: cannot mount a tmpfs ({err})", flush=True)
        return
    sub = job.subjob("fullfs", ckpt_dir=mnt)
    sc = harness.Scenario("mixed_memory 8 MiB", small_program(bins, 500))
    ref_work, ref_out = harness.reference_run(sub, sc)
    work = sub.path("run")
    os.makedirs(work)
    out = sub.path("app.out")
    proc = sub.start([bins.launch, *sc.argv(work)], out, "ckpt_launch (small tmpfs)", cwd=work)
    harness.wait_steps(sub, out, 3, proc, "after ckpt_launch")
    images = sub.checkpoint("checkpoint into the tmpfs")
    before = [os.path.realpath(i) for i in images]

    filler = fill(mnt)
    log(f"filled the tmpfs ({os.path.getsize(filler) / 2**20:.1f} MiB filler)")
    failing_checkpoint(sub, proc, out, "checkpoint into a full directory", before)
    os.unlink(filler)

    job.make_readonly(mnt)
    try:
        failing_checkpoint(sub, proc, out, "checkpoint into a read-only directory", before)
    finally:
        job.undo_readonly(mnt)

    sub.kill_computation(proc, "kill")
    proc = sub.start([bins.restart, *images], sub.path("restart.out"), "ckpt_restart of the previous checkpoint",
                     cwd=sub.root)
    try:
        rc = proc.wait(timeout=sub.remaining(300))
    except subprocess.TimeoutExpired:
        raise TestFailure("restart of the previous checkpoint did not finish within 300s")
    if rc != 0:
        raise TestFailure(f"restart of the previous checkpoint exited {rc}")
    harness.compare_files(out, ref_out, "program stdout after restarting the previous checkpoint")
    log("the previous checkpoint restarted and gave the uninterrupted run's result")


def body(job, bins):
    work = job.path("run")
    os.makedirs(work)
    out = job.path("app.out")
    proc = job.start([bins.launch, *small_program(bins, 3000)(work)], out, "ckpt_launch", cwd=work)
    harness.wait_steps(job, out, 3, proc, "after ckpt_launch")
    images = job.checkpoint("checkpoint")
    secret = os.path.join(job.ckpt_dir, ".ckpt_secret")
    if not os.path.exists(secret):
        job.problem(f"{secret} does not exist after ckpt_launch")
    elif os.stat(secret).st_mode & 0o077:
        job.problem(f"{secret} has mode {os.stat(secret).st_mode & 0o777:o}, expected 0600")
    check_secret(job, bins, proc, out)
    job.kill_computation(proc, "kill")
    check_bad_images(job, bins, images[0])
    check_full_and_readonly(job, bins)


if __name__ == "__main__":
    harness.main("bad_input", body)
