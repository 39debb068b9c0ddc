// Pseudo-terminals inside the computation, restart side. A PtyTable sees the
// pty records of every image first (the two ends of a pty may be in two
// processes), then creates one new pty per saved pty and hands out its ends.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "ckpt/image_format.h"
#include "pty_state.h"

namespace ckpt {

// The decoded PtyState of a kPtyMaster/kPtySlave record (false if the record
// carries none: shares_with >= 0, or malformed).
bool decode_pty(const image::FdRecord& r, PtyState* out);

class PtyTable {
 public:
  PtyTable() = default;
  ~PtyTable();
  PtyTable(const PtyTable&) = delete;
  PtyTable& operator=(const PtyTable&) = delete;

  // Call for every record of every image before anything else (records of
  // other kinds and records with shares_with >= 0 are ignored). The table
  // keeps views into the records: the images must outlive it.
  void add(const image::FdRecord& r);

  // A slave whose master is in no image leads outside the computation: it
  // becomes ckpt_restart's own terminal (like kTty).
  bool slave_is_outside(const image::FdRecord& r) const;

  // A new descriptor (caller owns it, O_CLOEXEC set) on the master of the
  // record's pty: the pty is created at the first call (termios, window
  // size, packet mode, lock state and the output in flight restored); later
  // calls for the same pty return duplicates of the same open file.
  int master_for(const image::FdRecord& r, std::string* err);
  // A new open (caller owns it, O_NOCTTY|O_CLOEXEC, the record's other
  // flags) of the new slave of the record's pty, creating the pty if needed.
  int slave_for(const image::FdRecord& r, std::string* err);

  // The new number of saved pty `old_index`, -1 if it was not created (yet).
  int new_index(uint32_t old_index) const;
  // "/dev/pts/<new number>" for a saved "/dev/pts/<old_index>", "" if unknown.
  std::string new_slave_path(uint32_t old_index) const;

 private:
  struct Pty {
    bool has_master = false, has_state = false;
    PtyState state;             // the master's if there is one, else a slave's
    uint32_t master_flags = 0;  // the master record's open flags
    int master = -1;            // once created
    int new_index = -1;
  };
  Pty* find(const image::FdRecord& r, std::string* err);
  bool create(Pty& p, const image::FdRecord& r, std::string* err);

  std::map<uint32_t, Pty> ptys_;
};

}  // namespace ckpt
