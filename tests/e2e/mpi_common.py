"""Shared by the MPI scenarios (test_mpi_*.py): an MPI job under ckpt_launch,
checked like any other scenario (harness.run_cycles: reference run, two
checkpoint/kill/restart cycles, byte-for-byte comparison), plus:

- before every checkpoint, `ckpt_command --status` must name the ranks: the
  RANK column of the text table and the "rank" of --status --json hold
  0..P-1, each once;
- every committed image of a rank is named ckpt_<program>_r<rank>_<vpid>.img;
- a checkpoint that fails only because the job holds a resource ckpt reports
  as unsupported (the one message "... is a resource ckpt cannot checkpoint
  yet": a descriptor no family knows, a mapping of an unknown kind) makes
  the scenario SKIP (exit 77); any other failure, sockets and shared memory
  included, fails it.

MPI runs as root here only with OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM)=1, which the
job's environment gets."""

import json
import os
import random
import re
import shutil

import harness

# The one message ckpt gives for a resource it does not support
# (plugins/fd/fd_capture.cc, runtime/core/memory_capture.cc).
UNSUPPORTED = re.compile(r"is a resource ckpt cannot checkpoint yet")


def skip(name, why):
    print(f"SKIP {name}: {why}", flush=True)
    raise SystemExit(harness.SKIP_EXIT)


def mpi_example(bins, name):
    """Path of an MPI example, or SKIP when it was not built (no MPI found)."""
    if bins.examples and os.path.exists(os.path.join(bins.examples, name)):
        return os.path.join(bins.examples, name)
    skip(name, f"examples/{name} is not built (meson found no MPI; see docs/mpi.md)")


def launcher(name, candidates):
    for c in candidates:
        path = shutil.which(c)
        if path:
            return path
    skip(name, f"no MPI launcher ({', '.join(candidates)}) on PATH")


def prepare_env(job):
    job.env.update({"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"})


def status_ranks(job):
    """(ranks from --status --json, RANK column of --status) of the processes with a rank."""
    rc, out, err = job.command("--status", "--json", timeout=20)
    if rc != 0:
        raise harness.TestFailure(f"ckpt_command --status --json exited {rc}: {err.strip()}")
    data = json.loads(out)
    procs = data.get("processes", []) if isinstance(data, dict) else []
    json_ranks = sorted(p["rank"] for p in procs if p.get("rank", -1) >= 0)
    rc, out, err = job.command("--status", timeout=20)
    lines = out.splitlines()
    header = next((l for l in lines if "RANK" in l.split()), None)
    if header is None:
        raise harness.TestFailure(f"ckpt_command --status has no RANK column:\n{out}")
    col = header.split().index("RANK")
    text_ranks = []
    for line in lines[lines.index(header) + 1:]:
        cells = line.split()
        if len(cells) == len(header.split()) and cells[col] != "-":
            text_ranks.append(int(cells[col]))
    return json_ranks, sorted(text_ranks)


def wait_for_ranks(job, nranks, label, timeout=60):
    """Waits until the coordinator knows ranks 0..nranks-1, each once."""
    want = list(range(nranks))
    deadline = harness.time.monotonic() + job.remaining(timeout)
    while True:
        json_ranks, text_ranks = status_ranks(job)
        if json_ranks == want and text_ranks == want:
            harness.log(f"{label}: ckpt_command --status names ranks {want}")
            return
        if harness.time.monotonic() > deadline:
            raise harness.TestFailure(f"{label}: ckpt_command --status names ranks {json_ranks} (json) and "
                                      f"{text_ranks} (RANK column), expected {want}")
        harness.time.sleep(0.2)


def check_image_names(job, program, nranks, label, images):
    names = [os.path.basename(i) for i in images]
    ranked = sorted(int(m.group(1)) for n in names if (m := re.match(rf"ckpt_{re.escape(program)}_r(\d+)_\d+\.img$", n)))
    if ranked != list(range(nranks)):
        raise harness.TestFailure(f"{label}: images of the ranks should be ckpt_{program}_r<rank>_<vpid>.img "
                                  f"for ranks 0..{nranks - 1}; the checkpoint holds {names}")


def run_mpi_scenario(job, name, argv, program, nranks, first_steps=None, timeout=400, outputs=()):
    """run_cycles for an MPI job, with the rank checks and the SKIP rule above.
    argv: the launcher command line (mpirun ... program args); outputs: files
    the job writes in its working directory, compared too."""
    prepare_env(job)
    seed = int(os.environ.get("CKPT_E2E_SEED", random.randrange(1 << 30)))
    rnd = random.Random(seed)
    if first_steps is None:
        first_steps = rnd.randint(3, 25)
    harness.log(f"{name}: seed {seed} (CKPT_E2E_SEED), first checkpoint after {first_steps} steps")
    plain_checkpoint = job.checkpoint
    cycle = [0]

    def checkpoint(label):
        cycle[0] += 1
        wait_for_ranks(job, nranks, label)
        if cycle[0] > 1:  # a few more steps, at a random point, before the next one
            harness.time.sleep(rnd.uniform(0.0, 0.5))
        try:
            images = plain_checkpoint(label)
        except harness.TestFailure as e:
            if UNSUPPORTED.search(str(e)):
                first = next((l.strip() for l in str(e).splitlines() if UNSUPPORTED.search(l)), str(e))
                skip(name, f"the MPI job runs under ckpt with ranks named, but holds a resource "
                           f"ckpt does not support yet: {first}")
            raise
        check_image_names(job, program, nranks, label, images)
        return images

    job.checkpoint = checkpoint
    sc = harness.Scenario(name, lambda work: argv, outputs=outputs, first_steps=first_steps, tree=True,
                          timeout=timeout)
    harness.run_cycles(job, sc)
