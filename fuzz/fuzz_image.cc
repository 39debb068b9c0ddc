// libFuzzer target: the image reader and ckpt_info on an arbitrary file.
// Images come back from shared file systems that anyone in the job (or
// anyone who can write there) may have changed, so read_image, the memory
// checks and every printer of ckpt_info must be safe on any bytes.
//
// The input is an image file. Before reading it, the target puts the right
// CRC32C into the file header and into every section header it can walk
// (fuzz_image_crc.h), so that mutations reach the decoders behind the
// checksums instead of stopping at them.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common/image_reader.h"
#include "fuzz/fuzz_image_crc.h"

// ckpt_info's main, built into this target under another name (meson.build).
int ckpt_info_main(int argc, char** argv);

namespace {

int image_fd() {
  static int fd = memfd_create("fuzz_image", 0);
  return fd;
}

// Writes the input to the memfd behind `path`; false if that fails.
bool put_file(const std::vector<uint8_t>& bytes) {
  int fd = image_fd();
  if (fd < 0 || ftruncate(fd, 0) != 0) return false;
  return pwrite(fd, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size());
}

void read_everything(const std::string& path) {
  ckpt::image::LoadedImage img;
  std::string err;
  if (!ckpt::image::read_image(path, true, &img, &err)) return;
  ckpt::image::verify_memory(img, 1, &err);
  for (auto& d : img.file_data) {
    std::string content;
    ckpt::image::read_file_data(img, d.index, &content, &err);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  ckpt::fuzz::fix_image_crcs(&bytes);
  if (!put_file(bytes)) return 0;
  std::string path = "/proc/self/fd/" + std::to_string(image_fd());
  // ckpt_info prints the whole image: every record and every family's
  // description of its fds, shared memory and addresses.
  std::string arg0 = "ckpt_info";
  char* argv[] = {arg0.data(), path.data(), nullptr};
  ckpt_info_main(2, argv);
  read_everything(path);
  return 0;
}
