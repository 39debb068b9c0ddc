// The pipes family's ckpt_info table: pipes to outside, pipes inside the
// process, named FIFOs (plugins/fd/fd_describe_ops.h).
#include "plugins/fd/fd_describe_ops.h"

namespace ckpt {
namespace {
constexpr FdKindName kPipeKinds[] = {{image::FdKind::kPipe, "pipe"},
                                     {image::FdKind::kPipeInside, "pipe-in"},
                                     {image::FdKind::kFifo, "fifo"}};
}  // namespace

extern const FdDescribeOps kPipeDescribeOps{"pipes", kPipeKinds};

}  // namespace ckpt
