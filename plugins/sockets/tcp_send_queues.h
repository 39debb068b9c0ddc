// TCP send queues taken ahead of the snapshot. The two ends of a connection
// are captured by different processes at different moments; if a receiver
// captured its receive queue (rcv_nxt) before its sender captured its send
// queue (from snd_una), bytes ACKed in between would be in neither image.
// So every process takes the send queues of its connected TCP sockets at the
// end of the Suspend phase, once its threads are stopped (write_seq cannot
// move), and the receive queues later, in the Snapshot phase, after the
// coordinator's barrier: the sender's snd_una then is at most the receiver's
// rcv_nxt, and the overlap is deduplicated by sequence numbers at restart.
// Malloc-free: the queues live in a growable ByteWriter (raw mmap), released
// before the memory snapshot and whenever the checkpoint is given up.
#pragma once

#include <cstdint>
#include <string_view>

#include "runtime/core/fixed_string.h"

namespace ckpt {

// Takes the send queue (write_seq and the bytes not yet ACKed) of every
// connected TCP socket of the process, but the descriptors in `skip` (the
// runtime's own); each socket in and out of TCP_REPAIR mode, never held in
// it. Sockets that refuse repair mode (no CAP_NET_ADMIN) are left to the
// snapshot. False with err (and nothing kept) when a queue cannot be copied.
bool take_tcp_send_queues(const int* skip, int n_skip, MessageString& err);
// The send queue taken for socket (dev, ino), as the image stores it: u32
// send_seq, then the bytes as a str (u32 length first). False if none.
bool taken_tcp_send_queue(uint64_t dev, uint64_t ino, std::string_view* image_bytes);
// Forgets (and unmaps) the taken queues.
void drop_tcp_send_queues();
// How many sockets' send queues are kept (tests, logs).
int taken_tcp_send_queue_count();

}  // namespace ckpt
