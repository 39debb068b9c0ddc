// Preemption signals (see preempt.h).
#include "preempt.h"

#include <signal.h>
#include <string.h>

#include "ckpt/protocol.h"
#include "coordinator_client.h"
#include "log.h"
#include "runtime/shim/real_functions.h"
#include "runtime_events.h"

namespace ckpt {
namespace {

struct SignalName {
  const char* name;
  int signo;
};

constexpr SignalName kNames[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"USR1", SIGUSR1},
    {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"XCPU", SIGXCPU}, {"ALRM", SIGALRM},
};

int parse_signal(const char* s, size_t n) {
  if (n > 3 && strncmp(s, "SIG", 3) == 0) s += 3, n -= 3;
  if (n > 0 && s[0] >= '0' && s[0] <= '9') {
    int v = 0;
    for (size_t i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
    return v > 0 && v < 64 && v != SIGKILL && v != SIGSTOP ? v : 0;
  }
  for (const auto& e : kNames)
    if (strlen(e.name) == n && strncasecmp(e.name, s, n) == 0) return e.signo;
  return 0;
}

void preempt_handler(int sig) {
  Runtime& rt = runtime();
  int32_t none = 0;
  rt.preempt_signo.compare_exchange_strong(none, sig);
  post_event(rt, kEventPreempt);
}

}  // namespace

bool install_preempt_signals(Runtime& rt, const char* spec) {
  bool ok = true;
  for (const char* p = spec; *p;) {
    const char* end = strchr(p, ',');
    size_t n = end ? static_cast<size_t>(end - p) : strlen(p);
    int sig = parse_signal(p, n);
    if (!sig) {
      log_line(LogLevel::kWarn, "CKPT_PREEMPT_SIGNALS names a signal ckpt does not know");
      ok = false;
    } else {
      struct sigaction sa = {};
      sa.sa_handler = preempt_handler;
      sa.sa_flags = SA_RESTART;
      sigfillset(&sa.sa_mask);
      real().sigaction(sig, &sa, nullptr);
      rt.owned_signals.fetch_or(1ull << (sig - 1));
    }
    p = end ? end + 1 : p + n;
  }
  return ok;
}

void send_preempt_request(Runtime& rt) {
  uint8_t buf[64];
  ByteWriter out(buf, sizeof(buf));
  proto::Preempt msg;
  msg.signo = static_cast<uint32_t>(rt.preempt_signo.load());
  msg.encode(out);
  coordinator_send(rt, proto::Msg::kPreempt, out);
}

}  // namespace ckpt
