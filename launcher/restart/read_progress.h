// ckpt_restart's progress while it reads the images: on a terminal
// (stderr), once reading has taken more than a second, a line redrawn in
// place (images read of N, bytes, MiB/s, time), then one summary line.
// Quick restarts and non-terminals show nothing: ckpt_restart's stdout and
// stderr become the restored processes'. With --json, for scripts, on any
// stderr: a JSON object per line, {"event":"progress",...} each second
// while reading and {"event":"read",...} once the images are read.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace ckpt {

class ReadProgress {
 public:
  enum class Mode { kQuiet, kTerminal, kJson };
  // kTerminal shows anything only if stderr is a terminal.
  ReadProgress(size_t images, uint64_t total_bytes, Mode mode);
  ~ReadProgress() { stop(); }
  ReadProgress(const ReadProgress&) = delete;
  ReadProgress& operator=(const ReadProgress&) = delete;

  void image_read(uint64_t bytes);
  // Stops the display; if it was shown, prints the summary line.
  void finish(uint64_t generation);

 private:
  void run();
  void stop();
  std::string line_locked() const;
  std::string json_locked(const char* event, uint64_t generation) const;

  using Clock = std::chrono::steady_clock;
  Mode mode_;
  size_t images_;
  uint64_t total_;
  Clock::time_point start_ = Clock::now();
  std::mutex mutex_;
  std::condition_variable wake_;
  size_t done_ = 0;
  uint64_t bytes_ = 0;
  bool stopping_ = false;
  bool shown_ = false;
  std::thread thread_;
};

}  // namespace ckpt
