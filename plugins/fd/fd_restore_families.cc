// The descriptor families ckpt_restart knows, each reached by the kinds it
// declares. A new family adds its table here. (Epolls are not created
// through a table: they refer to fd numbers of one process, see
// FdRestorer::place.)
#include "fd_restore_ops.h"

namespace ckpt {

extern const FdRestoreOps kFileRestoreOps, kUnlinkedRestoreOps, kTerminalRestoreOps,
    kPipeRestoreOps, kFifoRestoreOps, kPtyRestoreOps, kSocketRestoreOps, kInotifyRestoreOps,
    kEventFdRestoreOps;

namespace {
const FdRestoreOps* const kFamilies[] = {
    &kFileRestoreOps,   &kUnlinkedRestoreOps, &kTerminalRestoreOps,
    &kPipeRestoreOps,   &kFifoRestoreOps,     &kPtyRestoreOps,
    &kSocketRestoreOps, &kInotifyRestoreOps,  &kEventFdRestoreOps,
};
}  // namespace

const FdRestoreOps* fd_restore_ops(image::FdKind k) {
  for (const FdRestoreOps* ops : kFamilies)
    for (image::FdKind kind : ops->kinds)
      if (kind == k) return ops;
  return nullptr;
}

}  // namespace ckpt
