// Listening socket, port file and daemonizing (see listener.h).
#include "listener.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ckpt {

ScopedFd listen_tcp(const std::string& addr, uint16_t port, uint16_t* bound_port,
                    std::string* error) {
  std::string where = addr + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* list = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(addr.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    *error = "cannot listen on " + where + ": " + ::gai_strerror(rc);
    return ScopedFd();
  }
  ScopedFd fd(::socket(list->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int one = 1;
  bool ok = fd && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
            ::bind(fd.get(), list->ai_addr, list->ai_addrlen) == 0 &&
            ::listen(fd.get(), SOMAXCONN) == 0;
  int err = errno;
  ::freeaddrinfo(list);
  if (!ok) {
    *error = "cannot listen on " + where + ": " + std::strerror(err);
    return ScopedFd();
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  *bound_port = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                         : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return fd;
}

bool write_port_file(const std::string& path, uint16_t port, std::string* err) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) {
    *err = "cannot write port file " + path + ": " + std::strerror(errno);
    return false;
  }
  std::fprintf(f, "%u\n", port);
  bool ok = std::fclose(f) == 0;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    *err = "cannot write port file " + path + ": " + std::strerror(e);
    return false;
  }
  return true;
}

void daemonize(const std::string& log_path, int keep_fd) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    std::fprintf(stderr, "ckpt_coordinator: fork: %s (staying in the foreground)\n",
                 std::strerror(errno));
    return;
  }
  if (pid > 0) ::_exit(0);
  ::setsid();
  if (::chdir("/") != 0) {
    // Nothing depends on the cwd: every path we use is absolute.
  }
  if (keep_fd > 3) ::close_range(3, static_cast<unsigned>(keep_fd) - 1, 0);
  ::close_range(static_cast<unsigned>(std::max(keep_fd, 2)) + 1, ~0u, 0);
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int out_fd = log_fd >= 0 ? log_fd : null_fd;
  if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
  if (out_fd >= 0) {
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(out_fd, STDERR_FILENO);
  }
  if (log_fd >= 0) ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
}

}  // namespace ckpt
