"""e2e (lazy restart): a checkpoint requested while a lazy restart is still
filling. The filler is held to 32 MiB/s (CKPT_LAZY_MBPS) so that 96 MiB take
three seconds, while the program runs for eight: the second checkpoint comes
while pages are still missing, waits for the fill (the runtime's verbose log
says so) while the program runs on, and both that image and the final
output equal an uninterrupted run's."""

import harness
import lazy_common

WAIT_LINE = "lazy restart: the checkpoint waits until every page is in"


def body(job, bins):
    job.env["CKPT_LAZY_MBPS"] = "32"

    def waited(job, cycle):
        seen = lazy_common.runtime_log(job).count(WAIT_LINE)
        if cycle == 2 and seen == 0:
            raise harness.TestFailure("checkpoint 2 came during the fill but the runtime did not wait for it "
                                      f"(no '{WAIT_LINE}' in the verbose log)")
        harness.log(f"checkpoint {cycle}: the runtime waited for a fill {seen} time(s) so far")

    lazy_common.run_lazy(job, bins, "single", 96, 320, processes=1, min_mib=80, after_checkpoint=waited)


if __name__ == "__main__":
    harness.main("lazy_filling", body)
