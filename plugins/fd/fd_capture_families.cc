// The descriptor families the checkpoint side knows, in the order they
// classify a descriptor (files before ptys before other character devices;
// named FIFOs before pipes). A new family adds its table here.
#include "fd_capture_ops.h"

namespace ckpt {

extern const FdCaptureOps kFileCaptureOps, kPtyCaptureOps, kDeviceCaptureOps, kFifoCaptureOps,
    kPipeCaptureOps, kInotifyCaptureOps, kSocketCaptureOps, kEventFdCaptureOps;

namespace {
const FdCaptureOps* const kFamilies[] = {
    &kFileCaptureOps, &kPtyCaptureOps,     &kDeviceCaptureOps, &kFifoCaptureOps,
    &kPipeCaptureOps, &kInotifyCaptureOps, &kSocketCaptureOps, &kEventFdCaptureOps,
};
}  // namespace

std::span<const FdCaptureOps* const> fd_capture_families() { return kFamilies; }

}  // namespace ckpt
