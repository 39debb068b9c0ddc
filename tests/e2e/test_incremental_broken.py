"""e2e: a damaged or missing parent of an incremental image. The program of
test_incremental.py is checkpointed three times (generation 1 full, 2 and 3
incremental) and killed. Then, before the first restart:
  - a byte of generation 2's image is flipped, in its first section's
    payload (read and checked by every reader; a flipped byte in a memory
    chunk that no restored page needs is found by --verify only, so a plain
    restart may rightly succeed then): ckpt_info --verify and ckpt_restart
    of generation 3 each fail (non-zero) with one line naming generation
    2's image;
  - generation 2's image is removed: both fail with one line naming it as
    missing;
  - generation 1 (full, intact) is restarted instead and the run goes on.
After that restart a full image and an incremental one are written; the
second restart resolves that chain; the output equals an uninterrupted run."""

import glob
import os

import harness
import incr_common


FILE_HEADER = 96  # docs/image_format.md
SECTION_HEADER = 24


def flip_byte(path):
    """Flips a byte in the payload of the image's first section."""
    with open(path, "r+b") as f:
        f.seek(FILE_HEADER + 8)
        size = int.from_bytes(f.read(8), "little")
        if size < 1:
            raise harness.TestFailure(f"{path}: its first section is empty")
        f.seek(FILE_HEADER + SECTION_HEADER + size // 2)
        b = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([b[0] ^ 0xFF]))


def expect_one_line_failure(job, argv, label, names, why):
    rc, out, err = job.run(argv, timeout=120, label=label)
    lines = [line for line in err.splitlines() if line.strip()]
    if rc == 0:
        raise harness.TestFailure(f"{label} succeeded on a chain whose parent is {why}\n{out[-1500:]}")
    if not lines or names not in lines[-1] or why not in lines[-1]:
        raise harness.TestFailure(f"{label}: expected a last line naming {names} ({why}), got:\n{err[-2000:]}")
    harness.log(f"{label}: exit {rc}: {lines[-1]}")


def body(job, bins):
    incr_common.setup_env(job)
    state = {}

    def extra_checkpoints(job, cycle):
        images = job.images()
        if cycle == 1:
            state["name"] = os.path.basename(incr_common.main_image(job, images))
            for n in (1, 2):
                job.checkpoint(f"checkpoint 1.{n}")
            want = ("incremental", 3)
        else:
            job.checkpoint("checkpoint 2.1")  # full after the restart, then this one
            want = ("incremental", 2)
        got = incr_common.lineage(job, incr_common.main_image(job, job.images()))
        if got != want:
            raise harness.TestFailure(f"checkpoint {cycle}: lineage {got}, expected {want}")
        harness.log(f"checkpoint {cycle}: {got[0]}, chain length {got[1]}")

    def break_parent(job, images):
        if "broken" in state:
            return
        state["broken"] = True
        gen = incr_common.committed_generation(job)
        name = state["name"]
        child = incr_common.generation_image(job, gen, name)
        parent = incr_common.generation_image(job, gen - 1, name)
        gen3 = sorted(glob.glob(os.path.join(job.ckpt_dir, f".ckpt_gen_{gen}", "*.img")))
        flip_byte(parent)
        expect_one_line_failure(job, [bins.info, "--verify", child], "ckpt_info --verify (damaged parent)",
                                parent, "damaged")
        expect_one_line_failure(job, [bins.restart, *gen3], "ckpt_restart (damaged parent)", parent, "damaged")
        os.unlink(parent)
        expect_one_line_failure(job, [bins.info, "--verify", child], "ckpt_info --verify (missing parent)",
                                parent, "missing")
        expect_one_line_failure(job, [bins.restart, *gen3], "ckpt_restart (missing parent)", parent, "missing")
        # The previous intact generation: the full one.
        images[:] = sorted(glob.glob(os.path.join(job.ckpt_dir, f".ckpt_gen_{gen - 2}", "*.img")))
        harness.log(f"restarting generation {gen - 2} instead: {images}")

    sc = harness.Scenario("incremental_broken", incr_common.scenario_argv(bins), tree=True,
                          after_checkpoint=extra_checkpoints, before_restart=break_parent)
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("incremental_broken", body)
