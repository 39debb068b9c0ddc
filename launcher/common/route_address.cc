// Local address towards another host (see route_address.h): a UDP socket
// connect()ed to it sends nothing, but getsockname() then tells the source
// address of that route.
#include "route_address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/scoped_fd.h"

namespace ckpt {

bool is_loopback_name(const std::string& host) {
  return host.empty() || host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

std::string local_address_towards(const std::string& host, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* list = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), "9", &hints, &list); rc != 0) {
    *error = "cannot resolve host " + host + ": " + ::gai_strerror(rc);
    return "";
  }
  std::string out;
  ScopedFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in self{};
  socklen_t len = sizeof(self);
  if (!fd || ::connect(fd.get(), list->ai_addr, list->ai_addrlen) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&self), &len) != 0) {
    *error = "no route to host " + host + ": " + std::strerror(errno);
  } else {
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &self.sin_addr, text, sizeof(text));
    out = text;
  }
  ::freeaddrinfo(list);
  return out;
}

std::string numeric_host(const std::string& host) {
  addrinfo hints = {}, *res = nullptr;
  hints.ai_family = AF_INET;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) return "";
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, buf, sizeof(buf));
  freeaddrinfo(res);
  return buf;
}

}  // namespace ckpt
