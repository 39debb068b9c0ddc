// Parallel decompression of an image's memory chunks (load_memory,
// verify_memory) and access to unlinked-file content (FileData).
#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "chunk_codec.h"
#include "chunk_read.h"
#include "ckpt/crc32c.h"
#include "image_io.h"
#include "image_reader.h"

namespace ckpt::image {
namespace {

// Where a worker decodes chunk i; nullptr = skip it.
using DestFn = std::function<uint8_t*(size_t chunk, uint8_t* scratch)>;

class ChunkRunner {
 public:
  ChunkRunner(const LoadedImage& img, DestFn dest) : img_(img), dest_(std::move(dest)) {}

  bool run(int threads, std::string* err) {
    ScopedFd fd(open_image(img_.path, err));
    if (fd.get() < 0) return false;
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);  // workers take chunks in file order
    size_t n = img_.chunks.size();
    size_t workers = std::clamp<size_t>(threads > 0 ? threads : 1, 1, n ? n : 1);
    std::vector<std::thread> pool;
    for (size_t i = 1; i < workers; i++) pool.emplace_back([&] { work(fd.get()); });
    work(fd.get());
    for (auto& t : pool) t.join();
    if (failed_) *err = error_;
    return !failed_;
  }

 private:
  void work(int fd) {
    std::vector<uint8_t> payload;
    std::unique_ptr<uint8_t[]> scratch;
    std::string err;
    for (;;) {
      if (failed_.load(std::memory_order_relaxed)) return;
      size_t i = next_.fetch_add(1);
      if (i >= img_.chunks.size()) return;
      if (!scratch) scratch.reset(new uint8_t[size_t{kChunkPages} * kPageSize]);
      uint8_t* dest = dest_(i, scratch.get());
      if (!dest) continue;
      if (!read_chunk(fd, img_.chunks[i], dest, payload, &err)) {
        const ChunkRef& c = img_.chunks[i];
        std::lock_guard lock(mu_);
        if (!failed_) {
          error_ = err + " (chunk " + std::to_string(i) + ", region " +
                   std::to_string(c.hdr.region) + ", payload at offset " +
                   std::to_string(c.payload_offset) + ")";
          failed_ = true;
        }
        return;
      }
    }
  }

  const LoadedImage& img_;
  DestFn dest_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  std::string error_;
};

bool find_file_data(const LoadedImage& img, uint32_t index, const FileDataRef** out,
                    std::string* err) {
  for (auto& d : img.file_data) {
    if (d.index == index) {
      *out = &d;
      return true;
    }
  }
  *err = "no file data with index " + std::to_string(index);
  return false;
}

}  // namespace

bool load_memory(const LoadedImage& img, const std::function<uint8_t*(uint32_t)>& dest_for_region,
                 int threads, std::string* err) {
  std::vector<uint8_t*> base(img.regions.size(), nullptr);
  for (uint32_t r = 0; r < img.regions.size(); r++)
    if (img.regions[r].has_content) base[r] = dest_for_region(r);
  for (auto& c : img.chunks) {
    if (c.hdr.region >= base.size()) {
      *err = "memory chunk names a region that does not exist";
      return false;
    }
  }
  ChunkRunner runner(img, [&](size_t i, uint8_t*) -> uint8_t* {
    const ChunkHeader& h = img.chunks[i].hdr;
    uint8_t* b = base[h.region];
    return b ? b + h.first_page * kPageSize : nullptr;
  });
  return runner.run(threads, err);
}

bool verify_memory(const LoadedImage& img, int threads, std::string* err) {
  ChunkRunner runner(img, [](size_t, uint8_t* scratch) { return scratch; });
  return runner.run(threads, err);
}

bool copy_file_data(const LoadedImage& img, uint32_t index, int out_fd, std::string* err) {
  const FileDataRef* d;
  if (!find_file_data(img, index, &d, err)) return false;
  ScopedFd fd(open_image(img.path, err));
  if (fd.get() < 0) return false;
  std::vector<uint8_t> buf(1 << 20);
  for (uint64_t done = 0; done < d->size;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), d->size - done));
    if (!pread_exact(fd.get(), buf.data(), n, d->offset + done, err)) return false;
    for (size_t w = 0; w < n;) {
      ssize_t r = ::write(out_fd, buf.data() + w, n - w);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        *err = std::string("cannot write file data: ") + std::strerror(r < 0 ? errno : EIO);
        return false;
      }
      w += static_cast<size_t>(r);
    }
    done += n;
  }
  return true;
}

bool read_file_data(const LoadedImage& img, uint32_t index, std::string* content,
                    std::string* err) {
  const FileDataRef* d;
  if (!find_file_data(img, index, &d, err)) return false;
  ScopedFd fd(open_image(img.path, err));
  if (fd.get() < 0) return false;
  content->resize(d->size);
  return pread_exact(fd.get(), content->data(), d->size, d->offset, err);
}

}  // namespace ckpt::image
