// Reading images ahead at restart: the whole of every image is needed (its
// metadata first, then every memory chunk), so ask the kernel for all of it
// at once (POSIX_FADV_WILLNEED, from a thread of its own) while read_image
// walks the section headers. The disk then streams the file in large
// requests instead of answering one small read per chunk header, and the
// decompression that follows reads from the page cache.
#pragma once

#include <string>
#include <thread>
#include <vector>

namespace ckpt::image {

class ImagePrefetch {
 public:
  explicit ImagePrefetch(std::vector<std::string> paths);
  ~ImagePrefetch() { wait(); }
  ImagePrefetch(const ImagePrefetch&) = delete;
  ImagePrefetch& operator=(const ImagePrefetch&) = delete;
  // Returns once every read has been asked for (not necessarily done).
  void wait();

 private:
  std::thread thread_;
};

}  // namespace ckpt::image
