// What crosses an exec (see exec_identity.h).
#include "exec_identity.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <string_view>

#include "common/hex.h"
#include "plugins/sockets/net_addresses.h"

namespace ckpt {
namespace {

constexpr const char* kStateVar = "CKPT_EXEC_STATE";
constexpr const char* kAddressesVar = "CKPT_EXEC_ADDRESSES";
char g_preload[4096];

std::string hex(const uint8_t* key, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; i++) {
    s += digits[key[i] >> 4];
    s += digits[key[i] & 15];
  }
  return s;
}

std::vector<std::pair<std::string, std::string>> runtime_vars(const Runtime& rt) {
  char host[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &rt.coord_addr.sin_addr, host, sizeof(host));
  std::string state = std::to_string(rt.real_pid) + ":" + std::to_string(rt.vpid) + ":" +
                      std::to_string(rt.vppid) + ":" + std::to_string(rt.restart_count);
  bool first = true;
  rt.pids.for_each([&](int32_t vpid, int32_t real) {
    state += (first ? ":" : ",") + std::to_string(vpid) + "=" + std::to_string(real);
    first = false;
  });
  const AddressMap& map = address_map();
  return {{"CKPT_COORD_HOST", host},
          {"CKPT_COORD_PORT", std::to_string(ntohs(rt.coord_addr.sin_port))},
          {"CKPT_SECRET", hex(rt.secret, sizeof(rt.secret))},
          {kStateVar, state},
          {kAddressesVar,
           hex(reinterpret_cast<const uint8_t*>(map.moves), map.n * sizeof(AddressMove))}};
}

long number(std::string_view& s) {
  long v = 0;
  bool neg = !s.empty() && s[0] == '-';
  if (neg) s.remove_prefix(1);
  while (!s.empty() && s[0] >= '0' && s[0] <= '9') {
    v = v * 10 + (s[0] - '0');
    s.remove_prefix(1);
  }
  if (!s.empty()) s.remove_prefix(1);  // the separator
  return neg ? -v : v;
}

// The address map the program before the exec had (hex of its moves).
void adopt_addresses(std::string_view s) {
  static AddressMap map;
  map.n = 0;
  size_t each = 2 * sizeof(AddressMove);
  for (size_t at = 0; at + each <= s.size() && map.n < kMaxAddressMoves; at += each) {
    auto* out = reinterpret_cast<uint8_t*>(&map.moves[map.n]);
    if (!decode_hex(s.substr(at), out, sizeof(AddressMove))) return;
    map.n++;
  }
  set_address_map(map);
}

}  // namespace

void remember_preload() {
  const char* v = getenv("LD_PRELOAD");
  if (v && strstr(v, "libckpt")) strncpy(g_preload, v, sizeof(g_preload) - 1);
}

std::vector<std::string> exec_environment(const Runtime& rt, char* const envp[]) {
  auto vars = runtime_vars(rt);
  std::vector<std::string> env;
  bool have_preload = false;
  for (char* const* e = envp; e && *e; e++) {
    std::string_view v(*e);
    std::string_view name = v.substr(0, v.find('='));
    bool ours = false;
    for (auto& [n, value] : vars) ours |= name == n;
    if (ours) continue;
    if (name == "LD_PRELOAD") {
      have_preload = true;
      if (v.find("libckpt") == std::string_view::npos && g_preload[0]) {
        env.push_back(std::string(v) + ":" + g_preload);
        continue;
      }
    }
    env.emplace_back(v);
  }
  if (!have_preload && g_preload[0]) env.push_back(std::string("LD_PRELOAD=") + g_preload);
  for (auto& [n, value] : vars) env.push_back(n + "=" + value);
  return env;
}

void adopt_exec_identity(Runtime& rt) {
  const char* v = getenv(kStateVar);
  const char* addresses = getenv(kAddressesVar);
  if (!v) return;
  std::string_view s(v);
  if (number(s) != rt.real_pid) {  // left behind by an exec outside the runtime
    unsetenv(kStateVar);
    unsetenv(kAddressesVar);
    return;
  }
  if (addresses) adopt_addresses(addresses);
  unsetenv(kAddressesVar);
  rt.vpid = static_cast<int32_t>(number(s));
  rt.vppid = static_cast<int32_t>(number(s));
  rt.restart_count = static_cast<uint32_t>(number(s));
  while (!s.empty()) {
    int32_t vp = static_cast<int32_t>(number(s));
    int32_t real = static_cast<int32_t>(number(s));
    if (vp > 0 && real > 0) rt.pids.add(vp, real);
  }
  unsetenv(kStateVar);
}

void refresh_runtime_env(const Runtime& rt) {
  for (auto& [name, value] : runtime_vars(rt))
    if (name != kStateVar && name != kAddressesVar) setenv(name.c_str(), value.c_str(), 1);
}

}  // namespace ckpt
