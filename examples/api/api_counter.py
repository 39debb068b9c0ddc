#!/usr/bin/env python3
"""api_counter.py: api_counter.c in Python, through the ckpt module
(docs/api.md); runs unchanged without ckpt.

    python3 api_counter.py [STEPS=40] [SLEEP_MS=50] [EVENTS_FILE=api_events.txt]

Prints the same "step I sum=S" lines and "result S" as api_counter.c, and
writes the same EVENTS_FILE lines (see there)."""

import sys
import threading
import time

import ckpt

trace = []
pre_b_seen = threading.Event()


def hook(name, event=None):
    def run():
        trace.append(name)
        if event:
            event.set()
    return run


OUTCOME = {ckpt.RESUMED: "resumed", ckpt.RESTARTED: "restarted", ckpt.NOT_RUNNING: "not-running"}


def event_line(events, n, step, r):
    events.write(f"ckpt {n} at step {step}: {OUTCOME.get(r, 'failed')} "
                 f"restarts={ckpt.restart_count()} hooks=[{' '.join(trace)}]\n")
    if r == ckpt.FAILED:
        events.write(f"error: {ckpt.error()}\n")
    events.flush()


def checkpoint_around_critical_section():
    """A checkpoint asked for by another thread while this one is inside a
    critical section commits only after the section ends."""
    result = []
    with ckpt.critical():
        pre_b_seen.clear()
        t = threading.Thread(target=lambda: result.append(ckpt.checkpoint()))
        t.start()
        if ckpt.is_running():
            pre_b_seen.wait()
        time.sleep(0.2)
        trace.append("critical:left")
    t.join()
    return result[0]


def main(argv):
    steps = int(argv[1]) if len(argv) > 1 else 40
    pause = int(argv[2]) if len(argv) > 2 else 50
    events = open(argv[3] if len(argv) > 3 else "api_events.txt", "a")
    added = ckpt.add_hook(ckpt.HOOK_PRE_CHECKPOINT, hook("pre:A"))
    ckpt.add_hook(ckpt.HOOK_PRE_CHECKPOINT, hook("pre:B", pre_b_seen))
    ckpt.add_hook(ckpt.HOOK_RESUME, hook("resume:A"))
    ckpt.add_hook(ckpt.HOOK_RESUME, hook("resume:B"))
    ckpt.add_hook(ckpt.HOOK_RESTART, hook("restart:A"))
    ckpt.add_hook(ckpt.HOOK_RESTART, hook("restart:B"))
    events.write(f"start: running={int(ckpt.is_running())} restarts={ckpt.restart_count()} add_hook={added}\n")
    events.flush()
    total, n = 0, 0
    for i in range(1, steps + 1):
        total = (total * 31 + i * i) % 1000000007
        print(f"step {i} sum={total}", flush=True)
        if i in (steps // 4, steps // 2, 3 * steps // 4):
            trace.clear()
            r = checkpoint_around_critical_section() if i == 3 * steps // 4 else ckpt.checkpoint()
            n += 1
            event_line(events, n, i, r)
        time.sleep(pause / 1000)
    print(f"result {total}", flush=True)
    events.write(f"end: restarts={ckpt.restart_count()}\n")
    events.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
