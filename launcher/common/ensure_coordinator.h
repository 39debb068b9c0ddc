// ensure_coordinator: make sure a coordinator of *this* job answers on
// settings.host:port and stays for the processes about to be started
// (CmdHold: until one registers, at most 10 minutes), starting one
// (daemonized, --exit-on-last) when none answers and the host is this
// machine. A coordinator that is exiting (its last process just left) does
// not answer the hold: it is waited out and a new one started. A coordinator we start inherits our
// environment (CKPT_INTERVAL, CKPT_KEEP, CKPT_REQUEUE, the scheduler's job
// variables); one that already runs is sent CmdInterval when CKPT_INTERVAL is set.
#pragma once

#include <string>

#include "common/job_secret.h"
#include "common/settings.h"

namespace ckpt {

// "" on success (*started tells whether we started it), else a one-line error:
// "a coordinator of another job is listening on port P", "no coordinator at
// H:P and H is not this machine", "cannot find ckpt_coordinator next to ...",
// "ckpt_coordinator ... did not answer within 10 s", ...
std::string ensure_coordinator(const Settings& settings, const Secret& secret, bool* started);

// Same, with an explicit coordinator program (tests; find_tool otherwise).
std::string ensure_coordinator(const Settings& settings, const Secret& secret, bool* started,
                               const std::string& coordinator_path);

// True for localhost, 127.x, ::1, "" and this machine's hostname.
bool is_local_host(const std::string& host);

}  // namespace ckpt
