"""e2e (sockets): udp_pingpong, a client and a server child asking and
answering over UDP on 127.0.0.1 and over a UNIX datagram socket with an
abstract name (the client's own is autobound), survives two
checkpoint/kill/restart cycles of both processes. Questions and answers wait
in the sockets' queues much of the time, so restarts put datagrams back; the
client sends a question again when its answer does not come within 300 ms,
so a datagram lost costs time, never the result. Every answer is checked;
stdout must equal an uninterrupted run's."""

import harness


def body(job, bins):
    prog = harness.e2e_program(bins, "udp_pingpong")
    sc = harness.Scenario("udp_pingpong", lambda work: [prog, "80", "40"], first_steps=5, tree=True)
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("udp", body)
