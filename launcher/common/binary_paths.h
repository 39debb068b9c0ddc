// Finding the project's own programs and libckpt.so, both in a build tree
// (coordinator/, launcher/ and runtime/ are sibling dirs) and installed
// (programs side by side in bindir, libckpt.so in CKPT_REL_LIBDIR from it).
#pragma once

#include <string>

namespace ckpt {

// Directory of /proc/self/exe ("" if it cannot be read).
std::string self_dir();

// Absolute path of the program `name` (ckpt_coordinator, ckpt_restart, ...):
// self_dir, self_dir/../coordinator, self_dir/../launcher; "" if none is
// executable.
std::string find_tool(const std::string& name);

// Absolute path of libckpt.so: env CKPT_LIBCKPT if set, else
// self_dir/../runtime/libckpt.so (build tree), else
// self_dir/CKPT_REL_LIBDIR/libckpt.so (installed); "" if none exists.
std::string find_runtime_library();

}  // namespace ckpt
