"""Shared by the incremental image scenarios: the program, and what
ckpt_info says about an image's lineage."""

import os
import re

import harness

LINEAGE_RE = re.compile(r"^lineage\s+(incremental|full image), chain length (\d+)", re.M)


def scenario_argv(bins):
    prog = harness.e2e_program(bins, "incr_memory")
    steps = os.environ.get("CKPT_E2E_INCR_STEPS", "360")
    return lambda work: [prog, steps, "25"]


def setup_env(job):
    # Chains long enough to see (the program rewrites much of its memory
    # between checkpoints, so the default size bound would cut them short).
    job.env["CKPT_FULL_EVERY"] = "8"
    job.env["CKPT_CHAIN_MAX_PERCENT"] = "1000"
    # The written pages copied in the pause (copy_first.h), small as the
    # program is: the mappings it unmaps, moves and mprotects between
    # checkpoints are what that copy must get right.
    job.env["CKPT_DIRTY_COPY"] = "1"


def lineage(job, image):
    """('incremental' | 'full image', chain length) of an image."""
    rc, out, err = job.run([job.bins.info, image], label="ckpt_info")
    m = LINEAGE_RE.search(out)
    if rc != 0 or not m:
        raise harness.TestFailure(f"ckpt_info {image} shows no lineage (exit {rc})\n{out[:2000]}\n{err[-1000:]}")
    return m.group(1), int(m.group(2))


def main_image(job, images):
    """The image of the program itself (a child it forked may have one too):
    ckpt_launch execs the program, so its virtual pid is ckpt_launch's pid."""
    vpid = job.procs[0][0].pid
    for image in images:
        if image.endswith(f"_{vpid}.img"):
            return image
    raise harness.TestFailure(f"no image of the program (vpid {vpid}) among {images}")


def generation_image(job, gen, name):
    return os.path.join(job.ckpt_dir, f".ckpt_gen_{gen}", name)


def committed_generation(job):
    return int(os.readlink(os.path.join(job.ckpt_dir, "ckpt_latest")).rsplit("_", 1)[1])
