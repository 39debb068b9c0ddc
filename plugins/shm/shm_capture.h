// Shared memory objects at a checkpoint: which object each shared mapping
// is (anonymous MAP_SHARED, memfd, POSIX shm, a deleted file, SysV shm),
// identified by its dev/ino, and which process of the computation saves its
// content: the one whose parent (in the computation) does not map the same
// part of it. The others store the region without content; ckpt_restart
// takes the content from the image that has it. Malloc-free.
#pragma once

#include "ckpt/byte_codec.h"
#include "ckpt/image_format.h"
#include "ckpt/maps.h"
#include "runtime/core/fixed_string.h"
#include "shm_mapping.h"

namespace ckpt::image {
class ImageWriter;
}

namespace ckpt {

// Starts a capture: forgets the last one, reads the parent's maps if the
// parent is in the computation (a buffer excluded from the image). Call
// before /proc/self/maps is read.
void shm_capture_begin();
// Records the object of region `r` (kind kAnonShared, made from `e`) and
// sets r.has_content: 1 if this process saves that part of it, else 0.
bool shm_capture_region(const MapEntry& e, image::RegionRecord& r, MessageString& err);
// The ShmObjects section (nothing when the process maps no object).
bool write_shm_objects(image::ImageWriter& w, MessageString& err);
// Done with the capture: releases its buffers. Call after
// write_shm_objects, before the memory is written (the buffers are not in
// the image).
void shm_capture_end();

}  // namespace ckpt
