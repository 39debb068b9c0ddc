"""e2e: what ckpt_command and the runtime print, on a real job through two
checkpoint/kill/restart cycles (mixed_memory, compared with an
uninterrupted run), with the job's defaults from configuration files:

- a user config file (XDG_CONFIG_HOME) names the checkpoint dir and keep = 5
  over a site file (CKPT_SITE_CONFIG) saying keep = 1, with CKPT_DIR unset:
  the images land in that dir and five generations stay;
- a config file with a bad line stops ckpt_command with one FILE:LINE line;
- after each checkpoint: --checkpoint --json (generation, processes, bytes
  equal the generation dir's images on disk), --quiet (prints nothing),
  the plain summary line off a terminal, progress lines on a terminal (a
  pty), --status and --status --json (the last checkpoint's generation,
  size on disk, duration as its MANIFEST records), --history and
  --history --json (one row per generation on disk, sizes, processes);
- CKPT_LOG=debug: the runtime's lines start with [ckpt PID@HOST] and say
  which checkpoint it suspended for;
- every restart runs with --json: its stderr (not a terminal) holds one
  {"event":"read"} line with the generation restarted, its image count and
  bytes equal to the images on disk."""

import json
import os
import pty
import re
import select
import socket
import subprocess

import harness
from harness import TestFailure, log

KEEP = 5


def gen_dirs(ckpt_dir):
    """{generation: dir} of the generation dirs on disk."""
    out = {}
    for name in os.listdir(ckpt_dir):
        m = re.fullmatch(r"\.ckpt_gen_(\d+)", name)
        if m and os.path.exists(os.path.join(ckpt_dir, name, "MANIFEST")):
            out[int(m.group(1))] = os.path.join(ckpt_dir, name)
    return out


def on_disk(gen_dir):
    """(images, bytes, metadata) of a generation, from its MANIFEST and files."""
    with open(os.path.join(gen_dir, "MANIFEST")) as f:
        head, _, tail = f.read().partition("\n\n")
    images = head.split("\n")[1:]
    size = sum(os.path.getsize(os.path.join(gen_dir, i)) for i in images if i)
    meta = dict(line.split(": ", 1) for line in tail.strip().split("\n") if ": " in line)
    return [i for i in images if i], size, meta


def latest(ckpt_dir):
    return int(os.readlink(os.path.join(ckpt_dir, "ckpt_latest")).rsplit("_", 1)[1])


def command(job, *args, env=None):
    rc, out, err = job.run([job.bins.command, *args], timeout=120, env=env,
                           label=f"ckpt_command {' '.join(args)}")
    return rc, out, err


def check_json_checkpoint(job, before):
    rc, out, err = command(job, "--checkpoint", "--json")
    if rc != 0:
        raise TestFailure(f"--checkpoint --json exited {rc}: {out} {err}")
    r = json.loads(out)
    gen = latest(job.ckpt_dir)
    images, size, meta = on_disk(gen_dirs(job.ckpt_dir)[gen])
    want = {"ok": True, "generation": before + 1, "processes": len(images), "bytes": size,
            "dir": job.ckpt_dir, "duration_ms": int(meta["duration_ms"])}
    for k, v in want.items():
        if r.get(k) != v:
            raise TestFailure(f"--checkpoint --json: {k} = {r.get(k)!r}, expected {v!r} (disk); {out}")
    if gen != before + 1 or int(meta["bytes"]) != size:
        raise TestFailure(f"generation {gen} (expected {before + 1}), MANIFEST bytes {meta['bytes']} vs disk {size}")
    log(f"--checkpoint --json: generation {gen}, {len(images)} image(s), {size} bytes = disk")
    return gen


def check_quiet_and_summary(job, before):
    rc, out, err = command(job, "--checkpoint", "--quiet")
    if rc != 0 or out != "":
        raise TestFailure(f"--checkpoint --quiet: exit {rc}, stdout {out!r} (expected nothing)")
    rc, out, err = command(job, "--checkpoint")
    gen = latest(job.ckpt_dir)
    images, size, _ = on_disk(gen_dirs(job.ckpt_dir)[gen])
    lines = out.splitlines()
    n = len(images)
    pattern = (rf"checkpoint {before + 2} committed: {n} process(es)?, [\d.]+ (B|KiB|MiB|GiB) "
               rf"in [\d.]+ s \([\d.]+ MiB/s\)")
    if rc != 0 or len(lines) != 1 or not re.fullmatch(pattern, lines[0]) or gen != before + 2:
        raise TestFailure(f"--checkpoint off a terminal: exit {rc}, stdout {out!r}; expected one line "
                          f"like {pattern!r} (generation {before + 2}, on disk {gen})")
    return gen


def check_terminal_progress(job, before):
    """ckpt_command --checkpoint on a pty: progress lines, then the summary."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(job.root)
        os.execve(job.bins.command, [job.bins.command, "--checkpoint"], job.env)
    data = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    _, status = os.waitpid(pid, 0)
    text = data.decode("utf-8", "replace")
    gen = before + 1
    frames = [f for f in re.split(r"\r\x1b\[K", text) if f.strip()]
    progress = [f for f in frames if re.match(rf"checkpoint {gen}: stopped \d+/\d+, written \d+/\d+, ", f)]
    if os.waitstatus_to_exitcode(status) != 0 or not progress or \
            not re.search(rf"checkpoint {gen} committed: ", frames[-1]):
        raise TestFailure(f"--checkpoint on a terminal: status {status}; expected progress lines for "
                          f"checkpoint {gen} and the summary last, got {text!r}")
    n = len(on_disk(gen_dirs(job.ckpt_dir)[gen])[0])
    if any(not f.split(": stopped ")[1].startswith(tuple(f"{k}/{n}" for k in range(n + 1))) for f in progress):
        raise TestFailure(f"progress lines do not count {n} processes: {progress}")
    log(f"terminal: {len(progress)} progress line(s), then {frames[-1].strip()!r}")
    return gen


def check_status(job):
    gen = latest(job.ckpt_dir)
    images, size, meta = on_disk(gen_dirs(job.ckpt_dir)[gen])
    rc, out, err = command(job, "--status", "--json")
    last = json.loads(out).get("last_checkpoint") or {}
    want = {"generation": gen, "bytes": size, "processes": len(images),
            "duration_ms": int(meta["duration_ms"]), "time": meta["time"]}
    for k, v in want.items():
        if last.get(k) != v:
            raise TestFailure(f"--status --json last_checkpoint.{k} = {last.get(k)!r}, expected {v!r}")
    rc, out, err = command(job, "--status")
    want_line = f"last checkpoint: generation {gen} at {meta['time']}, {len(images)} process"
    if rc != 0 or want_line not in out or "took " not in out:
        raise TestFailure(f"--status: expected a line starting {want_line!r} with the duration, got {out!r}")


def check_history(job, total):
    gens = gen_dirs(job.ckpt_dir)
    expected = list(range(max(1, total - KEEP + 1), total + 1))
    if sorted(gens) != expected:
        raise TestFailure(f"generation dirs {sorted(gens)}, expected {expected} (keep = {KEEP} from the config file)")
    rc, out, err = command(job, "--history", "--json")
    rows = json.loads(out)["checkpoints"]
    if [r["generation"] for r in rows] != expected:
        raise TestFailure(f"--history --json generations {[r['generation'] for r in rows]}, expected {expected}")
    for r in rows:
        images, size, meta = on_disk(gens[r["generation"]])
        want = {"bytes": size, "processes": len(images), "time": meta["time"],
                "duration_ms": int(meta["duration_ms"]), "latest": r["generation"] == total}
        for k, v in want.items():
            if r[k] != v:
                raise TestFailure(f"--history generation {r['generation']}: {k} = {r[k]!r}, expected {v!r}")
    rc, out, err = command(job, "--history")
    lines = out.splitlines()
    if rc != 0 or not lines[0].split() == ["GEN", "TIME", "DURATION", "SIZE", "PROCESSES", "RESTARTS"] or \
            [int(line.split()[0]) for line in lines[1:]] != expected or not lines[-1].endswith("latest"):
        raise TestFailure(f"--history table: expected a header and rows {expected}, the last latest; got {out!r}")
    log(f"--history: {len(rows)} generations {expected}, sizes and process counts match the disk")


def check_bad_config(job, xdg):
    bad_home = job.path("bad_xdg")
    os.makedirs(os.path.join(bad_home, "ckpt"))
    path = os.path.join(bad_home, "ckpt", "ckpt.conf")
    with open(path, "w") as f:
        f.write("# fine\nkeep = 3\nkeep: 4\n")
    env = dict(job.env, XDG_CONFIG_HOME=bad_home)
    rc, out, err = command(job, "--status", env=env)
    if rc != 2 or err.strip() != f"ckpt_command: {path}:3: expected 'key = value', got 'keep: 4'":
        raise TestFailure(f"a bad config line: exit {rc}, stderr {err!r}")


def check_runtime_log(job):
    host = socket.gethostname()
    with open(job.path("app.err"), errors="replace") as f:
        lines = [line for line in f.read().splitlines() if "ckpt" in line]
    prefixed = [line for line in lines if re.match(rf"\[ckpt \d+@{re.escape(host)}\] ", line)]
    suspends = [line for line in prefixed if re.search(r"\] suspending for checkpoint 1$", line)]
    if not suspends or len(prefixed) != len(lines):
        raise TestFailure(f"CKPT_LOG=debug: expected [ckpt PID@{host}] lines, one saying 'suspending for "
                          f"checkpoint 1'; got {lines[:10]}")
    log(f"CKPT_LOG=debug: {len(prefixed)} runtime lines, all prefixed [ckpt PID@{host}]")


def check_restart_json(job, cycle, gen, count, size):
    """ckpt_restart --json: one "read" event naming what it restarted."""
    with open(job.path(f"restart{cycle}.err"), errors="replace") as f:
        events = [json.loads(line) for line in f if line.startswith("{\"event\"")]
    reads = [e for e in events if e.get("event") == "read"]
    want = {"generation": gen, "images_read": count, "images": count, "bytes_read": size, "bytes": size}
    if len(reads) != 1 or any(reads[0].get(k) != v for k, v in want.items()):
        raise TestFailure(f"restart {cycle} --json: events {events}, expected one read event with {want}")
    log(f"restart {cycle} --json: {reads[0]}")


def body(job, bins):
    # The job's dir and keep come from the user's config file; the site's loses.
    xdg = job.path("xdg")
    os.makedirs(os.path.join(xdg, "ckpt"))
    with open(os.path.join(xdg, "ckpt", "ckpt.conf"), "w") as f:
        f.write(f"# the user's\ndir = {job.ckpt_dir}\nkeep = {KEEP}\n")
    site = job.path("site.conf")
    with open(site, "w") as f:
        f.write("keep = 1\ncompress = 3\n")
    del job.env["CKPT_DIR"]
    job.env.update({"XDG_CONFIG_HOME": xdg, "CKPT_SITE_CONFIG": site, "CKPT_LOG": "debug"})
    check_bad_config(job, xdg)

    count = {"gen": 0}

    def after_checkpoint(job, cycle):
        gen = latest(job.ckpt_dir)
        if cycle == 1:
            check_runtime_log(job)
        gen = check_json_checkpoint(job, gen)
        gen = check_quiet_and_summary(job, gen)
        gen = check_terminal_progress(job, gen)
        check_status(job)
        check_history(job, gen)
        count["gen"] = gen

    restarted = {}

    def before_restart(job, images):
        gen = latest(job.ckpt_dir)
        names, size, _ = on_disk(gen_dirs(job.ckpt_dir)[gen])
        restarted[len(restarted) + 1] = (gen, len(names), size)

    sc = harness.Scenario("cli_output", lambda work: [bins.example("mixed_memory"), "8", "300", "30", "5"],
                          after_checkpoint=after_checkpoint, before_restart=before_restart,
                          restart_args=["--json"])
    harness.run_cycles(job, sc)
    for cycle, (gen, n_images, size) in restarted.items():
        check_restart_json(job, cycle, gen, n_images, size)
    if count["gen"] < 2 * 5:
        raise TestFailure(f"only {count['gen']} checkpoints were taken")


if __name__ == "__main__":
    harness.main("cli_output", body)
