// Writing this process's image file for one generation, section by section.
#pragma once

#include <string_view>

#include "fixed_string.h"
#include "runtime.h"

namespace ckpt {

struct WrittenImage {
  FixedString<256> name;  // file name inside the generation directory
  uint64_t bytes = 0;
};

// Writes <dir>/<name>.tmp, fsyncs it and renames it to <dir>/<name>.
// On failure nothing is left behind and err says why.
bool write_image_file(Runtime& rt, uint64_t generation, std::string_view dir,
                      int32_t stopped_threads, WrittenImage& out, MessageString& err);

}  // namespace ckpt
