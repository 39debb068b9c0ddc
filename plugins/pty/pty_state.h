// The state of one end of a pseudo-terminal as stored in FdRecord::extra
// (kinds kPtyMaster and kPtySlave), shared by the checkpoint side (which
// encodes it, malloc-free) and the restart side (which decodes it).
//
//   index u32                 pty number N (/dev/pts/N) at the checkpoint
//   locked u8, packet u8      master: TIOCGPTLCK, TIOCGPKT (0 on a slave)
//   is_ctty u8                slave: it is the process's controlling terminal
//   termios                   struct termios2 of the pty (TCGETS2): iflag u32,
//                             oflag u32, cflag u32, lflag u32, line u8,
//                             cc 19 bytes, ispeed u32, ospeed u32
//   winsize                   rows u16, cols u16, xpixel u16, ypixel u16
//   pgrp i32, sid i32         foreground process group and session of the
//                             terminal as raw pids, 0 if none or unknown (a
//                             slave knows them only if it is the ctty)
//   len u32, len bytes        master: output the slave side wrote that the
//                             master has not read yet (0 on a slave)
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "ckpt/byte_codec.h"

namespace ckpt {

// struct termios2 of <asm/termbits.h>, which clashes with <termios.h>.
struct KernelTermios {
  uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
  uint8_t c_line;
  uint8_t c_cc[19];
  uint32_t c_ispeed, c_ospeed;
};
static_assert(sizeof(KernelTermios) == 44);
inline constexpr unsigned long kTcgets2 = 0x802c542a;  // _IOR('T', 0x2A, struct termios2)
inline constexpr unsigned long kTcsets2 = 0x402c542b;  // _IOW('T', 0x2B, struct termios2)

struct PtyWinsize {
  uint16_t rows, cols, xpixel, ypixel;  // struct winsize
};

struct PtyState {
  uint32_t index = 0;
  uint8_t locked = 0, packet = 0, is_ctty = 0;
  KernelTermios termios = {};
  PtyWinsize winsize = {};
  int32_t pgrp = 0, sid = 0;
  std::string_view data;  // decode: points into the reader's buffer

  // Everything but the data; the caller appends `len u32` + bytes.
  void encode_head(ByteWriter& w) const {
    w.put_u32(index);
    w.put_u8(locked);
    w.put_u8(packet);
    w.put_u8(is_ctty);
    w.put_u32(termios.c_iflag);
    w.put_u32(termios.c_oflag);
    w.put_u32(termios.c_cflag);
    w.put_u32(termios.c_lflag);
    w.put_u8(termios.c_line);
    w.put_bytes(termios.c_cc, sizeof(termios.c_cc));
    w.put_u32(termios.c_ispeed);
    w.put_u32(termios.c_ospeed);
    w.put_u16(winsize.rows);
    w.put_u16(winsize.cols);
    w.put_u16(winsize.xpixel);
    w.put_u16(winsize.ypixel);
    w.put_u32(static_cast<uint32_t>(pgrp));
    w.put_u32(static_cast<uint32_t>(sid));
  }
  bool decode(ByteReader& r) {
    index = r.u32();
    locked = r.u8();
    packet = r.u8();
    is_ctty = r.u8();
    termios.c_iflag = r.u32();
    termios.c_oflag = r.u32();
    termios.c_cflag = r.u32();
    termios.c_lflag = r.u32();
    termios.c_line = r.u8();
    if (const uint8_t* cc = r.bytes(sizeof(termios.c_cc))) std::memcpy(termios.c_cc, cc, 19);
    termios.c_ispeed = r.u32();
    termios.c_ospeed = r.u32();
    winsize = {r.u16(), r.u16(), r.u16(), r.u16()};
    pgrp = static_cast<int32_t>(r.u32());
    sid = static_cast<int32_t>(r.u32());
    data = r.str();
    return r.ok() && r.remaining() == 0;
  }
};

}  // namespace ckpt
