// Regular files, directories and character devices, checkpoint side: their
// kind from fstat; the path, offset and flags the fd plugin records are all
// they need (an unlinked file's content is saved by fd_capture.cc).
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fd_capture_ops.h"

namespace ckpt {
namespace {

using image::FdKind;

bool is_tty_major(unsigned major) {
  return major == 4 || major == 5 || (major >= 136 && major <= 143);
}

FdKind classify_file(const struct stat& st, std::string_view target) {
  if (S_ISREG(st.st_mode))
    return st.st_nlink == 0 || target.ends_with(" (deleted)") ? FdKind::kUnlinked
                                                              : FdKind::kRegular;
  if (S_ISDIR(st.st_mode)) return FdKind::kDirectory;
  return FdKind::kOther;
}

// Character devices that are not ptys (ptys classify first).
FdKind classify_device(const struct stat& st, std::string_view) {
  if (!S_ISCHR(st.st_mode)) return FdKind::kOther;
  return is_tty_major(major(st.st_rdev)) ? FdKind::kTty : FdKind::kDevice;
}

}  // namespace

extern const FdCaptureOps kFileCaptureOps{.family = "files", .classify = classify_file};
extern const FdCaptureOps kDeviceCaptureOps{.family = "devices", .classify = classify_device};

}  // namespace ckpt
