"""e2e (sockets): port_move, a server on TCP 127.0.0.1:P and UDP P+1 that
forks and execs a client per step, which connects to the ports it knew at the
start. Before each restart this script takes both ports itself, so the
restored listener and UDP socket must take other ports: the clients, new
programs started after the restart, still reach them through the old ports
(the address map, carried across exec), getpeername/recvfrom/getsockname
still answer the old ports, and stdout equals an uninterrupted run's over
two checkpoint/kill/restart cycles."""

import socket

import harness


def free_port_pair():
    """A port P with P and P+1 free on 127.0.0.1 (TCP and UDP)."""
    for _ in range(50):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        try:
            for kind, p in ((socket.SOCK_STREAM, port), (socket.SOCK_DGRAM, port + 1)):
                t = socket.socket(socket.AF_INET, kind)
                t.bind(("127.0.0.1", p))
                t.close()
            return port
        except OSError:
            continue
    raise harness.TestFailure("no free pair of ports on 127.0.0.1")


def body(job, bins):
    prog = harness.e2e_program(bins, "port_move")
    port = free_port_pair()
    squatters = []

    def squat(job, images):
        if squatters:
            return  # still held from the first restart
        tcp = socket.socket()
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind(("127.0.0.1", port))
        tcp.listen(1)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", port + 1))
        squatters.extend([tcp, udp])
        harness.log(f"this script now holds TCP {port} and UDP {port + 1}")

    sc = harness.Scenario("port_move", lambda work: [prog, str(port), "40"], first_steps=5, tree=True,
                          before_restart=squat)
    try:
        harness.run_cycles(job, sc)
    finally:
        for s in squatters:
            s.close()
    for cycle in (1, 2):
        with open(job.path(f"restart{cycle}.err"), "rb") as f:
            err = f.read().decode("utf-8", "replace")
        moved = [line for line in err.splitlines() if "is taken here" in line]
        if len(moved) != 2:
            raise harness.TestFailure(f"restart {cycle}: expected notes on 2 moved ports on stderr, got:\n{err}")
        harness.log(f"restart {cycle}: {moved[0]}; {moved[1]}")


if __name__ == "__main__":
    harness.main("port_move", body)
