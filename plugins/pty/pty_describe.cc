// The pty family's ckpt_info table (plugins/fd/fd_describe_ops.h).
#include "plugins/fd/fd_describe_ops.h"

namespace ckpt {
namespace {
constexpr FdKindName kPtyKinds[] = {{image::FdKind::kPtyMaster, "pty-mst"},
                                    {image::FdKind::kPtySlave, "pty-slv"}};
}  // namespace

extern const FdDescribeOps kPtyDescribeOps{"ptys", kPtyKinds};

}  // namespace ckpt
