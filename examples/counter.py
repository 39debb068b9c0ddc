#!/usr/bin/env python3
"""counter.py: a deterministic pure-Python workload for trying ckpt on an
interpreter (dicts, lists, big integers, floats, a generator).

    python3 counter.py [STEPS=80] [SLEEP_MS=50] [RESULT_FILE=counter_result.txt]

Prints "step I <digest>" per step (flushed), writes the final state to
RESULT_FILE and prints "result <sha256>" then "OK". Same arguments, same
output."""

import hashlib
import math
import sys
import time


def words(seed):
    """An endless deterministic stream of short words (a generator whose
    frame must survive a checkpoint)."""
    x = seed
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    while True:
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        n = 1 + (x >> 60) % 4
        yield "".join(alphabet[(x >> (8 * k)) % 7] for k in range(n))


def main(argv):
    steps = int(argv[1]) if len(argv) > 1 else 80
    sleep_ms = int(argv[2]) if len(argv) > 2 else 50
    result_file = argv[3] if len(argv) > 3 else "counter_result.txt"

    counts = {}           # word -> count
    history = []          # one tuple per step
    fib = (0, 1)          # big integers that grow every step
    factorial = 1
    harmonic = 0.0        # a float running sum
    stream = words(12345)
    digest = hashlib.sha256()

    for i in range(steps):
        for _ in range(2000):
            w = next(stream)
            counts[w] = counts.get(w, 0) + 1
        for _ in range(50):
            fib = (fib[1], fib[0] + fib[1])
        factorial *= i + 1
        harmonic += sum(1.0 / k for k in range(1 + i * 1000, 1 + (i + 1) * 1000))
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        history.append((i, len(counts), fib[1] % 1000003, round(math.sin(harmonic), 12), top))
        digest.update(repr(history[-1]).encode())
        print(f"step {i} {digest.hexdigest()[:16]}", flush=True)
        time.sleep(sleep_ms / 1000.0)

    lines = [
        f"steps {steps}",
        f"distinct words {len(counts)}",
        f"fib digits {len(str(fib[1]))} mod {fib[1] % (10**12 + 39)}",
        f"factorial digits {len(str(factorial))}",
        f"harmonic {harmonic!r}",
        f"top {sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]}",
        f"digest {digest.hexdigest()}",
    ]
    text = "\n".join(lines) + "\n"
    with open(result_file, "w") as f:
        f.write(text)
    print(f"result {hashlib.sha256(text.encode()).hexdigest()}")
    print("OK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
