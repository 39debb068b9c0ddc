// Coordinator: the event loop. One thread, epoll over the listening socket
// and every peer; authenticates peers (Challenge/Hello), routes process
// frames to the checkpoint machine and command frames to the command
// handler, enforces timeouts, and decides when to exit.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "checkpoint_machine.h"
#include "command_handler.h"
#include "generation_store.h"
#include "job_secret.h"
#include "peer_table.h"
#include "scoped_fd.h"

namespace ckpt {

struct CoordinatorConfig {
  uint16_t port = 0;  // the bound port, for status
  Secret secret;
  bool exit_on_last = false;
  std::chrono::seconds phase_timeout{600};
};

class Coordinator {
 public:
  Coordinator(ScopedFd listener, GenerationStore& store, const CoordinatorConfig& config)
      : listener_(std::move(listener)),
        store_(store),
        config_(config),
        machine_(peers_, store_, config.phase_timeout),
        commands_(peers_, machine_, store_, config.port) {}

  // Serves until a quit command, or (with exit_on_last) until the last
  // process has gone. Returns the exit status.
  int run();

 private:
  void accept_all();
  void on_peer_event(Peer& peer, uint32_t events);
  void handle_frame(Peer& peer, const Frame& frame);
  void authenticate(Peer& peer, const Frame& frame);
  void on_process_frame(Peer& peer, const Frame& frame);
  void reject(Peer& peer, const std::string& reason);
  void disconnect(Peer& peer, const char* why);
  void settle(Clock::time_point now);
  bool flush_all();
  int wait_timeout_ms(Clock::time_point now);
  bool should_exit();

  ScopedFd listener_;
  ScopedFd epoll_;
  GenerationStore& store_;
  CoordinatorConfig config_;
  PeerTable peers_;
  CheckpointMachine machine_;
  CommandHandler commands_;
  bool had_process_ = false;
};

}  // namespace ckpt
