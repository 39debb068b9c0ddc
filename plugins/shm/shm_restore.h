// Shared memory objects at a restart (see image_format.h, ShmRecord).
//
// The objects of all images are grouped by their dev/ino at the checkpoint.
// ckpt_restart creates each one once, in the main root before the process
// tree is forked: a memfd for an anonymous MAP_SHARED region or a memfd,
// an unlinked file in the same directory for a deleted one, the file itself
// for a named one (/dev/shm/NAME: its content rolled back unless
// --no-file-rollback), a System V segment with the same key (a new private
// one for IPC_PRIVATE or removed segments). It fills the object with the
// content of whichever image saved it, and keeps it for the tree: a
// descriptor every process inherits (above every number the images use),
// or for SysV a temporary attachment at an address no image uses. Each
// process's restorer then maps the object at its own addresses.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/image_reader.h"

namespace ckpt {

struct ShmObject {
  image::ShmRecord record;   // the first image's, size grown to every mapping
  int fd = -1;               // a descriptor on the object (not SysV)
  int32_t shmid = -1;        // SysV: the segment now
  uint64_t temp_attach = 0;  // SysV: ckpt_restart's temporary attachment
  bool fill = true;          // false: a named file kept as it is now
};

class ShmRestorer {
 public:
  ShmRestorer(const std::vector<image::LoadedImage>& images, bool rollback);
  // In ckpt_restart, before any fork and before the fd plugin creates its
  // descriptions: creates and fills every object. Descriptors go at or
  // above `fd_floor`, above every number an image uses.
  bool create_all(int fd_floor, std::string* err);

  const ShmObject* find(uint64_t dev, uint64_t ino) const;
  // An fd the image has on a deleted object that is also mapped (a memfd,
  // a shm_unlink'ed file): a new description of the object made here, at
  // the fd's flags and offset; -1 for any other fd.
  int adopt(const image::FdRecord& r) const;
  // Descriptors every process closes once it has mapped the objects.
  std::vector<int> fds() const;
  // Temporary SysV attachments every process detaches after its own.
  std::vector<uint64_t> temp_attachments() const;
  // SysV segments whose shmid changed: virtual -> real.
  std::vector<std::pair<int32_t, int32_t>> shmid_map() const;

 private:
  using Key = std::pair<uint64_t, uint64_t>;  // dev, ino
  bool create(ShmObject& o, int fd_floor, std::string* err);
  bool create_sysv(ShmObject& o, std::string* err);
  bool fill_all(std::string* err);

  const std::vector<image::LoadedImage>& images_;
  bool rollback_;
  std::map<Key, ShmObject> objects_;
};

// Whether a region is a mapping of a shared memory object the image
// describes (images without a ShmObjects section restore kAnonShared
// regions as private copies).
bool is_shm_region(const image::LoadedImage& img, const image::RegionRecord& r);

}  // namespace ckpt
