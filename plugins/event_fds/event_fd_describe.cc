// The event descriptors' ckpt_info table (plugins/fd/fd_describe_ops.h).
#include "plugins/fd/fd_describe_ops.h"

namespace ckpt {
namespace {
constexpr FdKindName kEventFdKinds[] = {{image::FdKind::kEventfd, "eventfd"},
                                        {image::FdKind::kTimerfd, "timerfd"},
                                        {image::FdKind::kSignalfd, "signalfd"},
                                        {image::FdKind::kEpoll, "epoll"}};
}  // namespace

extern const FdDescribeOps kEventFdDescribeOps{"event fds", kEventFdKinds};

}  // namespace ckpt
