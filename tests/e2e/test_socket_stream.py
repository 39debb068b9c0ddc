"""e2e (sockets): socket_stream, a writer child streaming to its slow-reading
parent over a UNIX stream socketpair, a TCP connection over 127.0.0.1 (its
listener closed after the accept), a UNIX stream connection to a listener on a
relative path (still open) and a UNIX seqpacket socketpair, survives two
checkpoint/kill/restart cycles of both processes. The sockets hold bytes in
flight at every checkpoint (the writer is always ahead), so the restart must
put back exactly what was queued: the parent checks every byte and every
message boundary, the writer the parent's checksum; stdout must equal an
uninterrupted run's."""

import harness


def body(job, bins):
    prog = harness.e2e_program(bins, "socket_stream")
    sc = harness.Scenario("socket_stream", lambda work: [prog, "60", "100"], first_steps=5, tree=True)
    harness.run_cycles(job, sc)


if __name__ == "__main__":
    harness.main("socket_stream", body)
