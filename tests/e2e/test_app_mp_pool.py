"""e2e (real applications): a Python multiprocessing.Pool of 4 worker
processes (Debian's /usr/bin/python3). The pool's task and result queues are
pipes guarded by SemLocks (POSIX semaphores: shared memory in /dev/shm), and
the parent runs three helper threads (worker, task and result handlers). Each
step maps a chunk of work over the pool and reduces it; a shared
multiprocessing.Value (a lock and a counter in shared memory) counts the
tasks done, and imap_unordered and apply_async run too. Each task sleeps a
little, so the checkpoints land while tasks are in flight; stdout and the reduction file must equal an
uninterrupted run's after two checkpoint/kill/restart cycles. Skipped (77)
without /usr/bin/python3."""

import app_common
import harness

APP = r'''
import hashlib, multiprocessing as mp, sys, time

STEPS, SLEEP = int(sys.argv[1]), float(sys.argv[2])
counter = None

def init(shared):
    global counter
    counter = shared

def work(n):
    """Deterministic CPU work: an integer hash chain."""
    x = n * 2654435761 % (1 << 32)
    for _ in range(2000):
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
    time.sleep(SLEEP)  # tasks in flight: where the checkpoints land
    with counter.get_lock():
        counter.value += 1
    return n, x % 1000003

def main():
    shared = mp.Value("q", 0)
    digest = hashlib.sha256()
    total = 0
    with mp.Pool(4, initializer=init, initargs=(shared,)) as pool:
        for step in range(STEPS):
            chunk = range(step * 64, (step + 1) * 64)
            results = pool.map(work, chunk, chunksize=4)
            unordered = sorted(pool.imap_unordered(work, chunk[:16]))
            single = pool.apply_async(work, (step,)).get(timeout=60)
            step_sum = sum(v for _, v in results)
            if unordered != results[:16]:
                print(f"imap_unordered disagrees at step {step}", flush=True)
                sys.exit(3)
            total += step_sum + single[1]
            digest.update(f"{step}:{step_sum}:{single[1]}".encode())
            print(f"step {step} sum {step_sum} tasks {shared.value}", flush=True)
    with open("reduction.txt", "w") as f:
        f.write(f"total {total}\ntasks {shared.value}\ndigest {digest.hexdigest()}\n")
    print("OK", flush=True)

if __name__ == "__main__":
    mp.set_start_method("fork")
    main()
'''


def body(job, bins):
    app_common.require([], "python3", python=True)
    app_common.run_python_program(job, "mp_pool_app", APP, ["100", "0.004"], ["reduction.txt"])


if __name__ == "__main__":
    harness.main("app_mp_pool", body)
