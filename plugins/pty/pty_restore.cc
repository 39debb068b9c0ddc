// Pseudo-terminals, restart side (see pty_restore.h).
#include "pty_restore.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

#include "plugins/fd/fd_restore.h"
#include "plugins/fd/fd_restore_ops.h"

namespace ckpt {
namespace {

using image::FdKind;
using image::FdRecord;

std::string failure(const FdRecord& r, const std::string& what) {
  return "cannot recreate pty fd " + std::to_string(r.fd) + " (" + std::string(r.path) +
         "): " + what + ": " + std::strerror(errno);
}

bool is_pty(const FdRecord& r) {
  return r.kind == FdKind::kPtyMaster || r.kind == FdKind::kPtySlave;
}

// The pty number of a record: from its state, else from "/dev/pts/N".
bool record_index(const FdRecord& r, uint32_t* index) {
  PtyState s;
  if (decode_pty(r, &s)) {
    *index = s.index;
    return true;
  }
  std::string_view p = r.path;
  size_t slash = p.rfind('/');
  if (r.kind != FdKind::kPtySlave || slash == std::string_view::npos) return false;
  auto [end, ec] = std::from_chars(p.data() + slash + 1, p.data() + p.size(), *index);
  return ec == std::errc() && end == p.data() + p.size();
}

// Open flags TIOCGPTPEER accepts; the rest are set with F_SETFL.
int peer_flags(uint32_t open_flags) {
  return static_cast<int>(open_flags & O_ACCMODE) | O_NOCTTY | O_CLOEXEC;
}

void set_status_flags(int fd, uint32_t open_flags) {
  fcntl(fd, F_SETFL, open_flags & (O_NONBLOCK | O_APPEND | O_ASYNC));
}

// Writes the saved output through the slave, untransformed, and waits until
// the master can read all of it.
bool inject_output(int master, const PtyState& s) {
  int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (peer < 0) return false;
  KernelTermios raw = s.termios;
  raw.c_oflag &= ~static_cast<uint32_t>(OPOST);
  raw.c_lflag &= ~static_cast<uint32_t>(TOSTOP);
  bool ok = ioctl(peer, kTcsets2, &raw) == 0;
  for (size_t done = 0; ok && done < s.data.size();) {
    ssize_t put = write(peer, s.data.data() + done, s.data.size() - done);
    ok = put > 0;
    if (ok) done += static_cast<size_t>(put);
  }
  ok = ioctl(peer, kTcsets2, &s.termios) == 0 && ok;
  close(peer);
  for (int i = 0; i < 1000; i++) {
    int pending = 0;
    if (ioctl(master, FIONREAD, &pending) == 0 && static_cast<size_t>(pending) >= s.data.size())
      break;
    timespec ms = {0, 1000000};
    nanosleep(&ms, nullptr);
  }
  return ok;
}

}  // namespace

bool decode_pty(const FdRecord& r, PtyState* out) {
  if (!is_pty(r) || r.extra.empty()) return false;
  ByteReader in(r.extra.data(), r.extra.size());
  return out->decode(in);
}

PtyTable::~PtyTable() {
  for (auto& [index, p] : ptys_)
    if (p.master >= 0) close(p.master);
}

void PtyTable::add(const FdRecord& r) {
  PtyState s;
  if (!decode_pty(r, &s)) return;
  Pty& p = ptys_[s.index];
  if (r.kind == FdKind::kPtyMaster && !p.has_master) {
    p.has_master = p.has_state = true;
    p.state = s;
    p.master_flags = r.open_flags;
  } else if (!p.has_state) {
    p.has_state = true;
    p.state = s;
  }
  // The output in flight is the same in every process sharing the master.
  if (p.state.data.empty() && r.kind == FdKind::kPtyMaster) p.state.data = s.data;
}

bool PtyTable::slave_is_outside(const FdRecord& r) const {
  uint32_t index = 0;
  if (r.kind != FdKind::kPtySlave || !record_index(r, &index)) return false;
  auto it = ptys_.find(index);
  return it == ptys_.end() || !it->second.has_master;
}

PtyTable::Pty* PtyTable::find(const FdRecord& r, std::string* err) {
  uint32_t index = 0;
  auto it = record_index(r, &index) ? ptys_.find(index) : ptys_.end();
  if (it == ptys_.end() || !it->second.has_master) {
    errno = ENOENT;
    *err = failure(r, "its master is in no image (add() every record first)");
    return nullptr;
  }
  Pty& p = it->second;
  if (p.master < 0 && !create(p, r, err)) return nullptr;
  return &p;
}

bool PtyTable::create(Pty& p, const FdRecord& r, std::string* err) {
  int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) {
    *err = failure(r, "open /dev/ptmx");
    return false;
  }
  int unlock = 0, lock = 1, packet = 1, index = -1;
  const PtyState& s = p.state;
  bool ok = ioctl(m, TIOCGPTN, &index) == 0 && ioctl(m, TIOCSPTLCK, &unlock) == 0;
  // On a master these act on the slave's terminal.
  ok = ok && ioctl(m, kTcsets2, &s.termios) == 0;
  ok = ok && ioctl(m, TIOCSWINSZ, &s.winsize) == 0;
  ok = ok && (s.data.empty() || inject_output(m, s));
  ok = ok && (!s.packet || ioctl(m, TIOCPKT, &packet) == 0);
  ok = ok && (!s.locked || ioctl(m, TIOCSPTLCK, &lock) == 0);
  if (!ok) {
    *err = failure(r, "setting up the new pty");
    close(m);
    return false;
  }
  set_status_flags(m, p.master_flags);
  p.master = m;
  p.new_index = index;
  return true;
}

int PtyTable::master_for(const FdRecord& r, std::string* err) {
  Pty* p = find(r, err);
  if (!p) return -1;
  int fd = fcntl(p->master, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) *err = failure(r, "dup");
  return fd;
}

int PtyTable::slave_for(const FdRecord& r, std::string* err) {
  Pty* p = find(r, err);
  if (!p) return -1;
  int unlock = 0, lock = 1;
  if (p->state.locked) ioctl(p->master, TIOCSPTLCK, &unlock);
  int fd = ioctl(p->master, TIOCGPTPEER, peer_flags(r.open_flags));
  if (p->state.locked) ioctl(p->master, TIOCSPTLCK, &lock);
  if (fd < 0) {
    *err = failure(r, "opening the new slave");
    return -1;
  }
  set_status_flags(fd, r.open_flags);
  return fd;
}

int PtyTable::new_index(uint32_t old_index) const {
  auto it = ptys_.find(old_index);
  return it == ptys_.end() ? -1 : it->second.new_index;
}

std::string PtyTable::new_slave_path(uint32_t old_index) const {
  int n = new_index(old_index);
  return n < 0 ? std::string() : "/dev/pts/" + std::to_string(n);
}

// The pty family's restore table (plugins/fd/fd_restore_ops.h).
namespace {

int create_pty_fd(FdRestoreContext& c, const image::FdRecord& r, std::string* err) {
  if (r.kind == image::FdKind::kPtyMaster) return c.tables.ptys.master_for(r, err);
  return c.tables.ptys.slave_is_outside(r) ? c.adopt_terminal(r) : c.tables.ptys.slave_for(r, err);
}

constexpr image::FdKind kPtyKinds[] = {image::FdKind::kPtyMaster, image::FdKind::kPtySlave};

}  // namespace

extern const FdRestoreOps kPtyRestoreOps{"ptys", kPtyKinds, create_pty_fd};

}  // namespace ckpt
