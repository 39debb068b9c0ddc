// Process-level setup of the coordinator: the listening socket, the port
// file, and turning into a daemon once listening.
#pragma once

#include <cstdint>
#include <string>

#include "common/scoped_fd.h"

namespace ckpt {

// A non-blocking listening TCP socket on addr:port; *bound_port gets the
// actual port (useful with port 0). Invalid fd + *error on failure.
ScopedFd listen_tcp(const std::string& addr, uint16_t port, uint16_t* bound_port,
                    std::string* error);

// Writes "PORT\n" to `path` atomically (tmp + rename); false with a
// one-line *err.
bool write_port_file(const std::string& path, uint16_t port, std::string* err);

// fork(); the parent exits 0 at once (the socket already listens, so callers
// can connect as soon as it exits); the child calls setsid(), moves to /,
// closes every inherited fd but `keep_fd` (so it holds no pipe of its
// caller open) and sends stdio to `log_path` (or /dev/null).
void daemonize(const std::string& log_path, int keep_fd);

}  // namespace ckpt
