// How a process's image is written, chosen per process and per checkpoint:
//   fork: a copy-on-write child writes the image while the application runs
//     on. The pause is the fork alone, but every page the application writes
//     while the child lives costs it a copy-on-write fault (a program that
//     sweeps 1 GiB each step lost 6.4 s per checkpoint here);
//   copy: during the pause the private anonymous memory is copied into a
//     buffer, the copied regions are left out of the fork (MADV_WIPEONFORK),
//     and the child writes them from the buffer. The pause grows by one copy
//     of that memory (~0.1 s per GiB) and the process needs that much more
//     memory until the image is written, but it takes no fault afterwards.
//     The buffer is kept between checkpoints; making it (the first copy
//     after a launch or a restart) costs more than the copy itself.
// The choice compares the two costs from the rate at which the process
// touched its memory just before the checkpoint; for the last checkpoint of
// a computation (it is killed once it commits: a preemption, `ckpt_command
// --checkpoint --kill`) nothing the application loses afterwards counts and
// the shortest commit wins: fork. Pure functions: the unit tests run them
// as they are.
#pragma once

#include <cstdint>

namespace ckpt {

enum class WriteMode { kFork, kCopy };
// CKPT_WRITE_MODE: auto (default), fork or copy.
enum class WriteModeSetting { kAuto, kFork, kCopy };

struct WriteModeInput {
  WriteModeSetting setting = WriteModeSetting::kAuto;
  uint64_t copy_bytes = 0;      // resident private anonymous memory a copy would take
  uint64_t touched_per_s = 0;   // bytes of memory the process touched per second (sampled)
  uint64_t mem_available = 0;   // MemAvailable
  uint64_t copy_limit = ~0ull;  // CKPT_COPY_MAX_MIB, in bytes
  bool last = false;            // the computation is killed once this checkpoint commits
  uint64_t buffer_ready = 0;    // bytes of copy buffer already mapped and populated
};

// Below this, both ways cost little: fork, and do not sample.
inline constexpr uint64_t kMinCopyBytes = 32ull << 20;
// The cost model's constants, measured on the 2-core VM of docs/performance.md.
inline constexpr double kCopyBytesPerS = 2.0e9;      // copy into a new buffer, first touch included
inline constexpr double kWriterBytesPerS = 1.0e9;    // the child compressing and writing
inline constexpr double kCowFaultS = 10e-6;          // one copy-on-write fault, writer competing
inline constexpr double kPopulateBytesPerS = 1.6e9;  // mapping and populating a new copy buffer

WriteModeSetting parse_write_mode(const char* value);
// Whether the copy fits: at most half of MemAvailable and the limit.
bool copy_fits(const WriteModeInput& in);
// Seconds the application is expected to lose with each mode.
double fork_cost_s(const WriteModeInput& in);
// The copy, plus populating the part of the buffer that is not ready.
double copy_cost_s(const WriteModeInput& in);
WriteMode choose_write_mode(const WriteModeInput& in);
// Auto chose fork only because the buffer is not ready: with one, the copy
// would cost less than the faults. The buffer is then made while the
// application runs on after the checkpoint, for the next one.
bool copy_wins_once_ready(const WriteModeInput& in);

}  // namespace ckpt
