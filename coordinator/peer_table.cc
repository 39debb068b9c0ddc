// The peer table (see peer_table.h).
#include "peer_table.h"

namespace ckpt {

const char* state_name(ProcessState state) {
  switch (state) {
    case ProcessState::kRunning:
      return "running";
    case ProcessState::kSuspending:
      return "suspending";
    case ProcessState::kSnapshotting:
      return "snapshotting";
    case ProcessState::kWriting:
      return "writing";
  }
  return "?";
}

ProcessRecord ProcessRecord::from(const proto::ProcessInfo& info) {
  ProcessRecord r;
  r.vpid = info.vpid;
  r.vppid = info.vppid;
  r.real_pid = info.real_pid;
  r.rank = info.rank;
  r.restart_count = info.restart_count;
  r.host = std::string(info.host);
  r.program = std::string(info.program);
  r.committed_generation = info.committed_generation;
  r.rejoining = info.rejoining != 0;
  return r;
}

std::string ProcessRecord::label() const {
  return std::to_string(vpid) + " (" + program + "@" + host + ")";
}

Peer& PeerTable::add(ScopedFd fd) {
  PeerId id = next_id_++;
  auto [it, inserted] = peers_.try_emplace(id, id, std::move(fd));
  return it->second;
}

Peer* PeerTable::find(PeerId id) {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : &it->second;
}

std::vector<Peer*> PeerTable::processes() {
  std::vector<Peer*> out;
  for (auto& [id, peer] : peers_) {
    if (peer.kind == PeerKind::kProcess && !peer.dead) out.push_back(&peer);
  }
  return out;
}

Peer* PeerTable::find_process(int32_t vpid, const std::string& host) {
  for (Peer* p : processes())
    if (p->process.vpid == vpid && p->process.host == host) return p;
  return nullptr;
}

size_t PeerTable::process_count() { return processes().size(); }

void PeerTable::remove_dead() {
  std::erase_if(peers_, [](const auto& entry) { return entry.second.dead; });
}

}  // namespace ckpt
