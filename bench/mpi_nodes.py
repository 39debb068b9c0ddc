#!/usr/bin/env python3
"""An MPI job across (emulated) nodes, measured (issue 15 item 8; report only):

    python3 bench/mpi_nodes.py [--build build] [--ranks 8] [--mib 64] [--rounds 2]

tests/e2e/cluster.py's nodes (own network, UTS, PID and mount namespaces,
real sshd; needs root). `ckpt_launch mpirun -np R --host ckh1:R/2,ckh2:R/2
mpi_heat STEPS N 20` is started on ckh1 through ssh, N chosen so that each
rank holds about MIB MiB (two N x N/R int64 grids). Then `rounds` times:
a checkpoint while the job runs on (wall clock of `ckpt_command
--checkpoint` and the coordinator's own figure; the first since the launch
or restart), two more steps, then the checkpoint that moves the job
(`ckpt_command --checkpoint --kill`: the last of this run, as a
preemption's, for which the runtime forks its writers), restart with
`ckpt_restart --hosts` through ssh and time
until every rank made progress (rank 0 prints a step line only after an
MPI_Allreduce of all ranks), first in place (ckh1=ckh1,ckh2=ckh2), then moved
(ckh1=ckh2,ckh2=ckh3 and back); restart is timed twice: until the
coordinator lists every process again, and until rank 0 prints a step the
killed run never printed (the steps between checkpoint and kill are redone
first; mpi_heat's steps are slow at this size on a small machine). ssh's own share: the time of `ssh NODE true`
(what `ckpt_restart --hosts` runs first, once per node, in parallel) and of
`ssh NODE ckpt_restart --help` (one remote command). Prints a table and the
targets (checkpoint <= 0.5 s, restart <= 1.0 s). The whole job runs twice, with
CKPT_WRITE_MODE=auto (the default: mpi_heat rewrites all its memory every
step, so its ranks copy it during the pause) and =fork (copy-on-write).
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "e2e"))
import cluster  # noqa: E402

STEP_RE = re.compile(rb"^step \d+", re.M)


def steps(path):
    try:
        with open(path, "rb") as f:
            return len(STEP_RE.findall(f.read()))
    except OSError:
        return 0


def wait_steps(path, want, proc, what, timeout=120):
    deadline = time.monotonic() + timeout
    while steps(path) < want:
        if proc is not None and proc.poll() is not None:
            sys.exit(f"{what}: ended with status {proc.returncode}")
        if time.monotonic() > deadline:
            sys.exit(f"{what}: {steps(path)} step lines after {timeout} s, wanted {want}")
        time.sleep(0.005)


def last_step(path):
    try:
        with open(path, "rb") as f:
            found = re.findall(rb"^step (\d+)", f.read(), re.M)
        return int(found[-1]) if found else -1
    except OSError:
        return -1


def wait_registered(build, env, count, proc, t0):
    """Seconds from t0 until the coordinator lists `count` processes again."""
    import json
    while True:
        r = subprocess.run([os.path.join(build, "launcher", "ckpt_command"), "--status", "--json"], env=env,
                           capture_output=True, text=True, timeout=30)
        try:
            if r.returncode == 0 and len(json.loads(r.stdout)["processes"]) >= count:
                return time.monotonic() - t0
        except (ValueError, KeyError):
            pass
        if proc.poll() is not None or time.monotonic() - t0 > 300:
            sys.exit(f"restart: only part of the job registered (status {proc.poll()})")
        time.sleep(0.01)


def command(build, env, *args):
    t0 = time.monotonic()
    r = subprocess.run([os.path.join(build, "launcher", "ckpt_command"), *args], env=env, capture_output=True,
                       text=True, timeout=300)
    if r.returncode != 0:
        sys.exit(f"ckpt_command {' '.join(args)}: {r.stderr.strip() or r.stdout.strip()}")
    return time.monotonic() - t0, r.stdout


def timed(argv):
    t0 = time.monotonic()
    subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    return time.monotonic() - t0


def job_args(doc, ranks):
    """The options of an mpi_heat job bench (--build, --ranks, --mib,
    --rounds): the parsed arguments, the build dir, mpi_heat's path and the
    grid size N that gives each rank about MIB MiB."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(SOURCE_ROOT, "build"))
    ap.add_argument("--ranks", type=int, default=ranks)
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    heat = os.path.join(build, "examples", "mpi_heat")
    return a, build, heat, int((a.mib * 2**20 * a.ranks / 16) ** 0.5)


# Runtime settings the bench passes on to the job when they are set.
FORWARDED = ("CKPT_DIRECT_IO", "CKPT_COMPRESS_LEVEL")


def measure(build, ranks=8, mib=64, rounds=2, write_modes=("auto", "fork")):
    """Runs the job once per write mode (CKPT_WRITE_MODE) and returns its
    figures (a dict; "skipped" when the emulated nodes cannot be made
    here)."""
    heat = os.path.join(build, "examples", "mpi_heat")
    n = int((mib * 2**20 * ranks / 16) ** 0.5)
    cl = cluster.Cluster()
    try:
        cl.setup()
    except cluster.Unavailable as e:
        return {"skipped": str(e)}
    try:
        rows = []
        for mode in write_modes:
            rows += [dict(row, write_mode=mode) for row in run_job(cl, build, heat, n, ranks, rounds, mode)]
        ssh_true = min(timed([*cl.ssh(), "ckh2", "true"]) for _ in range(3))
        ssh_cmd = min(timed([*cl.ssh(), "ckh2", os.path.join(build, "launcher", "ckpt_restart"), "--help"])
                      for _ in range(3))
    finally:
        cl.teardown()
    return {"ranks": ranks, "mib_per_rank": mib, "grid_n": n, "rounds": rows, "ssh_true_s": ssh_true,
            "ssh_command_s": ssh_cmd}


def run_job(cl, build, heat, n, ranks, rounds, write_mode):
    """One job under CKPT_WRITE_MODE=write_mode: its checkpoint and restart
    rows, in place then moved."""
    work = cluster.shared_dir("ckpt-bench-mpi-nodes-")
    ckpt = os.path.join(work, "ckpt")
    os.makedirs(ckpt)
    port = 7000 + (os.getpid() + len(write_mode)) % 1000
    env = dict(os.environ, CKPT_DIR=ckpt, CKPT_COORD_PORT=str(port))
    env.pop("CKPT_COORD_HOST", None)
    out = os.path.join(work, "heat.out")
    rows = []
    half = ranks // 2
    launch_env = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                  "OMPI_MCA_plm_rsh_agent": cl.rsh_string(), "CKPT_DIR": ckpt, "CKPT_COORD_PORT": str(port),
                  "CKPT_WRITE_MODE": write_mode}
    # Settings to compare runs with, from the caller's environment.
    launch_env.update({k: os.environ[k] for k in FORWARDED if k in os.environ})
    argv = [os.path.join(build, "launcher", "ckpt_launch"), "mpirun", "--oversubscribe", "-np", str(ranks),
            "--host", f"ckh1:{half},ckh2:{half}", heat, "1000000", str(n), "20"]
    remote = (f"cd {shlex.quote(work)} && env " + " ".join(shlex.quote(f"{k}={v}") for k, v in launch_env.items())
              + " " + " ".join(shlex.quote(x) for x in argv) + f" > {out} 2> {out}.err")
    proc = subprocess.Popen([*cl.ssh(), "ckh1", remote], stdin=subprocess.DEVNULL)
    wait_steps(out, 3, proc, "launch", 300)
    coord = dict(env, CKPT_COORD_HOST=cluster.netns_hosts.HOSTS["ckh1"])
    plans = ["ckh1=ckh1,ckh2=ckh2"] * rounds + ["ckh1=ckh2,ckh2=ckh3", "ckh2=ckh1,ckh3=ckh2"][:rounds]
    for i, plan in enumerate(plans):
        wall, text = command(build, coord, "--checkpoint")
        m = re.search(r" in ([\d.]+) s \(", text)  # ckpt_command's summary line
        wait_steps(out, steps(out) + 2, proc, "after the checkpoint")
        last_wall, text = command(build, coord, "--checkpoint", "--kill")
        m_last = re.search(r" in ([\d.]+) s \(", text)
        proc.wait(timeout=60)
        last = last_step(out)  # the last step the killed run printed
        t0 = time.monotonic()
        proc = subprocess.Popen([os.path.join(build, "launcher", "ckpt_restart"), "--dir", ckpt, "--hosts", plan,
                                 "--rsh", cl.rsh_string(), ckpt], env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, f"r{i}.err"), "wb"))
        coord = dict(env, CKPT_COORD_HOST="127.0.0.1")
        registered = wait_registered(build, coord, ranks + 4, proc, t0)
        # Every rank progressed: a step the killed run never printed (each
        # step ends in an MPI_Allreduce of all ranks; the steps between the
        # checkpoint and the kill are done again first).
        while last_step(out) <= last:
            if proc.poll() is not None or time.monotonic() - t0 > 300:
                raise RuntimeError(f"restart {plan}: no new step (status {proc.poll()})")
            time.sleep(0.005)
        rows.append({"plan": plan, "checkpoint_s": wall, "coordinator_s": float(m.group(1)) if m else None,
                     "last_checkpoint_s": last_wall,
                     "last_coordinator_s": float(m_last.group(1)) if m_last else None,
                     "registered_s": registered, "restart_s": time.monotonic() - t0})
    command(build, coord, "--kill")
    proc.wait(timeout=60)
    shutil.rmtree(work, ignore_errors=True)
    return rows


def report_lines(r):
    """The table of measure()'s figures, with the targets."""
    if not r:
        return []
    if "skipped" in r:
        return ["", f"MPI job across nodes: skipped ({r['skipped']})"]
    lines = ["", f"MPI job across nodes: {r['ranks']} ranks of mpi_heat (N={r['grid_n']}, ~{r['mib_per_rank']} MiB "
             f"per rank) on 2 emulated nodes, Open MPI over TCP, ssh launch",
             f"{'write mode':10} {'restart plan':24} {'checkpoint s':>13} {'(coordinator)':>14} "
             f"{'--kill s':>9} {'(coordinator)':>14} {'all registered s':>17} {'a new step s':>13}"]
    nan = float("nan")
    for row in r["rounds"]:
        coord, last = row["coordinator_s"], row.get("last_coordinator_s")
        lines.append(f"{row.get('write_mode', 'auto'):10} {row['plan']:24} {row['checkpoint_s']:13.2f} "
                     f"{coord if coord is not None else nan:14.2f} {row.get('last_checkpoint_s', nan):9.2f} "
                     f"{last if last is not None else nan:14.2f} "
                     f"{row['registered_s']:17.2f} {row['restart_s']:13.2f}")
    lines.append(f"ssh share: `ssh NODE true` {r['ssh_true_s']:.2f} s (the reachability probe, nodes in parallel); "
                 f"one remote command {r['ssh_command_s']:.2f} s")
    lines.append("checkpoint: the job runs on (the first since launch or restart); --kill: "
                 "`ckpt_command --checkpoint --kill`, which moves the job")
    lines.append("targets: checkpoint <= 0.5 s, restart <= 1.0 s (restart = until every rank made progress)")
    return lines


def main():
    a, build, _, _ = job_args(__doc__, 8)
    for line in report_lines(measure(build, a.ranks, a.mib, a.rounds)):
        print(line)


if __name__ == "__main__":
    main()
