"""e2e (real applications): Redis with its clients (Debian redis-server and
redis-tools). A Python driver (/usr/bin/python3) starts redis-server on a
free loopback port with an append-only file in its directory, keeps one
client connection open for the whole run (pipelined SET, INCR, RPUSH, HSET,
ZADD, SADD, LTRIM in RESP) and runs redis-cli every step (INCRBY, LRANGE) as
a second, short-lived client. Server, driver and redis-cli are all in the
computation. Each step the driver sends a pipelined batch and opens a MULTI,
then pauses before reading the replies: the checkpoints land with replies in
flight and a transaction queued in the server. At the end the driver
writes DBSIZE and a sorted dump of every key and value, then SHUTDOWN. That
state, the AOF of the commands and stdout must equal an uninterrupted run's
after two checkpoint/kill/restart cycles. Skipped (77) without
redis-server, redis-cli or /usr/bin/python3."""

import app_common
import harness

APP = r'''
import os, socket, subprocess, sys, time

STEPS, SLEEP = int(sys.argv[1]), float(sys.argv[2])

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

class Client:
    """A minimal RESP client over one TCP connection."""
    def __init__(self, port):
        for _ in range(200):
            try:
                self.sock = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("redis-server did not come up")
        self.rfile = self.sock.makefile("rb")

    def write(self, *cmds):
        out = bytearray()
        for cmd in cmds:
            out += b"*%d\r\n" % len(cmd)
            for arg in cmd:
                arg = str(arg).encode()
                out += b"$%d\r\n%s\r\n" % (len(arg), arg)
        self.sock.sendall(out)

    def send(self, *cmds):
        self.write(*cmds)
        return [self.reply() for _ in cmds]

    def reply(self):
        line = self.rfile.readline()[:-2]
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return int(rest) if kind == b":" else rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.rfile.read(n + 2)[:-2].decode()
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise RuntimeError(f"bad reply {line!r}")

def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *map(str, args)], check=True,
                          capture_output=True, text=True).stdout.split()

def dump(c):
    lines = [f"dbsize {c.send(['DBSIZE'])[0]}"]
    for key in sorted(c.send(["KEYS", "*"])[0]):
        kind = c.send(["TYPE", key])[0]
        if kind == "string":
            value = c.send(["GET", key])[0]
        elif kind == "list":
            value = c.send(["LRANGE", key, 0, -1])[0]
        elif kind == "hash":
            value = sorted(c.send(["HGETALL", key])[0])
        elif kind == "set":
            value = sorted(c.send(["SMEMBERS", key])[0])
        else:
            value = c.send(["ZRANGE", key, 0, -1, "WITHSCORES"])[0]
        lines.append(f"{kind} {key} {value}")
    return "\n".join(lines) + "\n"

def main():
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "yes", "--appendfsync", "always", "--dir", ".",
                               "--logfile", "redis.log", "--daemonize", "no"], stdin=subprocess.DEVNULL)
    c = Client(port)
    while c.send(["PING"])[0] != "PONG":
        time.sleep(0.05)
    x = 99
    for step in range(STEPS):
        batch = []
        for k in range(20):
            x = (x * 1103515245 + 12345) % 2147483648
            batch.append(["SET", f"key:{x % 500}", f"v{step}.{k}"])
            batch.append(["ZADD", "scores", x % 1000, f"m{x % 200}"])
        batch += [["INCR", "counter"], ["RPUSH", "log", f"step{step}"], ["LTRIM", "log", -50, -1],
                  ["HSET", "steps", f"s{step % 30}", step], ["SADD", "seen", step % 37]]
        # The batch and a MULTI are sent, then the client pauses before reading
        # any reply: a checkpoint in the pause finds the replies in flight
        # and the transaction open in the server.
        c.write(*batch, ["MULTI"], ["INCRBY", "multi", step], ["RPUSH", "multi_log", step])
        time.sleep(SLEEP)
        replies = [c.reply() for _ in batch]
        if [c.reply() for _ in range(3)] != ["OK", "QUEUED", "QUEUED"]:
            sys.exit("MULTI did not queue")
        multi = c.send(["EXEC"])[0]
        counter = replies[-5]
        by_cli = cli(port, "INCRBY", "cli_counter", step)
        tail = cli(port, "LRANGE", "log", -2, -1)
        if tail[-1] != f"step{step}" or counter != step + 1:
            print(f"step {step}: unexpected counter {counter} or log tail {tail}", flush=True)
            sys.exit(3)
        print(f"step {step} counter {counter} cli_counter {by_cli[0]} multi {multi} "
              f"zcard {c.send(['ZCARD', 'scores'])[0]}", flush=True)
    with open("state.txt", "w") as f:
        f.write(dump(c))
    try:
        c.send(["SHUTDOWN"])
    except (ConnectionError, RuntimeError, IndexError):
        pass  # the server closes the connection as it exits
    rc = server.wait(timeout=60)
    print(f"redis-server exited {rc}", flush=True)
    sys.exit(rc)

main()
'''


def body(job, bins):
    app_common.require(["redis-server", "redis-cli"], "python3, redis-server, redis-tools", python=True)
    app_common.run_python_program(job, "redis_app", APP, ["120", "0.08"],
                                  ["state.txt", "appendonlydir/appendonly.aof.1.incr.aof"])


if __name__ == "__main__":
    harness.main("app_redis", body)
