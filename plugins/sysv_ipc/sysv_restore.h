// System V semaphore sets and message queues at a restart (see
// image_format.h, SysvRecord).
//
// Every process saved the sets and queues it used; the records are grouped
// by kind and id at the checkpoint and the first image's is taken.
// ckpt_restart creates each one once, in the main root before the process
// tree is forked: with the same key (a new private one for IPC_PRIVATE),
// reusing the one with that key if it outlived the computation (its
// messages dropped), with the saved values (SETALL) or messages (msgsnd, in
// order). The processes keep the ids of before: the ids that changed go to
// every process's runtime (RestoreArgs). SEM_UNDO adjustments are not
// restored.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/image_reader.h"

namespace ckpt {

class SysvRestorer {
 public:
  explicit SysvRestorer(const std::vector<image::LoadedImage>& images);
  // Creates and fills every set and queue. Error: one line.
  bool create_all(std::string* err);
  // The ids of `kind` that changed: virtual (as the application knows it) -> real.
  std::vector<std::pair<int32_t, int32_t>> id_map(image::SysvKind kind) const;

 private:
  struct Object {
    image::SysvRecord record;
    int32_t id = -1;  // now
  };
  bool create_semaphores(Object& o, std::string* err);
  bool create_messages(Object& o, std::string* err);

  std::map<std::pair<image::SysvKind, int32_t>, Object> objects_;
};

}  // namespace ckpt
