// The coordinator's event loop (see coordinator.h).
#include "coordinator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "log.h"

namespace ckpt {
namespace {

constexpr PeerId kListenerId = 0;

bool proofs_equal(uint64_t a, uint64_t b) {  // constant time
  volatile uint64_t diff = a ^ b;
  uint8_t acc = 0;
  for (int i = 0; i < 8; i++) acc |= static_cast<uint8_t>(diff >> (8 * i));
  return acc == 0;
}

void epoll_set(int epfd, int op, int fd, PeerId id, bool want_out) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0u);
  ev.data.u64 = id;
  ::epoll_ctl(epfd, op, fd, &ev);
}

// "10.0.0.2:40312", "[::1]:40312".
std::string peer_address(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  return "an unknown address";
}

}  // namespace

int Coordinator::run() {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) {
    log_line("epoll_create1: %s", std::strerror(errno));
    return 1;
  }
  epoll_set(epoll_.get(), EPOLL_CTL_ADD, listener_.get(), kListenerId, false);
  if (config_.interval_s) periodic_.set_interval(config_.interval_s, Clock::now());
  roster_.load(Clock::now());
  epoll_event events[64];
  for (;;) {
    int n = ::epoll_wait(epoll_.get(), events, 64, wait_timeout_ms(Clock::now()));
    if (n < 0 && errno != EINTR) {
      log_line("epoll_wait: %s", std::strerror(errno));
      return 1;
    }
    for (int i = 0; i < n; i++) {
      PeerId id = events[i].data.u64;
      if (id == kListenerId) {
        accept_all();
      } else if (Peer* peer = peers_.find(id); peer && !peer->dead) {
        on_peer_event(*peer, events[i].events);
      }
    }
    settle(Clock::now());
    peers_.remove_dead();
    resume_accepting(Clock::now());
    roster_.save(peers_, Clock::now());
    if (should_exit()) break;
  }
  // Refuse new connections at once: a launcher that comes now starts a new
  // coordinator instead of talking to one on its way out.
  listener_.reset();
  peers_.for_each([](Peer& p) { p.conn.flush_blocking(1000); });
  bad_peers_.flush();
  log_line("exiting");
  return 0;
}

// With --exit-on-last, the coordinator waits kExitGrace after the last
// process left: a program that execs another one reconnects from its new
// image (the runtime follows exec), and must find its coordinator there. It
// stays while a launcher holds it (CmdHold: a restart is on its way) and
// while any connection is open (a process in its handshake; a restart
// across hosts holds one while its hosts start).
bool Coordinator::should_exit() {
  if (commands_.quit_requested()) return true;
  if (!config_.exit_on_last || !had_process_ || peers_.process_count() != 0 || machine_.active()) {
    empty_since_.reset();
    return false;
  }
  Clock::time_point now = Clock::now();
  if (!empty_since_) empty_since_ = now;
  if (now - *empty_since_ < kExitGrace) return false;
  auto hold = commands_.hold_deadline();
  bool connected = false;
  peers_.for_each([&](Peer& p) { connected |= !p.dead; });
  return !(hold && now < *hold) && !connected;
}

// Accepts while there is room for one more pending connection (see
// pending_limit.h); out of room, or out of fds, it stops accepting for a
// moment instead of spinning on a listener that stays readable.
void Coordinator::accept_all() {
  for (;;) {
    Clock::time_point now = Clock::now();
    if (!make_room(now)) return pause_accepting(now);
    sockaddr_storage addr{};
    socklen_t addr_len = sizeof(addr);
    int fd = ::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &addr_len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (!accept_failing_)
        log_line("accept: %s (accepting again in a moment)", std::strerror(errno));
      accept_failing_ = true;
      return pause_accepting(now);
    }
    accept_failing_ = false;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    Peer& peer = peers_.add(ScopedFd(fd));
    peer.address = peer_address(addr);
    peer.conn.set_frame_limit(PendingLimit::kMaxHello);
    if (::getrandom(peer.nonce, sizeof(peer.nonce), 0) !=
        static_cast<ssize_t>(sizeof(peer.nonce))) {
      log_line("getrandom: %s", std::strerror(errno));
      peer.dead = true;
      continue;
    }
    epoll_set(epoll_.get(), EPOLL_CTL_ADD, fd, peer.id, false);
    proto::Challenge challenge;
    std::memcpy(challenge.nonce, peer.nonce, sizeof(peer.nonce));
    peer.conn.queue_message(proto::Msg::kChallenge, challenge);
  }
}

bool Coordinator::make_room(Clock::time_point now) {
  Peer* victim = nullptr;
  switch (pending_.make_room(peers_, now, &victim)) {
    case PendingLimit::Room::kYes:
      return true;
    case PendingLimit::Room::kEvict:
      report_bad_peer(*victim, "evicted, " + std::to_string(pending_.max()) +
                                   " connections were waiting to authenticate");
      victim->dead = true;
      return true;
    case PendingLimit::Room::kFull:
      return false;
  }
  return false;
}

void Coordinator::pause_accepting(Clock::time_point now) {
  if (accept_paused_until_ || !listener_) return;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listener_.get(), nullptr);
  accept_paused_until_ = now + PendingLimit::kPause;
}

void Coordinator::resume_accepting(Clock::time_point now) {
  if (!accept_paused_until_ || now < *accept_paused_until_) return;
  accept_paused_until_.reset();
  if (listener_) epoll_set(epoll_.get(), EPOLL_CTL_ADD, listener_.get(), kListenerId, false);
}

// A peer dropped before it authenticated: logged once (rate-limited).
void Coordinator::report_bad_peer(Peer& peer, const std::string& reason) {
  if (peer.reported) return;
  peer.reported = true;
  bad_peers_.note(peer.address, reason, Clock::now());
}

void Coordinator::on_peer_event(Peer& peer, uint32_t events) {
  if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
  Connection::ReadStatus status = peer.conn.read_available();
  Frame frame;
  bool bad_version = false;
  while (!peer.dead && !peer.closing) {
    Connection::FrameStatus fs = peer.conn.next_frame(&frame, &bad_version);
    if (fs == Connection::FrameStatus::kNeedMore) break;
    if (fs == Connection::FrameStatus::kBad) {
      if (peer.kind == PeerKind::kUnauthenticated && bad_version) {
        reject(peer, "protocol version mismatch (coordinator speaks version " +
                         std::to_string(proto::kProtocolVersion) + ")");
      } else if (peer.kind == PeerKind::kUnauthenticated) {
        std::string why = "oversized frame (a Hello has at most " +
                          std::to_string(PendingLimit::kMaxHello) + " bytes)";
        disconnect(peer, why.c_str());
      } else {
        disconnect(peer, bad_version ? "wrong protocol version" : "oversized frame");
      }
      return;
    }
    handle_frame(peer, frame);
  }
  if (peer.closing) peer.conn.discard_input();  // rejected: nothing more is read
  if (status != Connection::ReadStatus::kClosed) return;
  bool mid_frame = peer.kind == PeerKind::kUnauthenticated && peer.conn.has_partial_input();
  disconnect(peer, mid_frame ? "closed in the middle of a frame" : "connection closed");
}

void Coordinator::handle_frame(Peer& peer, const Frame& frame) {
  switch (peer.kind) {
    case PeerKind::kUnauthenticated:
      authenticate(peer, frame);
      return;
    case PeerKind::kProcess:
      on_process_frame(peer, frame);
      return;
    case PeerKind::kCommand:
      if (!commands_.on_command(peer, frame, Clock::now()))
        disconnect(peer, ("unexpected " + msg_name(frame.type) + " from a command").c_str());
      return;
  }
}

void Coordinator::authenticate(Peer& peer, const Frame& frame) {
  proto::Hello hello;
  if (frame.type != proto::Msg::kHello) return reject(peer, "expected Hello");
  if (!decode_payload(frame, &hello)) return reject(peer, "malformed Hello");
  uint64_t expected = proto::prove(config_.secret.key, peer.nonce, hello.role);
  if (!proofs_equal(hello.proof, expected)) return reject(peer, "wrong job secret");

  proto::Welcome welcome{store_.committed(), store_.dir()};
  if (hello.role == proto::Role::kProcess && hello.process.has_nonce)
    welcome.proof =
        proto::prove(config_.secret.key, hello.process.nonce, proto::Role::kCoordinator);
  peer.conn.queue_message(proto::Msg::kWelcome, welcome);
  peer.conn.set_frame_limit(proto::kMaxFrame);
  if (hello.role != proto::Role::kProcess) {
    peer.kind = PeerKind::kCommand;
    return;
  }
  peer.kind = PeerKind::kProcess;
  peer.process = ProcessRecord::from(hello.process);
  had_process_ = true;
  commands_.release_hold();
  roster_.on_registered(peer);
  if (peer.process.rejoining)
    log_line(
        "process %s registered again after losing its coordinator (rank %d, last committed "
        "generation %llu)",
        peer.process.label().c_str(), peer.process.rank,
        static_cast<unsigned long long>(peer.process.committed_generation));
  else
    log_line("process %s registered (rank %d, restart %u)", peer.process.label().c_str(),
             peer.process.rank, peer.process.restart_count);
  note_generation(peer.process);
  machine_.on_registered(peer);  // after Welcome: a Suspend may follow
}

// A process that took part in a commit this dir does not show (another
// coordinator's dir, or a commit lost): new generations go past it, so
// that no image of it is ever taken for another generation's.
void Coordinator::note_generation(const ProcessRecord& process) {
  if (process.committed_generation <= store_.committed()) return;
  log_line(
      "warning: process %s last took part in generation %llu, but %s holds committed "
      "generation %llu; new generations are numbered past %llu",
      process.label().c_str(), static_cast<unsigned long long>(process.committed_generation),
      store_.dir().c_str(), static_cast<unsigned long long>(store_.committed()),
      static_cast<unsigned long long>(process.committed_generation));
  store_.number_past(process.committed_generation);
}

void Coordinator::reject(Peer& peer, const std::string& reason) {
  report_bad_peer(peer, reason);
  peer.conn.queue_message(proto::Msg::kReject, proto::TextMsg{reason});
  peer.closing = true;
}

// Execing marks the peer until its next frame: a process whose exec failed
// carries on, and anything it sends says so.
void Coordinator::on_process_frame(Peer& peer, const Frame& frame) {
  peer.execing = false;
  if (!dispatch_process_frame(peer, frame))
    disconnect(peer, ("bad " + msg_name(frame.type) + " frame from a process").c_str());
}

bool Coordinator::dispatch_process_frame(Peer& peer, const Frame& frame) {
  switch (frame.type) {
    case proto::Msg::kSuspended: {
      proto::Suspended msg;
      if (!decode_payload(frame, &msg)) return false;
      machine_.on_suspended(peer, msg);
      return true;
    }
    case proto::Msg::kSnapshotted: {
      proto::Snapshotted msg;
      if (!decode_payload(frame, &msg)) return false;
      machine_.on_snapshotted(peer, msg);
      return true;
    }
    case proto::Msg::kWritten: {
      proto::Written msg;
      if (!decode_payload(frame, &msg)) return false;
      machine_.on_written(peer, msg);
      return true;
    }
    case proto::Msg::kExiting:
      peer.exiting = true;
      return true;
    case proto::Msg::kExecing:
      peer.execing = true;
      log_line("process %s is about to exec", peer.process.label().c_str());
      return true;
    case proto::Msg::kOutside: {
      proto::Outside msg;
      if (!decode_payload(frame, &msg)) return false;
      outside_.add(peer, msg);
      outside_.prune(peers_);
      return true;
    }
    case proto::Msg::kPreempt: {
      proto::Preempt msg;
      if (!decode_payload(frame, &msg)) return false;
      preemption_.on_preempt(peer, msg.signo, Clock::now());
      return true;
    }
    case proto::Msg::kCheckpointRequest:
      on_checkpoint_request(peer);
      return true;
    default:
      return false;
  }
}

// The application asked for a checkpoint (ckpt.h): served like a command's,
// the answer going back to that process after the Resume. A checkpoint that
// runs but has not suspended this process yet serves it too (its image is
// taken after the request): the ranks of an MPI job that all ask at once
// get one checkpoint, not two.
void Coordinator::on_checkpoint_request(const Peer& peer) {
  auto answer = [this, id = peer.id](const CheckpointResult& result) {
    Peer* p = peers_.find(id);
    if (!p || p->dead) return;
    p->conn.queue_message(proto::Msg::kCheckpointDone,
                          proto::CmdReply{result.ok ? uint8_t{1} : uint8_t{0}, result.text});
  };
  if (machine_.yet_to_suspend(peer.id)) {
    log_line("process %s asks for a checkpoint: served by the one being taken",
             peer.process.label().c_str());
    queue_.join_running(answer);
    return;
  }
  log_line("process %s asks for a checkpoint", peer.process.label().c_str());
  queue_.request(answer, Clock::now());
}

void Coordinator::disconnect(Peer& peer, const char* why) {
  if (peer.dead) return;
  peer.dead = true;
  if (peer.kind == PeerKind::kProcess) {
    log_line("process %s disconnected: %s", peer.process.label().c_str(), why);
    roster_.on_disconnect(peer, Clock::now());
    machine_.on_disconnect(peer);
    killer_.on_disconnect(peer);
    if (!peer.execing) outside_.prune(peers_);  // an exec'd parent comes back
  } else if (peer.kind == PeerKind::kCommand) {
    commands_.on_disconnect(peer.id);
  } else {
    report_bad_peer(peer, why);
  }
}

void Coordinator::settle(Clock::time_point now) {
  // Each step can queue output, and a failed write can end a checkpoint, so
  // repeat until the output flushes without losing anyone.
  for (int round = 0; round < 4; round++) {
    drop_late_handshakes(now);
    machine_.on_tick(now);
    queue_.on_tick(now);
    killer_.on_tick(now);
    periodic_.on_tick(now, preemption_.active());
    if (!flush_all()) break;
  }
}

// A peer still unauthenticated after the deadline is dropped, a rejected
// one too if its Reject could not go out.
void Coordinator::drop_late_handshakes(Clock::time_point now) {
  peers_.for_each([&](Peer& p) {
    if (!PendingLimit::pending(p) || now - p.connected_at <= PendingLimit::kDeadline) return;
    if (p.closing)
      p.dead = true;
    else
      disconnect(p, "no Hello within 10 s");
  });
  bad_peers_.on_tick(now);
}

// Flushes every peer and keeps EPOLLOUT requested where output remains.
// Returns true if a peer was lost on the way.
bool Coordinator::flush_all() {
  bool lost = false;
  peers_.for_each([&](Peer& p) {
    if (p.dead) return;
    if (!p.conn.flush()) {
      disconnect(p, "write failed");
      lost = true;
      return;
    }
    if (p.closing && !p.conn.has_output()) {
      p.dead = true;  // a rejected peer, after its Reject went out
      return;
    }
    bool want_out = p.conn.has_output();
    if (want_out != p.epollout) {
      epoll_set(epoll_.get(), EPOLL_CTL_MOD, p.conn.fd(), p.id, want_out);
      p.epollout = want_out;
    }
  });
  return lost;
}

int Coordinator::wait_timeout_ms(Clock::time_point now) {
  Clock::time_point next = now + std::chrono::seconds(60);
  if (auto d = machine_.deadline()) next = std::min(next, *d);
  if (auto d = killer_.deadline()) next = std::min(next, *d);
  if (auto d = periodic_.deadline()) next = std::min(next, *d);
  if (empty_since_) next = std::min(next, *empty_since_ + kExitGrace);
  if (auto hold = commands_.hold_deadline(); hold && *hold > now) next = std::min(next, *hold);
  if (auto d = bad_peers_.deadline()) next = std::min(next, *d);
  if (accept_paused_until_) next = std::min(next, *accept_paused_until_);
  peers_.for_each([&](Peer& p) {
    if (PendingLimit::pending(p))
      next =
          std::min(next, p.connected_at + PendingLimit::kDeadline + std::chrono::milliseconds(1));
  });
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
  return static_cast<int>(std::clamp<long long>(ms + 1, 0, 60000));
}

}  // namespace ckpt
