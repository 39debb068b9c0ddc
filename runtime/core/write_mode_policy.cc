// The write mode policy (see write_mode_policy.h).
#include "write_mode_policy.h"

namespace ckpt {

namespace {

bool same(const char* a, const char* b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

}  // namespace

WriteModeSetting parse_write_mode(const char* value) {
  if (!value) return WriteModeSetting::kAuto;
  if (same(value, "fork")) return WriteModeSetting::kFork;
  if (same(value, "copy")) return WriteModeSetting::kCopy;
  return WriteModeSetting::kAuto;
}

bool copy_fits(const WriteModeInput& in) {
  return in.copy_bytes <= in.mem_available / 2 && in.copy_bytes <= in.copy_limit;
}

double fork_cost_s(const WriteModeInput& in) {
  // Pages written while the child lives fault once each, at most every page.
  double write_s = static_cast<double>(in.copy_bytes) / kWriterBytesPerS;
  double touched = static_cast<double>(in.touched_per_s) * write_s;
  if (touched > static_cast<double>(in.copy_bytes)) touched = static_cast<double>(in.copy_bytes);
  return touched / 4096.0 * kCowFaultS;
}

double copy_cost_s(const WriteModeInput& in) {
  uint64_t missing = in.copy_bytes > in.buffer_ready ? in.copy_bytes - in.buffer_ready : 0;
  return static_cast<double>(in.copy_bytes) / kCopyBytesPerS +
         static_cast<double>(missing) / kPopulateBytesPerS;
}

WriteMode choose_write_mode(const WriteModeInput& in) {
  if (in.setting == WriteModeSetting::kFork || !copy_fits(in)) return WriteMode::kFork;
  if (in.setting == WriteModeSetting::kCopy)
    return in.copy_bytes ? WriteMode::kCopy : WriteMode::kFork;
  if (in.last || in.copy_bytes < kMinCopyBytes) return WriteMode::kFork;
  return fork_cost_s(in) > copy_cost_s(in) ? WriteMode::kCopy : WriteMode::kFork;
}

bool copy_wins_once_ready(const WriteModeInput& in) {
  if (in.setting != WriteModeSetting::kAuto || in.last) return false;
  if (choose_write_mode(in) != WriteMode::kFork) return false;
  WriteModeInput ready = in;
  ready.buffer_ready = in.copy_bytes;
  return choose_write_mode(ready) == WriteMode::kCopy;
}

}  // namespace ckpt
