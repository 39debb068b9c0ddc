// Pty ends, checkpoint side (see pty_capture.h; encoding in pty_state.h).
#include "pty_capture.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include <ctime>

#include "ckpt/sys.h"
#include "plugins/fd/fd_capture_ops.h"
#include "pty_state.h"
#include "runtime/core/proc_files.h"

namespace ckpt {
namespace {

using image::FdKind;

long ioctl(int fd, unsigned long request, const void* arg) {
  return sys::call3(SYS_ioctl, fd, static_cast<long>(request), reinterpret_cast<long>(arg));
}

long ioctl_value(int fd, unsigned long request, long value) {
  return sys::call3(SYS_ioctl, fd, static_cast<long>(request), value);
}

// Field 7 (tty_nr) of /proc/self/stat: the controlling terminal's device.
uint64_t controlling_tty() {
  char buf[1024];
  ByteWriter text(buf, sizeof(buf));
  read_whole_file("/proc/self/stat", text);
  std::string_view s(buf, text.size());
  size_t paren = s.rfind(')');
  if (paren == std::string_view::npos) return 0;
  s.remove_prefix(paren + 1);
  for (int field = 3; field < 7; field++) {  // skip state, ppid, pgrp, session
    size_t space = s.find(' ', 1);
    if (space == std::string_view::npos) return 0;
    s.remove_prefix(space);
  }
  uint64_t v = 0;
  for (size_t i = 1; i < s.size() && s[i] >= '0' && s[i] <= '9'; i++) v = v * 10 + (s[i] - '0');
  return v;
}

void sleep_ms(long ms) {
  timespec ts = {0, ms * 1000000};
  sys::call2(sys::kNanosleep, reinterpret_cast<long>(&ts), 0);
}

// A descriptor of the master's slave, whatever its lock state.
long open_peer(int master, bool locked) {
  int unlock = 0, lock = 1;
  if (locked) ioctl(master, TIOCSPTLCK, &unlock);
  long peer = ioctl_value(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (locked) ioctl(master, TIOCSPTLCK, &lock);
  return peer;
}

// Reads the output waiting on the master into out (as `len u32` + bytes),
// then writes it back through the slave untransformed, so nothing changes.
void capture_output(int master, const PtyState& st, ByteWriter& out) {
  size_t len_at = out.reserve(4);
  int pending = 0;
  if (ioctl(master, FIONREAD, &pending) < 0 || pending <= 0) return;
  long flags = sys::fcntl(master, F_GETFL);
  sys::fcntl(master, F_SETFL, flags | O_NONBLOCK);
  size_t start = out.size();
  for (;;) {
    size_t at = out.reserve(4096);
    if (out.overflow()) break;
    long got = sys::read(master, out.mutable_data() + at, 4096);
    if (got <= 0) {
      out.truncate(at);
      break;
    }
    // In packet mode each read starts with a status byte: 0 before data; a
    // lone control byte (a flush or flow change not yet seen) is dropped.
    size_t skip = st.packet ? 1 : 0;
    if (skip)
      std::memmove(out.mutable_data() + at, out.data() + at + 1, static_cast<size_t>(got - 1));
    out.truncate(at + static_cast<size_t>(got) - skip);
  }
  sys::fcntl(master, F_SETFL, flags);
  size_t len = out.size() - start;
  out.patch_u32(len_at, static_cast<uint32_t>(len));
  if (len == 0) return;
  long peer = open_peer(master, st.locked);
  if (peer < 0) return;
  KernelTermios raw = st.termios;
  raw.c_oflag &= ~static_cast<uint32_t>(OPOST);
  raw.c_lflag &= ~static_cast<uint32_t>(TOSTOP);
  ioctl(static_cast<int>(peer), kTcsets2, &raw);
  for (size_t done = 0; done < len;) {
    long put = sys::write(static_cast<int>(peer), out.data() + start + done, len - done);
    if (put <= 0) break;
    done += static_cast<size_t>(put);
  }
  ioctl(static_cast<int>(peer), kTcsets2, &st.termios);
  sys::close(static_cast<int>(peer));
  // The bytes reach the master's queue through a kernel worker: wait for
  // them, so that a reader (another process sharing the master) sees them.
  for (int i = 0; i < 100; i++) {
    if (ioctl(master, FIONREAD, &pending) == 0 && static_cast<size_t>(pending) >= len) break;
    sleep_ms(1);
  }
}

}  // namespace

FdKind pty_kind(const struct stat& st) {
  if (!S_ISCHR(st.st_mode)) return FdKind::kOther;
  unsigned maj = major(st.st_rdev);
  if (maj == 5 && minor(st.st_rdev) == 2) return FdKind::kPtyMaster;
  if (maj >= 136 && maj <= 143) return FdKind::kPtySlave;
  return FdKind::kOther;
}

void capture_pty(FdKind kind, int fd, const struct stat& st, ByteWriter& out) {
  PtyState s;
  int value = 0;
  if (kind == FdKind::kPtyMaster) {
    if (ioctl(fd, TIOCGPTN, &value) == 0) s.index = static_cast<uint32_t>(value);
    if (ioctl(fd, TIOCGPTLCK, &value) == 0) s.locked = value != 0;
    if (ioctl(fd, TIOCGPKT, &value) == 0) s.packet = value != 0;
  } else {
    unsigned maj = major(st.st_rdev), min = minor(st.st_rdev);
    s.index = maj == 136 ? min : (maj - 136) * 256 + min;
    s.is_ctty = controlling_tty() == st.st_rdev;
  }
  ioctl(fd, kTcgets2, &s.termios);
  ioctl(fd, TIOCGWINSZ, &s.winsize);
  // A master always answers; a slave only if it is the caller's ctty.
  if (ioctl(fd, TIOCGPGRP, &value) == 0) s.pgrp = value;
  if (ioctl(fd, TIOCGSID, &value) == 0) s.sid = value;
  s.encode_head(out);
  if (kind == FdKind::kPtyMaster)
    capture_output(fd, s, out);
  else
    out.put_u32(0);
}

// The pty family's capture table (see plugins/fd/fd_capture_ops.h).
namespace {

image::FdKind classify_pty(const struct stat& st, std::string_view) { return pty_kind(st); }

bool capture_pty_fd(const FdFacts& f, const AddressMap*, ByteWriter& extra, MessageString&) {
  capture_pty(f.kind, f.fd, f.st, extra);
  return true;
}

}  // namespace

extern const FdCaptureOps kPtyCaptureOps{
    .family = "ptys", .classify = classify_pty, .capture = capture_pty_fd};

}  // namespace ckpt
