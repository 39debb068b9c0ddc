// Checkpoints the application asks for itself (ckpt_checkpoint() of
// api/ckpt.h): a calling thread takes a ticket and wakes the checkpoint
// thread, which sends CheckpointRequest to the coordinator (one request in
// flight at a time; tickets taken meanwhile ride on the next one) and, on
// CheckpointDone, marks every ticket up to the request's as answered.
//
// A caller that was checkpointed while it waited and comes back in a
// restarted process is answered once the restart hooks ran, sees the restart
// count changed and returns "restarted".
#pragma once

#include <string_view>

#include "runtime.h"

namespace ckpt {

enum class AppRequestResult { kResumed, kRestarted, kFailed };

// On an application thread: asks for a checkpoint and waits for its end.
AppRequestResult request_checkpoint_and_wait(Runtime& rt);
// Why the last answered request failed ("" if it did not).
const char* app_request_error();

// On the checkpoint thread.
void send_app_requests(Runtime& rt);  // on kEventCheckpointRequest, connected
// CheckpointDone: answers the request in flight, then sends the next one if
// tickets were taken meanwhile.
void answer_app_requests(Runtime& rt, bool ok, std::string_view text);
// No coordinator (lost, or none at restart): every waiting call fails.
void fail_app_requests(std::string_view why);
// In a restarted process or a forked child: no request is in flight (the
// callers that waited see the restart, the child has none).
void forget_app_requests();

}  // namespace ckpt
