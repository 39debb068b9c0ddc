// The client side of the coordinator's rendezvous (CmdRendezvous in
// protocol.h): during a multi-host restart, each ckpt_restart publishes one
// blob for the old hosts it restores and blocks until every old host of the
// checkpoint has been published, then gets every blob of the round.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/job_secret.h"
#include "common/settings.h"

namespace ckpt {

// Publishes `blob` for `members` (old host names: non-empty, no '\n') in
// `round`, a name for this restart attempt shared by every host, and waits
// until the round's members number `expected`. True: *blobs holds every blob
// of the round, one per request in arrival order (ours included). False:
// *err is one line (no coordinator at host:port, a refused request, or no
// answer within `timeout_seconds`; <= 0 waits without limit).
bool rendezvous(const Settings& settings, const Secret& secret, std::string_view round,
                uint32_t expected, const std::vector<std::string>& members, std::string_view blob,
                int timeout_seconds, std::vector<std::string>* blobs, std::string* err);

}  // namespace ckpt
