// Frame encoding, header validation and message names (see frame.h).
#include "frame.h"

namespace ckpt {

HeaderCheck check_header(const proto::FrameHeader& header) {
  if (header.version != proto::kProtocolVersion) return HeaderCheck::kBadVersion;
  if (header.size > proto::kMaxFrame) return HeaderCheck::kTooLarge;
  return HeaderCheck::kOk;
}

void append_frame(std::vector<uint8_t>* out, proto::Msg type, const ByteWriter& payload) {
  proto::FrameHeader h{static_cast<uint32_t>(payload.size()), static_cast<uint16_t>(type),
                       proto::kProtocolVersion};
  auto* hp = reinterpret_cast<const uint8_t*>(&h);
  out->insert(out->end(), hp, hp + sizeof(h));
  if (payload.size() > 0) out->insert(out->end(), payload.data(), payload.data() + payload.size());
}

std::string msg_name(proto::Msg type) {
  using proto::Msg;
  switch (type) {
    case Msg::kChallenge:
      return "Challenge";
    case Msg::kHello:
      return "Hello";
    case Msg::kWelcome:
      return "Welcome";
    case Msg::kReject:
      return "Reject";
    case Msg::kSuspend:
      return "Suspend";
    case Msg::kWrite:
      return "Write";
    case Msg::kResume:
      return "Resume";
    case Msg::kKill:
      return "Kill";
    case Msg::kSnapshot:
      return "Snapshot";
    case Msg::kSuspended:
      return "Suspended";
    case Msg::kWritten:
      return "Written";
    case Msg::kPreempt:
      return "Preempt";
    case Msg::kSnapshotted:
      return "Snapshotted";
    case Msg::kExecing:
      return "Execing";
    case Msg::kExiting:
      return "Exiting";
    case Msg::kOutside:
      return "Outside";
    case Msg::kCheckpointRequest:
      return "CheckpointRequest";
    case Msg::kCheckpointDone:
      return "CheckpointDone";
    case Msg::kCmdCheckpoint:
      return "CmdCheckpoint";
    case Msg::kCmdStatus:
      return "CmdStatus";
    case Msg::kCmdKill:
      return "CmdKill";
    case Msg::kCmdQuit:
      return "CmdQuit";
    case Msg::kCmdHold:
      return "CmdHold";
    case Msg::kCmdInterval:
      return "CmdInterval";
    case Msg::kCmdRendezvous:
      return "CmdRendezvous";
    case Msg::kCmdProgress:
      return "CmdProgress";
    case Msg::kCmdReply:
      return "CmdReply";
  }
  return "message " + std::to_string(static_cast<unsigned>(type));
}

}  // namespace ckpt
