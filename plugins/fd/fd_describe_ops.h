// The operations a descriptor family offers ckpt_info: the names of its
// kinds and a description of a record's family state (FdRecord::extra).
// One table per family, found by kind; a new family adds its table to
// fd_describe_families.cc.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "ckpt/image_format.h"
#include "common/text.h"

namespace ckpt {

struct FdKindName {
  image::FdKind kind;
  const char* name;  // short, for ckpt_info's fd table
};

struct FdDescribeOps {
  const char* family;
  std::span<const FdKindName> kinds;
  // Text appended after the record's line ("" for nothing); nullptr: none.
  std::string (*describe)(const image::FdRecord& r) = nullptr;
};

// The table of kind k, or null.
const FdDescribeOps* fd_describe_ops(image::FdKind k);
// The short name of kind k ("other", or "?" for a kind no family knows).
const char* fd_kind_name(image::FdKind k);

}  // namespace ckpt
