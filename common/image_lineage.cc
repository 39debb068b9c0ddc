// Lineage records and the link checksum of an image (see ckpt/image_lineage.h).
#include "ckpt/image_lineage.h"

#include <sys/stat.h>

#include "ckpt/crc32c.h"
#include "ckpt/sys.h"

namespace ckpt::image {

const char* tracking_name(Tracking t) {
  switch (t) {
    case Tracking::kUffdWp:
      return "userfaultfd write-protect (async) + PAGEMAP_SCAN";
    case Tracking::kSoftDirty:
      return "soft-dirty";
    case Tracking::kNone:
      break;
  }
  return "none";
}

void LineageRecord::encode(ByteWriter& w) const {
  w.put_u32(static_cast<uint32_t>(tracking));
  w.put_str(note);
  w.put_u64(parent_generation);
  w.put_u32(parent_link_crc);
  w.put_u32(chain_length);
  w.put_str(parent_path);
}

bool LineageRecord::decode(ByteReader& r) {
  tracking = static_cast<Tracking>(r.u32());
  note = r.str();
  parent_generation = r.u64();
  parent_link_crc = r.u32();
  chain_length = r.u32();
  parent_path = r.str();
  return r.ok() && r.remaining() == 0 && chain_length >= 1 &&
         (parent_generation == 0) == parent_path.empty();
}

namespace {

bool pread_all(int fd, void* buf, size_t n, uint64_t off) {
  return sys::pread(fd, buf, n, static_cast<long>(off)) == static_cast<long>(n);
}

}  // namespace

bool image_link_crc(int fd, uint32_t* crc, uint64_t* generation) {
  struct stat st;
  if (sys::call2(sys::kFstat, fd, reinterpret_cast<long>(&st)) < 0) return false;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  FileHeader h;
  if (size < sizeof(h) || !pread_all(fd, &h, sizeof(h), 0)) return false;
  uint32_t c = crc32c(&h, sizeof(h));
  for (uint64_t off = sizeof(h); off + sizeof(SectionHeader) <= size;) {
    SectionHeader s;
    if (!pread_all(fd, &s, sizeof(s), off)) return false;
    c = crc32c(&s, sizeof(s), c);
    off += sizeof(s);
    if (s.size > size - off) return false;
    off += s.size;
    if (s.tag == static_cast<uint32_t>(Tag::kEnd)) {
      *crc = c;
      *generation = h.generation;
      return true;
    }
  }
  return false;
}

}  // namespace ckpt::image
