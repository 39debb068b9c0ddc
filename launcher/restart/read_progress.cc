// ckpt_restart's reading progress (see read_progress.h).
#include "read_progress.h"

#include <unistd.h>

#include <cstdio>

#include "common/text.h"

namespace ckpt {
namespace {

constexpr auto kQuiet = std::chrono::seconds(1);  // a moment: show nothing before
constexpr auto kRedraw = std::chrono::milliseconds(200);

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string rate(uint64_t bytes, double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f MiB/s",
                s > 0 ? static_cast<double>(bytes) / 1048576.0 / s : 0.0);
  return buf;
}

}  // namespace

ReadProgress::ReadProgress(size_t images, uint64_t total_bytes, Mode mode)
    : mode_(mode), images_(images), total_(total_bytes) {
  if (mode == Mode::kJson || (mode == Mode::kTerminal && ::isatty(2)))
    thread_ = std::thread([this] { run(); });
}

void ReadProgress::image_read(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_++;
  bytes_ += bytes;
}

std::string ReadProgress::line_locked() const {
  char secs[32];
  double s = seconds_since(start_);
  std::snprintf(secs, sizeof(secs), "%.1f s", s);
  return "ckpt_restart: read " + std::to_string(done_) + "/" + std::to_string(images_) +
         " images, " + human_bytes(bytes_) + " of " + human_bytes(total_) + ", " + rate(bytes_, s) +
         ", " + secs;
}

std::string ReadProgress::json_locked(const char* event, uint64_t generation) const {
  char buf[320];
  std::snprintf(buf, sizeof(buf),
                "{\"event\":\"%s\",\"generation\":%llu,\"images_read\":%zu,\"images\":%zu,"
                "\"bytes_read\":%llu,\"bytes\":%llu,\"seconds\":%.3f}",
                event, static_cast<unsigned long long>(generation), done_, images_,
                static_cast<unsigned long long>(bytes_), static_cast<unsigned long long>(total_),
                seconds_since(start_));
  return buf;
}

void ReadProgress::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (mode_ == Mode::kJson) {
    while (!wake_.wait_for(lock, kQuiet, [this] { return stopping_; })) {
      std::fprintf(stderr, "%s\n", json_locked("progress", 0).c_str());
      std::fflush(stderr);
    }
    return;
  }
  if (wake_.wait_for(lock, kQuiet, [this] { return stopping_; })) return;
  shown_ = true;
  while (!stopping_) {
    std::fprintf(stderr, "\r\033[K%s", line_locked().c_str());
    std::fflush(stderr);
    wake_.wait_for(lock, kRedraw, [this] { return stopping_; });
  }
  std::fprintf(stderr, "\r\033[K");
}

void ReadProgress::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ReadProgress::finish(uint64_t generation) {
  stop();
  if (mode_ == Mode::kJson && generation != 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::fprintf(stderr, "%s\n", json_locked("read", generation).c_str());
    std::fflush(stderr);
    return;
  }
  if (!shown_) return;
  double s = seconds_since(start_);
  char secs[32];
  std::snprintf(secs, sizeof(secs), "%.2f s", s);
  std::fprintf(stderr, "ckpt_restart: checkpoint %llu read: %zu %s, %s in %s (%s); restoring\n",
               static_cast<unsigned long long>(generation), images_,
               images_ == 1 ? "image" : "images", human_bytes(bytes_).c_str(), secs,
               rate(bytes_, s).c_str());
}

}  // namespace ckpt
