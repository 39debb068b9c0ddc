// Pty ends inside the computation: capture_pty on a live pair (odd termios,
// window size, output in flight, packet and lock modes), then a new pair
// from PtyTable with the same state and the same bytes to read.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "pty_capture.h"
#include "pty_restore.h"
#include "tests/unit/fd_record_helper.h"

namespace ckpt {
namespace {

using image::FdKind;
using test::LiveRecord;

struct Pair {
  int master = -1, slave = -1;
  Pair() {
    master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0)
      slave = open(ptsname(master), O_RDWR | O_NOCTTY);
  }
  ~Pair() { close_all(); }
  void close_all() {
    if (master >= 0) close(master);
    if (slave >= 0) close(slave);
    master = slave = -1;
  }
};

KernelTermios get_termios(int fd) {
  KernelTermios t = {};
  ioctl(fd, kTcgets2, &t);
  return t;
}

// Non-canonical, no echo, a custom VINTR, 9600 baud; output processing on,
// so "\n" reaches the master as "\r\n".
void set_odd_termios(int fd) {
  termios t;
  ASSERT_EQ(tcgetattr(fd, &t), 0);
  t.c_lflag &= ~(ECHO | ICANON);
  t.c_iflag &= ~ICRNL;
  t.c_oflag |= OPOST | ONLCR;
  t.c_cc[VINTR] = 0x07;
  t.c_cc[VMIN] = 3;
  t.c_cc[VTIME] = 5;
  cfsetspeed(&t, B9600);
  ASSERT_EQ(tcsetattr(fd, TCSANOW, &t), 0);
}

std::string read_available(int fd) {
  std::string got;
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  for (int tries = 0; tries < 100; tries++) {
    char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
      tries = 0;
    } else if (!got.empty()) {
      break;
    } else {
      usleep(1000);
    }
  }
  fcntl(fd, F_SETFL, flags);
  return got;
}

void wait_readable(int fd, size_t n) {
  for (int i = 0; i < 1000; i++) {
    int pending = 0;
    if (ioctl(fd, FIONREAD, &pending) == 0 && static_cast<size_t>(pending) >= n) return;
    usleep(1000);
  }
}

struct Captured {
  ByteWriter master_extra, slave_extra;
  PtyState master_state, slave_state;
};

void capture(const Pair& p, Captured& c) {
  struct stat st;
  ASSERT_EQ(fstat(p.master, &st), 0);
  ASSERT_EQ(pty_kind(st), FdKind::kPtyMaster);
  capture_pty(FdKind::kPtyMaster, p.master, st, c.master_extra);
  ASSERT_EQ(fstat(p.slave, &st), 0);
  ASSERT_EQ(pty_kind(st), FdKind::kPtySlave);
  capture_pty(FdKind::kPtySlave, p.slave, st, c.slave_extra);
  ASSERT_FALSE(c.master_extra.overflow());
  ByteReader m(c.master_extra.data(), c.master_extra.size());
  ASSERT_TRUE(c.master_state.decode(m));
  ByteReader s(c.slave_extra.data(), c.slave_extra.size());
  ASSERT_TRUE(c.slave_state.decode(s));
}

TEST(Pty, StateAndOutputInFlightSurviveARestore) {
  Pair p;
  ASSERT_GE(p.slave, 0);
  set_odd_termios(p.slave);
  winsize ws = {33, 101, 7, 9};
  ASSERT_EQ(ioctl(p.slave, TIOCSWINSZ, &ws), 0);
  fcntl(p.master, F_SETFL, O_NONBLOCK);
  const std::string sent = "hello\nworld";
  const std::string seen = "hello\r\nworld";
  ASSERT_EQ(write(p.slave, sent.data(), sent.size()), static_cast<ssize_t>(sent.size()));
  wait_readable(p.master, seen.size());
  KernelTermios saved = get_termios(p.slave);
  int old_index = -1;
  ASSERT_EQ(ioctl(p.master, TIOCGPTN, &old_index), 0);

  Captured c;
  capture(p, c);
  EXPECT_EQ(c.master_state.index, static_cast<uint32_t>(old_index));
  EXPECT_EQ(c.slave_state.index, static_cast<uint32_t>(old_index));
  EXPECT_EQ(c.master_state.data, seen);
  EXPECT_TRUE(c.slave_state.data.empty());
  EXPECT_EQ(c.slave_state.winsize.cols, 101);
  EXPECT_EQ(std::memcmp(&c.slave_state.termios, &saved, sizeof(saved)), 0);
  EXPECT_FALSE(c.slave_state.is_ctty);
  // Capturing did not take the output away, nor transform it again.
  KernelTermios after = get_termios(p.slave);
  EXPECT_EQ(std::memcmp(&saved, &after, sizeof(saved)), 0);
  LiveRecord master_rec(p.master, FdKind::kPtyMaster, c.master_extra);
  LiveRecord slave_rec(p.slave, FdKind::kPtySlave, c.slave_extra);
  EXPECT_EQ(read_available(p.master), seen);
  p.close_all();

  PtyTable table;
  table.add(master_rec.r);
  table.add(slave_rec.r);
  EXPECT_FALSE(table.slave_is_outside(slave_rec.r));
  std::string err;
  int master = table.master_for(master_rec.r, &err);
  ASSERT_GE(master, 0) << err;
  int slave = table.slave_for(slave_rec.r, &err);
  ASSERT_GE(slave, 0) << err;
  int new_index = -1;
  ASSERT_EQ(ioctl(master, TIOCGPTN, &new_index), 0);
  EXPECT_EQ(table.new_index(static_cast<uint32_t>(old_index)), new_index);
  char link[64] = {};
  ASSERT_GT(readlink(("/proc/self/fd/" + std::to_string(slave)).c_str(), link, 63), 0);
  EXPECT_EQ(std::string(link), table.new_slave_path(static_cast<uint32_t>(old_index)));
  KernelTermios restored = get_termios(slave);
  EXPECT_EQ(std::memcmp(&saved, &restored, sizeof(saved)), 0);
  winsize now = {};
  ASSERT_EQ(ioctl(slave, TIOCGWINSZ, &now), 0);
  EXPECT_EQ(now.ws_row, 33);
  EXPECT_EQ(now.ws_col, 101);
  EXPECT_EQ(now.ws_xpixel, 7);
  EXPECT_EQ(now.ws_ypixel, 9);
  EXPECT_EQ(fcntl(master, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
  EXPECT_EQ(fcntl(slave, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_EQ(fcntl(master, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_EQ(read_available(master), seen);
  // The new pair works both ways, with the saved line discipline settings.
  ASSERT_EQ(write(master, "ab\r", 3), 3);
  char buf[8] = {};
  EXPECT_EQ(read(slave, buf, sizeof(buf)), 3);  // VMIN 3, ICRNL off
  EXPECT_EQ(std::string(buf, 3), "ab\r");
  EXPECT_EQ(read_available(master), "");  // no echo
  close(master);
  close(slave);
}

TEST(Pty, PacketModeAndLockStateAreKept) {
  Pair p;
  ASSERT_GE(p.slave, 0);
  int on = 1;
  ASSERT_EQ(ioctl(p.master, TIOCPKT, &on), 0);
  ASSERT_EQ(ioctl(p.master, TIOCSPTLCK, &on), 0);  // relocked after the slave opened
  ASSERT_EQ(write(p.slave, "xyz", 3), 3);
  wait_readable(p.master, 3);
  Captured c;
  capture(p, c);
  EXPECT_TRUE(c.master_state.packet);
  EXPECT_TRUE(c.master_state.locked);
  EXPECT_EQ(c.master_state.data, "xyz");
  LiveRecord master_rec(p.master, FdKind::kPtyMaster, c.master_extra);
  LiveRecord slave_rec(p.slave, FdKind::kPtySlave, c.slave_extra);
  EXPECT_EQ(read_available(p.master), std::string("\0xyz", 4));
  p.close_all();

  PtyTable table;
  table.add(slave_rec.r);  // any order
  table.add(master_rec.r);
  std::string err;
  int slave = table.slave_for(slave_rec.r, &err);
  ASSERT_GE(slave, 0) << err;
  int master = table.master_for(master_rec.r, &err);
  ASSERT_GE(master, 0) << err;
  int value = 0;
  ASSERT_EQ(ioctl(master, TIOCGPKT, &value), 0);
  EXPECT_EQ(value, 1);
  ASSERT_EQ(ioctl(master, TIOCGPTLCK, &value), 0);
  EXPECT_EQ(value, 1);
  EXPECT_EQ(read_available(master), std::string("\0xyz", 4));
  close(master);
  close(slave);
}

// Captures one end into out and decodes it into s (which points into out).
bool capture_state(FdKind kind, int fd, ByteWriter& out, PtyState* s) {
  struct stat st;
  fstat(fd, &st);
  capture_pty(kind, fd, st, out);
  ByteReader in(out.data(), out.size());
  return s->decode(in);
}

// In a new session whose controlling terminal is the slave, the slave knows
// it is the ctty and reports the foreground group and the session.
TEST(Pty, ControllingTerminalIsRecorded) {
  Pair p;
  ASSERT_GE(p.slave, 0);
  pid_t child = fork();
  if (child == 0) {
    setsid();
    if (ioctl(p.slave, TIOCSCTTY, 0) != 0) _exit(10);
    ByteWriter out;
    PtyState s;
    if (!capture_state(FdKind::kPtySlave, p.slave, out, &s)) _exit(11);
    if (!s.is_ctty) _exit(12);
    if (s.pgrp != getpgrp() || s.sid != getsid(0)) _exit(13);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // The master sees the same group and session.
  ByteWriter out;
  PtyState s;
  ASSERT_TRUE(capture_state(FdKind::kPtyMaster, p.master, out, &s));
  EXPECT_EQ(s.sid, 0);  // the session ended with the child
}

TEST(Pty, SlaveWithoutMasterIsOutside) {
  Pair p;
  ASSERT_GE(p.slave, 0);
  Captured c;
  capture(p, c);
  LiveRecord slave_rec(p.slave, FdKind::kPtySlave, c.slave_extra);
  PtyTable table;
  table.add(slave_rec.r);
  EXPECT_TRUE(table.slave_is_outside(slave_rec.r));
  std::string err;
  EXPECT_LT(table.slave_for(slave_rec.r, &err), 0);
  EXPECT_NE(err.find("master is in no image"), std::string::npos) << err;
  // A dup'd slave (no extra) is recognised by its path.
  ByteWriter none;
  LiveRecord dup_rec(p.slave, FdKind::kPtySlave, none);
  EXPECT_TRUE(table.slave_is_outside(dup_rec.r));
}

}  // namespace
}  // namespace ckpt
