// Checkpoints the application asks for (see app_requests.h).
#include "app_requests.h"

#include "ckpt/protocol.h"
#include "coordinator_client.h"
#include "fixed_string.h"
#include "futex.h"
#include "runtime_events.h"

namespace ckpt {
namespace {

std::atomic<int32_t> g_asked{0};     // tickets taken
std::atomic<int32_t> g_answered{0};  // tickets answered (futex word)
std::atomic<int32_t> g_last_ok{1};
int32_t g_in_flight = 0;  // checkpoint thread only: the ticket the sent request covers
MessageString g_error;    // written by the checkpoint thread before g_answered moves

void answer_up_to(int32_t ticket, bool ok, std::string_view text) {
  g_error.clear();
  if (!ok) g_error.append(text);
  g_last_ok.store(ok ? 1 : 0);
  g_answered.store(ticket);
  futex_wake_all(g_answered);
}

}  // namespace

AppRequestResult request_checkpoint_and_wait(Runtime& rt) {
  uint32_t restarts = __atomic_load_n(&rt.restart_count, __ATOMIC_SEQ_CST);
  int32_t ticket = g_asked.fetch_add(1) + 1;
  post_event(rt, kEventCheckpointRequest);
  for (;;) {
    int32_t answered = g_answered.load();
    if (answered - ticket >= 0) break;
    futex_wait(g_answered, answered, 100);
  }
  if (__atomic_load_n(&rt.restart_count, __ATOMIC_SEQ_CST) != restarts)
    return AppRequestResult::kRestarted;
  return g_last_ok.load() ? AppRequestResult::kResumed : AppRequestResult::kFailed;
}

const char* app_request_error() { return g_last_ok.load() ? "" : g_error.c_str(); }

void send_app_requests(Runtime& rt) {
  int32_t asked = g_asked.load();
  if (g_in_flight != 0 || asked == g_answered.load()) return;
  uint8_t buf[16];
  ByteWriter out(buf, sizeof(buf));
  g_in_flight = asked;
  if (!coordinator_send(rt, proto::Msg::kCheckpointRequest, out))
    fail_app_requests("cannot send the request to the coordinator");
}

void answer_app_requests(Runtime& rt, bool ok, std::string_view text) {
  if (g_in_flight == 0) return;
  int32_t ticket = g_in_flight;
  g_in_flight = 0;
  answer_up_to(ticket, ok, text);
  send_app_requests(rt);  // tickets taken since the request went out
}

void fail_app_requests(std::string_view why) {
  g_in_flight = 0;
  int32_t asked = g_asked.load();
  if (asked != g_answered.load()) answer_up_to(asked, false, why);
}

void forget_app_requests() {
  g_in_flight = 0;
  g_last_ok.store(1);
  g_answered.store(g_asked.load());
  futex_wake_all(g_answered);
}

}  // namespace ckpt
