// The inotify family's ckpt_info table (plugins/fd/fd_describe_ops.h).
#include "plugins/fd/fd_describe_ops.h"

namespace ckpt {
namespace {
constexpr FdKindName kInotifyKinds[] = {{image::FdKind::kInotify, "inotify"}};
}  // namespace

extern const FdDescribeOps kInotifyDescribeOps{"inotify", kInotifyKinds};

}  // namespace ckpt
