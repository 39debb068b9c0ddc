// ckpt_coordinator: the job's coordinator. Parses options, loads the job
// secret, opens the generation store, listens, optionally daemonizes, reads
// the batch job it runs in, then runs the event loop (coordinator.h) until
// told to quit.
#include <csignal>
#include <cstdio>
#include <exception>

#include "common/config_file.h"
#include "common/job_secret.h"
#include "common/roster_file.h"
#include "coordinator.h"
#include "generation_store.h"
#include "job_metadata.h"
#include "listener.h"
#include "log.h"
#include "options.h"

namespace ckpt {
namespace {

// A new secret, but processes that registered with a coordinator of this dir
// still run (it died): they prove the old secret and will be refused.
void warn_if_orphans_cannot_join(const std::string& dir) {
  std::string host = this_host_name();
  size_t running = 0;
  for (const RosterEntry& e : read_roster(dir))
    if (liveness(e, host) != Liveness::kGone) running++;
  if (running == 0) return;
  std::fprintf(stderr,
               "ckpt_coordinator: warning: %zu processes registered with an earlier coordinator "
               "of %s still run, but it holds no job secret (%s): they will be refused; start "
               "the coordinator with their job's CKPT_SECRET\n",
               running, dir.c_str(), kSecretFileName);
}

int run(int argc, char** argv) {
  // 1. Options.
  CoordinatorOptions opts;
  std::string error;
  if (!load_config_or_complain("ckpt_coordinator")) return 1;
  if (!parse_coordinator_options(argc, argv, &opts, &error)) {
    std::fprintf(stderr, "ckpt_coordinator: %s (see --help)\n", error.c_str());
    return 1;
  }
  if (opts.help) {
    std::fputs(kCoordinatorUsage, stdout);
    return 0;
  }

  // 2. The job secret (CKPT_SECRET, the checkpoint dir's, else a new one
  // written there for every process of the job to read): no secret, no
  // coordinator.
  CoordinatorConfig config;
  bool had_secret = load_secret(opts.dir).has_value();
  auto secret = load_or_create_secret(opts.dir, &error);
  if (!secret) {
    std::fprintf(stderr, "ckpt_coordinator: %s\n", error.c_str());
    return 1;
  }
  config.secret = *secret;
  if (!had_secret) warn_if_orphans_cannot_join(opts.dir);

  // 3. The checkpoint dir: find the committed generation, drop leftovers.
  GenerationStore store(opts.dir, opts.keep);
  if (!store.open(&error)) {
    std::fprintf(stderr, "ckpt_coordinator: %s\n", error.c_str());
    return 1;
  }

  // 4. Listen, publish the port, then go to the background if asked.
  ScopedFd listener = listen_tcp(opts.listen, opts.port, &config.port, &error);
  if (!listener) {
    std::fprintf(stderr, "ckpt_coordinator: %s\n", error.c_str());
    return 1;
  }
  if (!opts.port_file.empty()) {
    if (!write_port_file(opts.port_file, config.port, &error)) {
      std::fprintf(stderr, "ckpt_coordinator: %s\n", error.c_str());
      return 1;
    }
  }
  if (opts.daemon) daemonize(opts.dir + "/ckpt_coordinator.log", listener.get());
  std::signal(SIGPIPE, SIG_IGN);
  log_line("listening on %s:%u, dir %s, committed generation %llu", opts.listen.c_str(),
           config.port, opts.dir.c_str(), static_cast<unsigned long long>(store.committed()));

  // 5. Serve.
  config.exit_on_last = opts.exit_on_last;
  config.phase_timeout = std::chrono::seconds(opts.timeout_s);
  config.interval_s = static_cast<uint32_t>(opts.interval_s);
  config.preemption.requeue = opts.requeue;
  config.max_pending = static_cast<size_t>(opts.max_pending);
  config.job = job_metadata_from_env();
  log_line("job: scheduler %s%s%s, keep %d, interval %d s, requeue %s",
           config.job.scheduler.c_str(), config.job.job_id.empty() ? "" : ", id ",
           config.job.job_id.c_str(), opts.keep, opts.interval_s, opts.requeue ? "on" : "off");
  Coordinator coordinator(std::move(listener), store, config);
  return coordinator.run();
}

}  // namespace
}  // namespace ckpt

int main(int argc, char** argv) {
  try {
    return ckpt::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ckpt_coordinator: %s\n", e.what());
    return 1;
  }
}
