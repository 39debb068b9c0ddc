"""e2e (real applications): SQLite in WAL mode, from Debian's python3 sqlite3
module and sqlite3 CLI. One Python process keeps a WAL database open for the
whole run (its -wal file and the mmap'd -shm index are shared memory) and
commits a transaction per step (pausing with it open, so that checkpoints
find it open about half the time), while a second long-lived connection in a
forked reader process checks, every step, what the writer committed. SQLite
checkpoints the WAL into the database every few steps (wal_autocheckpoint).
Every step the writer checks with F_GETLK that the reader still holds its
fcntl read lock on the -shm file (the lock SQLite uses to tell that the WAL
index is in use): the locks must come back with the processes.
At the end the sqlite3 CLI dumps the database (`.dump`): the dump, the
script's own checksum of the rows and stdout must equal an uninterrupted
run's after two checkpoint/kill/restart cycles. Skipped (77) without
/usr/bin/python3 or the sqlite3 CLI."""

import app_common
import harness

# Prints "step I" once step I is committed and seen by the reader; paced so
# that the checkpoints land while transactions are in progress.
APP = r'''
import fcntl, hashlib, os, sqlite3, struct, subprocess, sys, time

STEPS, SLEEP = int(sys.argv[1]), float(sys.argv[2])

def connect():
    db = sqlite3.connect("app.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=8")   # pages: fold the WAL back often
    return db

def rows_digest(db):
    h = hashlib.sha256()
    for row in db.execute("SELECT id, step, name, value, blob FROM items ORDER BY id"):
        h.update(repr(row).encode())
    return h.hexdigest()

def lock_held_by_other(fd, offset):
    """The type of lock another process holds on byte `offset` (F_GETLK)."""
    probe = struct.pack("hhxxxxqqixxxx", fcntl.F_WRLCK, os.SEEK_SET, offset, 1, 0)
    return struct.unpack("hhxxxxqqixxxx", fcntl.fcntl(fd, fcntl.F_GETLK, probe))[0]

def reader(fd_in, fd_out):
    """A second connection (its own -shm mapping) in a child process: for each
    step number sent, checks that the writer's commit of that step is visible."""
    rin, wout = os.fdopen(fd_in, "r"), os.fdopen(fd_out, "w")
    db = None
    for line in rin:
        db = db or connect()
        step = int(line)
        n, total = db.execute("SELECT count(*), coalesce(sum(value), 0) FROM items WHERE step <= ?",
                              (step,)).fetchone()
        wout.write(f"{n} {total}\n")
        wout.flush()
    os._exit(0)

def main():
    # The reader is forked before any connection exists (SQLite connections
    # must not cross a fork); it connects at its first question.
    ask_r, ask_w = os.pipe()
    answer_r, answer_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ask_w); os.close(answer_r)
        reader(ask_r, answer_w)
    os.close(ask_r); os.close(answer_w)
    db = connect()
    db.execute("CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, step INT, name TEXT, "
               "value INT, blob BLOB)")
    db.execute("CREATE INDEX IF NOT EXISTS items_step ON items(step)")
    ask, answer = os.fdopen(ask_w, "w"), os.fdopen(answer_r, "r")
    # Kept open to the end: closing an fd of a file drops the process's
    # POSIX locks on it, SQLite's included.
    shm = os.open("app.db-shm", os.O_RDONLY)
    x, rows, total = 12345, 0, 0
    for step in range(STEPS):
        db.execute("BEGIN IMMEDIATE")
        for k in range(40):
            x = (x * 1103515245 + 12345) % (1 << 31)
            db.execute("INSERT INTO items(step, name, value, blob) VALUES (?, ?, ?, ?)",
                       (step, f"item-{step}-{k}", x % 100000, bytes((x >> s) & 255 for s in range(0, 64, 3))))
            total += x % 100000
        rows += 40
        # Rewrite and delete some older rows: pages change in place in the WAL.
        db.execute("UPDATE items SET value = value + 1 WHERE id % 7 = ?", (step % 7,))
        total += db.execute("SELECT count(*) FROM items WHERE id % 7 = ?", (step % 7,)).fetchone()[0]
        deleted = db.execute("SELECT count(*), coalesce(sum(value), 0) FROM items WHERE id % 97 = ?",
                             (step % 97,)).fetchone()
        db.execute("DELETE FROM items WHERE id % 97 = ?", (step % 97,))
        rows -= deleted[0]; total -= deleted[1]
        time.sleep(SLEEP / 2)  # a checkpoint here finds the write transaction open
        db.execute("COMMIT")
        ask.write(f"{step}\n"); ask.flush()
        seen = answer.readline().split()
        if [int(v) for v in seen] != [rows, total]:
            print(f"reader saw {seen} after step {step}, writer has {rows} {total}", flush=True)
            sys.exit(3)
        # The reader's connection holds a read lock on the -shm file's DMS
        # byte (128) for its lifetime: it tells SQLite the WAL index is in use.
        if lock_held_by_other(shm, 128) != fcntl.F_RDLCK:
            print(f"step {step}: the reader's lock on app.db-shm is gone", flush=True)
            sys.exit(4)
        print(f"step {step} rows {rows} total {total}", flush=True)
        time.sleep(SLEEP / 2)
    ask.close()
    os.waitpid(pid, 0)
    print(f"digest {rows_digest(db)}", flush=True)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    with open("dump.sql", "w") as out:
        subprocess.run(["sqlite3", "app.db", ".dump"], stdout=out, check=True)
    print("OK", flush=True)

main()
'''


def body(job, bins):
    app_common.require(["sqlite3"], "python3, sqlite3", python=True)
    app_common.run_python_program(job, "sqlite_app", APP, ["120", "0.08"], ["dump.sql"])


if __name__ == "__main__":
    harness.main("app_sqlite", body)
