"""e2e: incremental images. A program whose memory is rewritten (10% of a
24 MiB array per step), discarded (MADV_DONTNEED), unmapped and mapped again,
mprotected, moved (mremap) and grown (realloc, brk) between checkpoints, by
threads and child processes that come and go, survives two
checkpoint/kill/restart cycles with a chain of incremental images each time
and prints exactly what an uninterrupted run prints.

Cycle 1: a full image, then three incremental ones (chain 1 <- 2 <- 3 <-
4); the restart resolves the chain. Cycle 2: the first checkpoint after the
restart is full (docs/image_format.md says why), then three incremental
ones; the second restart resolves that chain (5 <- 6 <- 7 <- 8). The 2nd
and 3rd incremental images of each cycle are written from the pages copied
first (CKPT_DIRTY_COPY=1, copy_first.h), most of them before the pause
(the pre-copy), the others by a plain fork. Every image of every generation
passes ckpt_info --verify (every link of its chain), so --keep pruning
(2, the default) has kept the parents the chains need."""

import re

import harness
import incr_common


def body(job, bins):
    incr_common.setup_env(job)
    chain = [("full image", 1), ("incremental", 2), ("incremental", 3), ("incremental", 4)]
    expected = {1: chain, 2: chain}

    def extra_checkpoints(job, cycle):
        images = job.images()
        for n, want in enumerate(expected[cycle]):
            if n > 0:
                images = job.checkpoint(f"checkpoint {cycle}.{n}")
            got = incr_common.lineage(job, incr_common.main_image(job, images))
            if got != want:
                raise harness.TestFailure(f"checkpoint {cycle}.{n}: lineage {got}, expected {want}")
            harness.log(f"checkpoint {cycle}.{n}: {got[0]}, chain length {got[1]}")

    def latest_images(job, images):
        # The restart takes the images of the last checkpoint: a child the
        # program forked may be in them and not in the first one's.
        images[:] = job.images()

    sc = harness.Scenario("incremental", incr_common.scenario_argv(bins), tree=True,
                          after_checkpoint=extra_checkpoints, before_restart=latest_images)
    job.env["CKPT_VERBOSE"] = "1"  # the runtime says how each writer got its pages
    harness.run_cycles(job, sc)
    # The 2nd and 3rd incremental images of each cycle were written from the
    # pages copied in the pause (the first measures how much buffer that
    # takes), and each restart from such a chain gave the exact output
    # above. The runtime's lines are in the program's stderr, app.err (the
    # restored process keeps it); each restart cut it back to its size at
    # the checkpoint, so the last checkpoint's line of a cycle is gone.
    # Those copies were pre-copies: most pages read while the program still
    # ran, the pause copying only what it wrote after (the program keeps
    # writing, so the merge of the two scans is exercised too).
    with open(job.path("app.err"), errors="replace") as f:
        log = f.read()
    copies = log.count("MiB of written pages copied first")
    if copies < 2:
        raise harness.TestFailure(f"{copies} image(s) written from a dirty copy, expected one a cycle at least")
    # (How much depends on how many steps the program made since the last
    # checkpoint: the test takes them back to back, so some are under 1 MiB.)
    pre = [int(m) for m in re.findall(r"\((\d+) MiB before the pause\)", log)]
    if len(pre) < 2 or max(pre) < 1:
        raise harness.TestFailure(f"pre-copies of {pre} MiB, expected one a cycle at least, one of 1 MiB or more")
    harness.log(f"{copies} images written from the written pages copied first, {pre} MiB of them before the pause")


if __name__ == "__main__":
    harness.main("incremental", body)
