// Joining the coordinator of a SLURM step's first node (see step_coordinator.h).
#include "step_coordinator.h"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "common/job_secret.h"
#include "launcher/common/ensure_coordinator.h"
#include "launcher/common/route_address.h"
#include "launcher/common/slurm_allocation.h"

namespace ckpt {

std::string join_step_coordinator(Settings* settings) {
  auto lookup = [](const char* name) -> const char* { return getenv(name); };
  std::string here, node = step_coordinator_node(lookup, &here);
  if (node.empty() || node == here) return "";
  std::string address = numeric_host(node);
  if (address.empty()) return "cannot resolve " + node + ", the first node of the step";
  settings->host = address;
  std::string err;
  auto secret = load_or_create_secret(settings->dir, &err);
  if (!secret) return err;
  int wait = 60;
  if (const char* v = getenv("CKPT_STEP_WAIT"); v && atoi(v) > 0) wait = atoi(v);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait);
  for (;;) {
    bool started = false;
    err = ensure_coordinator(*settings, *secret, &started);
    if (err.empty()) return "";
    if (std::chrono::steady_clock::now() > deadline)
      return "the job's coordinator on " + node +
             " (the step's first node) did not answer within " + std::to_string(wait) +
             " s: " + err;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace ckpt
