// The runtime's connection to the coordinator: raw socket syscalls and a
// static receive buffer, so it works on the checkpoint path and right after
// a restart (before application threads run again).
#pragma once

#include "ckpt/byte_codec.h"
#include "ckpt/protocol.h"
#include "fixed_string.h"
#include "runtime.h"

namespace ckpt {

// Connect, prove the secret and register as a process (rejoining: after
// losing the previous coordinator). Sets rt.coord_fd. Connect and handshake
// give up after a few seconds.
bool coordinator_connect(Runtime& rt, MessageString& err, bool rejoining = false);
void coordinator_close(Runtime& rt);
// In a fork child: the send lock may be held by a parent's thread that
// does not exist here.
void coordinator_forget_in_child();
bool coordinator_send(Runtime& rt, proto::Msg type, const ByteWriter& payload);
// Blocks for the next frame. The reader views a static buffer that stays
// valid until the next call. False when the connection is gone.
bool coordinator_recv(Runtime& rt, proto::Msg& type, ByteReader& payload);

}  // namespace ckpt
