"""e2e (sockets): outside_client, a TCP client connected to a server that is
not part of the computation (this script serves it from a thread, not under
ckpt_launch), survives two checkpoint/kill/restart cycles. The server's end is
in no image, so after each restart the client's connection comes back broken,
as after a network fault: its next send or receive fails cleanly (never a
hang), it says so on stderr, connects again and asks the same question
again. Stdout must equal an uninterrupted run's, and the client's stderr must
report a lost connection after each restart."""

import os
import socket
import socketserver
import struct
import threading

import harness


class Answer(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = b""
            while len(data) < 8:
                chunk = self.request.recv(8 - len(data))
                if not chunk:
                    return
                data += chunk
            (q,) = struct.unpack("<Q", data)
            self.request.sendall(struct.pack("<Q", (q * 2654435761 + 12345) % 2**64))


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def body(job, bins):
    prog = harness.e2e_program(bins, "outside_client")
    server = Server(("127.0.0.1", 0), Answer)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    harness.log(f"outside server listening on 127.0.0.1:{port}")
    try:
        sc = harness.Scenario("outside_client", lambda work: [prog, str(port), "60", "50"], first_steps=5)
        harness.run_cycles(job, sc)
    finally:
        server.shutdown()
        server.server_close()
    with open(job.path("app.err"), "rb") as f:
        lost = f.read().decode("utf-8", "replace").count("connection lost")
    if lost < 2:
        raise harness.TestFailure(f"the client reported {lost} lost connection(s) on stderr, expected one "
                                  f"after each of the 2 restarts")
    harness.log(f"the client reported {lost} lost connections and reconnected")


if __name__ == "__main__":
    harness.main("outside_peer", body)
