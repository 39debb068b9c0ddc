// The descriptor families ckpt_info knows, found by kind, and the files
// family's own table (regular files, unlinked files, directories, devices,
// terminals). A new family adds its table here.
#include "fd_describe_ops.h"

namespace ckpt {

extern const FdDescribeOps kPipeDescribeOps, kPtyDescribeOps, kSocketDescribeOps,
    kInotifyDescribeOps, kEventFdDescribeOps;

namespace {

using image::FdKind;

// Where a file's saved content is: unlinked files, and job-private files
// (job_files.h) saved by content.
std::string file_data_text(const image::FdRecord& r) {
  if (r.kind == FdKind::kUnlinked)
    return "  (content in file data " + std::to_string(r.file_data) + ")";
  if (r.kind == FdKind::kRegular && r.file_data >= 0)
    return "  (job-private: content in file data " + std::to_string(r.file_data) + ")";
  return "";
}

constexpr FdKindName kFileKinds[] = {{FdKind::kRegular, "file"},
                                     {FdKind::kUnlinked, "unlinked"},
                                     {FdKind::kDirectory, "dir"},
                                     {FdKind::kDevice, "device"},
                                     {FdKind::kTty, "tty"}};
const FdDescribeOps kFileDescribeOps{"files", kFileKinds, file_data_text};

const FdDescribeOps* const kFamilies[] = {
    &kFileDescribeOps,   &kPipeDescribeOps,    &kPtyDescribeOps,
    &kSocketDescribeOps, &kInotifyDescribeOps, &kEventFdDescribeOps,
};

const FdKindName* find(FdKind k, const FdDescribeOps** ops) {
  for (const FdDescribeOps* family : kFamilies)
    for (const FdKindName& kn : family->kinds)
      if (kn.kind == k) {
        *ops = family;
        return &kn;
      }
  return nullptr;
}

}  // namespace

const FdDescribeOps* fd_describe_ops(FdKind k) {
  const FdDescribeOps* ops = nullptr;
  find(k, &ops);
  return ops;
}

const char* fd_kind_name(FdKind k) {
  if (k == FdKind::kOther) return "other";
  const FdDescribeOps* ops = nullptr;
  const FdKindName* kn = find(k, &ops);
  return kn ? kn->name : "?";
}

}  // namespace ckpt
