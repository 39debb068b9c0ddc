"""e2e (process trees): spawn_static starts a statically linked child with
posix_spawn. The child cannot carry the runtime: after the first checkpoint
`ckpt_command --status` must list it as outside the computation, naming it
and the reason, and the checkpoint must still commit. The program computes
on through two checkpoint/kill/restart cycles (the static child is not
restored; the program accepts not finding it at the end) and its stdout
must equal an uninterrupted run's."""

import json

import harness


def check_status(job, cycle):
    if cycle != 1:
        return  # after a restart the static child is gone
    rc, out, err = job.command("--status", timeout=20)
    if rc != 0 or "outside" not in out or "static_child" not in out or "statically linked" not in out:
        raise harness.TestFailure(f"ckpt_command --status does not list the static child as outside:\n{out}{err}")
    rc, out, _ = job.command("--status", "--json", timeout=20)
    outside = json.loads(out).get("outside", [])
    if not any(o.get("program") == "static_child" for o in outside):
        raise harness.TestFailure(f"--status --json lists no static_child outside: {outside}")
    harness.log("status lists static_child outside the computation (statically linked)")


def body(job, bins):
    prog = harness.e2e_program(bins, "spawn_static")
    child = harness.e2e_program(bins, "static_child")
    sc = harness.Scenario("outside_static", lambda work: [prog, child, "40", "150"], tree=True,
                          after_checkpoint=check_status)
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("outside_static", body)
