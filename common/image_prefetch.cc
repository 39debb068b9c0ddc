// ImagePrefetch (see image_prefetch.h).
#include "image_prefetch.h"

#include <fcntl.h>
#include <unistd.h>

namespace ckpt::image {

ImagePrefetch::ImagePrefetch(std::vector<std::string> paths)
    : thread_([paths = std::move(paths)] {
        for (const auto& p : paths) {
          int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
          if (fd < 0) continue;  // read_image reports it
          ::posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
          ::close(fd);
        }
      }) {}

void ImagePrefetch::wait() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace ckpt::image
