// The CPU binding of a restored process: the union of its threads' saved
// masks (the image's CpuAffinity section) applied to the restarting process
// before it becomes the restored one, so that every thread the runtime then
// recreates inherits it. Uses hwloc for the topology of the node the restart
// runs on: saved CPUs that all exist there are bound as they were; otherwise
// they are mapped by number modulo the PUs available here (cpu_list.h).
#pragma once

#include <string>

#include "common/image_reader.h"

namespace ckpt {

// Binds the calling process. `note` gets one line for the user when the
// saved CPUs had to be mapped (else stays empty). Returns false with `err`
// when hwloc or the kernel refuses (the caller warns and goes on).
bool apply_cpu_binding(const image::LoadedImage& img, std::string* note, std::string* err);

}  // namespace ckpt
