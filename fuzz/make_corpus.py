#!/usr/bin/env python3
"""Makes the seed corpora of the fuzz targets (fuzz/corpus/<target>/) from a
real job: two test programs (tests/e2e/programs: epoll_loop, socket_stream)
run under ckpt_launch with a recording proxy in front of the coordinator, get
checkpointed, restarted and checkpointed again, and the seeds come from what
that produced:

  fuzz_image, fuzz_chunk_codec   the images (trimmed to their metadata and a
                                 few small memory chunks; chunks as sections)
  fuzz_frames, fuzz_coordinator  every connection's bytes to the coordinator
                                 (processes, ckpt_command, ckpt_restart)
  fuzz_text                      the programs' /proc maps and fdinfo, the
                                 roster file, the secret, hosts specs
  fuzz_address_map               the job's own loopback endpoints as moves

Run from a configured build (default build/):  fuzz/make_corpus.py [--build-dir build]
It adds files named by content hash and never removes any (crash regression
inputs stay); review `git status fuzz/corpus` before committing.
"""
import argparse
import glob
import hashlib
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parent
ROOT = FUZZ_DIR.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import harness  # noqa: E402

MAX_SEED = 64 * 1024
MEM_CHUNK, END = 7, 0x454E4421
CHUNK_HEADER = 64

# --- CRC32C (Castagnoli), as common/crc32c.cc ------------------------------------

_TABLE = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    _TABLE.append(c)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# --- Seeds ------------------------------------------------------------------------


def save(target, data):
    d = FUZZ_DIR / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def sections(img):
    off = 96
    while off + 24 <= len(img):
        tag, flags, size, crc, res = struct.unpack_from("<IIQII", img, off)
        yield off, tag, size
        off += 24 + size


def trim_image(img):
    """The image with all its metadata sections and only three memory chunks
    (one without stored pages, the two smallest with); End's counts (and
    every CRC) made to match."""
    secs = list(sections(img))
    by_size = sorted((s for s in secs if s[1] == MEM_CHUNK), key=lambda s: s[2])
    chunks = [s for s in by_size if s[2] == CHUNK_HEADER][:1] + \
        [s for s in by_size if s[2] > CHUNK_HEADER][:2]
    kept = set(o for o, _, _ in chunks)
    out = bytearray(img[:96])
    n_sections = n_chunks = stored = 0
    memory = None
    for off, tag, size in secs:
        if tag == MEM_CHUNK and off not in kept:
            continue
        payload = bytearray(img[off + 24:off + 24 + size])
        if tag == MEM_CHUNK:
            n_chunks += 1
            stored += struct.unpack_from("<I", payload, 20)[0] * 4096
        if tag == END:
            memory = struct.unpack_from("<Q", payload, 16)[0]
            payload = bytearray(struct.pack("<QQQQ", n_sections, n_chunks, memory, stored))
        else:
            n_sections += 1
        out += struct.pack("<IIQII", tag, 0, len(payload), crc32c(payload), 0) + payload
        if tag == END:
            break
    return bytes(out)


def chunk_sections(img):
    for off, tag, size in sections(img):
        if tag == MEM_CHUNK and size <= MAX_SEED:
            yield img[off + 24:off + 24 + size]


def frames_prefix(stream, limit=MAX_SEED):
    """The longest run of whole frames from the start within `limit` bytes."""
    off = 0
    while off + 8 <= len(stream):
        size = struct.unpack_from("<I", stream, off)[0]
        if off + 8 + size > min(len(stream), limit):
            break
        off += 8 + size
    return stream[:off]


def frame_types(stream):
    off, types = 0, []
    while off + 8 <= len(stream):
        size, typ = struct.unpack_from("<IH", stream, off)
        types.append(typ)
        off += 8 + size
    return types


def process_command_pairs(streams, limit=4):
    """fuzz_coordinator's two-connection inputs: a process's frames, the
    separator, a command's frames asking for a checkpoint."""
    procs = [s for s in streams if len(s) > 16 and s[6:8] == b"\x02\x00" and s[16] == 1
             and len(frame_types(s)) > 2]
    cmds = [s for s in streams if len(s) > 16 and s[16] == 2 and 30 in frame_types(s)]
    for p in procs[:limit]:
        for c in cmds[:1]:
            yield p + b"CKPTNEXT" + c


# --- A recording proxy in front of the coordinator --------------------------------


class Proxy:
    def __init__(self, target_port):
        self.target = target_port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.streams = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            c, _ = self.sock.accept()
            try:
                s = socket.create_connection(("127.0.0.1", self.target))
            except OSError:  # the coordinator has quit
                c.close()
                continue
            rec = bytearray()
            self.streams.append(rec)
            threading.Thread(target=self.pump, args=(c, s, rec), daemon=True).start()
            threading.Thread(target=self.pump, args=(s, c, None), daemon=True).start()

    @staticmethod
    def pump(src, dst, rec):
        try:
            while data := src.recv(65536):
                if rec is not None:
                    rec += data
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# --- The job ----------------------------------------------------------------------


def proc_texts(pids):
    texts = []
    for pid in pids:
        try:
            maps = Path(f"/proc/{pid}/maps").read_bytes()
            texts.append(b"\x00" + b"\n".join(maps.splitlines()[:60]) + b"\n")
            for fdinfo in sorted(glob.glob(f"/proc/{pid}/fdinfo/*")):
                texts.append(b"\x01" + Path(fdinfo).read_bytes())
        except OSError:
            pass
    return texts


def run_job(bins):
    job = harness.Job("corpus", bins)
    out = {"images": [], "texts": []}
    try:
        coord_port = harness.free_port()
        job.start([bins.coordinator, "--port", str(coord_port), "--dir", job.ckpt_dir],
                  job.path("coordinator.out"), "coordinator")
        time.sleep(0.5)
        proxy = Proxy(coord_port)
        job.env["CKPT_COORD_PORT"] = str(proxy.port)
        work = job.path("run")
        os.makedirs(work)
        progs = [[harness.e2e_program(bins, "epoll_loop"), "400", "25"],
                 [harness.e2e_program(bins, "socket_stream"), "200", "100"]]
        procs = [job.start([bins.launch, *argv], job.path(f"app{i}.out"), f"app{i}", cwd=work)
                 for i, argv in enumerate(progs)]
        time.sleep(2)
        job.command("--status")
        job.command("--status", "--json")
        out["texts"] += proc_texts(job.status_real_pids())
        roster = Path(job.ckpt_dir, ".ckpt_processes")
        if roster.exists():
            out["texts"].append(b"\x04" + roster.read_bytes())
        out["texts"].append(b"\x05" + Path(job.ckpt_dir, ".ckpt_secret").read_bytes())
        images = job.checkpoint("checkpoint 1")
        out["images"] += [Path(i).read_bytes() for i in images]
        for p in procs:
            job.kill_computation(p, "kill 1", tree=True)
        restart = job.start([bins.restart, *images], job.path("restart.out"), "ckpt_restart",
                            cwd=work)
        time.sleep(2)
        images = job.checkpoint("checkpoint 2")
        out["images"] += [Path(i).read_bytes() for i in images]
        job.command("--interval", "0")
        job.kill_computation(restart, "kill 2", tree=True)
        job.command("--quit")
        out["streams"] = [bytes(s) for s in proxy.streams]
        out["ports"] = [coord_port, proxy.port]
    finally:
        job.cleanup()
    return out


def address_map_seeds(ports):
    def mapped(ip):
        return b"\x00" * 10 + b"\xff\xff" + socket.inet_aton(ip)

    def sockaddr(ip, port):
        return struct.pack("<H", socket.AF_INET) + struct.pack(">H", port) + \
            socket.inet_aton(ip) + b"\x00" * 8

    def move(v, r, vport=0, rport=0, proto=0):
        return mapped(v) + mapped(r) + struct.pack("<HHB3x", vport, rport, proto)

    moves = [move("127.0.0.1", "10.0.0.1"),
             move("127.0.0.1", "127.0.0.1", ports[0], ports[1], socket.IPPROTO_TCP)]
    tail = b"".join(bytes([i % 2, 16]) + sockaddr("127.0.0.1", p) for i, p in enumerate(ports))
    v6 = struct.pack("<HHI", socket.AF_INET6, socket.htons(ports[0]), 0) + mapped("127.0.0.1") + b"\0" * 4
    yield struct.pack("<I", len(moves)) + b"".join(moves) + tail
    yield struct.pack("<I", 1) + moves[1] + bytes([0, len(v6)]) + v6


def static_text_seeds():
    yield b"\x02n1,n2\nckh1\nckh2\nckh3\n"
    yield b"\x02ckh1=n1,ckh2=n2\nckh1\nckh2\n"
    yield b"\x03# hosts\nnode1 slots=2\nnode2\n\n  node3  # last\n"
    for v in (b"7781", b"0", b"65536", b"3", b"-1", b"fork", b"copy", b"auto"):
        yield b"\x05" + v


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", default=str(ROOT / "build"))
    args = ap.parse_args()
    os.environ["CKPT_BUILD_ROOT"] = os.path.abspath(args.build_dir)
    harness.make_subreaper()
    bins = harness.Binaries()
    got = run_job(bins)
    for img in got["images"]:
        trimmed = trim_image(img)
        if len(trimmed) <= 4 * MAX_SEED:  # not the ones with much socket data
            save("fuzz_image", trimmed)
        for c in sorted(chunk_sections(img), key=len)[:4]:
            save("fuzz_chunk_codec", c)
    streams = [frames_prefix(s) for s in got["streams"]]
    for s in streams:
        if s:
            save("fuzz_frames", s)
            save("fuzz_coordinator", s)
    for pair in process_command_pairs(streams):
        save("fuzz_coordinator", pair)
    for t in list(got["texts"]) + list(static_text_seeds()):
        save("fuzz_text", t[:MAX_SEED])
    for s in address_map_seeds(got["ports"]):
        save("fuzz_address_map", s)
    for t in sorted((FUZZ_DIR / "corpus").iterdir()):
        print(f"make_corpus: {t.name}: {len(list(t.iterdir()))} files")


if __name__ == "__main__":
    main()
