// read_image: walks the file header and every section of an image, checking
// checksums, order, sizes and counts before anything trusts the contents.
#include "image_reader.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "chunk_codec.h"
#include "ckpt/crc32c.h"
#include "image_io.h"

namespace ckpt::image {

std::string tag_name(uint32_t tag) {
  switch (static_cast<Tag>(tag)) {
    case Tag::kProcess:
      return "Process";
    case Tag::kThreads:
      return "Threads";
    case Tag::kSignals:
      return "Signals";
    case Tag::kFds:
      return "Fds";
    case Tag::kFileData:
      return "FileData";
    case Tag::kMemRegions:
      return "MemRegions";
    case Tag::kMemChunk:
      return "MemChunk";
    case Tag::kShmObjects:
      return "ShmObjects";
    case Tag::kCpuAffinity:
      return "CpuAffinity";
    case Tag::kHostAddresses:
      return "HostAddresses";
    case Tag::kSysvObjects:
      return "SysvObjects";
    case Tag::kJobDirs:
      return "JobDirs";
    default:
      break;
    case Tag::kEnd:
      return "End";
  }
  if (tag == kTagLineage) return "Lineage";
  if (tag == kTagKeptPages) return "KeptPages";
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%x", tag);
  return buf;
}

namespace {

// Sections other than MemChunk and FileData are read whole into memory.
constexpr uint64_t kMaxMetadataSection = uint64_t{1} << 30;

// A list section: u32 count, then the records; nothing may follow.
template <typename Record>
bool decode_list(ByteReader& r, std::vector<Record>* out) {
  uint32_t n = r.u32();
  for (uint32_t i = 0; r.ok() && i < n; i++) {
    Record rec;
    if (!rec.decode(r)) return false;
    out->push_back(rec);
  }
  return r.ok() && r.remaining() == 0;
}

class Parser {
 public:
  Parser(int fd, bool verify, LoadedImage* img, std::string* err)
      : fd_(fd), verify_(verify), img_(img), err_(err) {}

  bool run() {
    if (!file_header()) return false;
    bool at_end = false;
    while (!at_end) {
      if (!next_section(&at_end)) return false;
    }
    return final_checks();
  }

 private:
  bool fail(std::string msg) {
    *err_ = std::move(msg);
    return false;
  }
  std::string where() const { return " at offset " + std::to_string(section_off_); }

  bool file_header();
  bool next_section(bool* at_end);
  bool read_payload(uint64_t size, const uint8_t** out);
  bool stream_crc(uint64_t off, uint64_t size, uint32_t* crc);
  bool known_section(Tag tag, const uint8_t* p, uint64_t size);
  bool chunk_section(const SectionHeader& s);
  bool file_data_section(const SectionHeader& s);
  bool end_section(const uint8_t* p, uint64_t size);
  bool lineage_section(uint32_t tag, const uint8_t* p, uint64_t size);
  bool final_checks();

  int fd_;
  bool verify_;
  LoadedImage* img_;
  std::string* err_;
  uint64_t off_ = 0;          // next byte to parse
  uint64_t section_off_ = 0;  // start of the current section
  uint64_t sections_ = 0, stored_bytes_ = 0, memory_bytes_ = 0;
  bool seen_[16] = {};  // by Tag value 1..15
  std::vector<uint8_t> scratch_;
  uint8_t head_[sizeof(SectionHeader) + kChunkHeaderSize];  // read by next_section
  size_t head_bytes_ = 0;  // of head_, those past the section header
};

bool Parser::file_header() {
  FileHeader& h = img_->header;
  const uint64_t size = img_->file_size;
  uint8_t raw[sizeof(FileHeader)] = {};
  const size_t n = static_cast<size_t>(std::min<uint64_t>(size, sizeof(raw)));
  if (n < sizeof(kMagic)) return fail("not a ckpt image");
  if (!pread_exact(fd_, raw, n, 0, err_)) return false;
  if (std::memcmp(raw, kMagic, sizeof(kMagic)) != 0) return fail("not a ckpt image");
  if (n < sizeof(FileHeader)) return fail("truncated: incomplete file header");
  std::memcpy(&h, raw, sizeof(h));
  if (h.version != kFormatVersion)
    return fail("format version " + std::to_string(h.version) + ", this build reads " +
                std::to_string(kFormatVersion));
  if (h.arch != kArchX86_64)
    return fail("image is for ELF machine " + std::to_string(h.arch) + ", this build is x86-64");
  if (h.header_size != sizeof(FileHeader)) return fail("bad file header size");
  if (crc32c(&h, offsetof(FileHeader, header_crc)) != h.header_crc)
    return fail("file header checksum mismatch");
  img_->link_crc = crc32c(&h, sizeof(h));
  off_ = sizeof(FileHeader);
  return true;
}

// Reads a payload into storage owned by the image.
bool Parser::read_payload(uint64_t size, const uint8_t** out) {
  auto buf = std::make_unique_for_overwrite<uint8_t[]>(size ? size : 1);
  if (!pread_exact(fd_, buf.get(), size, off_, err_)) return false;
  *out = buf.get();
  img_->storage.push_back(std::move(buf));
  return true;
}

bool Parser::stream_crc(uint64_t off, uint64_t size, uint32_t* crc) {
  scratch_.resize(1 << 20);
  while (size > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(size, scratch_.size()));
    if (!pread_exact(fd_, scratch_.data(), n, off, err_)) return false;
    *crc = crc32c(scratch_.data(), n, *crc);
    off += n;
    size -= n;
  }
  return true;
}

bool Parser::next_section(bool* at_end) {
  section_off_ = off_;
  const uint64_t left = img_->file_size - off_;
  if (left == 0) return fail("truncated: no End section");
  if (left < sizeof(SectionHeader)) return fail("truncated: incomplete section header" + where());
  // The section header and, for a memory chunk, its chunk header: one read.
  const auto n = static_cast<size_t>(std::min<uint64_t>(left, sizeof(head_)));
  if (!pread_exact(fd_, head_, n, off_, err_)) return false;
  head_bytes_ = n - sizeof(SectionHeader);
  SectionHeader s;
  std::memcpy(&s, head_, sizeof(s));
  off_ += sizeof(s);
  img_->link_crc = crc32c(&s, sizeof(s), img_->link_crc);
  const std::string name = tag_name(s.tag);
  if (s.size > left - sizeof(s))
    return fail("truncated: " + name + " section" + where() + " needs " + std::to_string(s.size) +
                " bytes, " + std::to_string(left - sizeof(s)) + " left");
  const auto tag = static_cast<Tag>(s.tag);
  if (tag == Tag::kMemChunk) {
    if (!chunk_section(s)) return false;
  } else if (tag == Tag::kFileData) {
    if (!file_data_section(s)) return false;
  } else if ((s.tag >= 1 && s.tag <= 6) || tag == Tag::kShmObjects || tag == Tag::kSysvObjects ||
             tag == Tag::kCpuAffinity || tag == Tag::kHostAddresses || tag == Tag::kJobDirs) {
    if (s.size > kMaxMetadataSection)
      return fail(name + " section" + where() + " is implausibly large");
    const uint8_t* p;
    if (!read_payload(s.size, &p)) return false;
    if (crc32c(p, s.size) != s.crc) return fail(name + " section checksum mismatch" + where());
    if (!known_section(tag, p, s.size)) return false;
  } else if (s.tag == kTagLineage || s.tag == kTagKeptPages) {
    const uint8_t* p;
    if (s.size > kMaxMetadataSection || !read_payload(s.size, &p)) return false;
    if (crc32c(p, s.size) != s.crc) return fail(name + " section checksum mismatch" + where());
    if (!lineage_section(s.tag, p, s.size)) return false;
  } else if (tag == Tag::kEnd) {
    const uint8_t* p;
    if (!read_payload(s.size, &p)) return false;
    if (crc32c(p, s.size) != s.crc) return fail("End section checksum mismatch" + where());
    *at_end = true;
    off_ += s.size;
    return end_section(p, s.size);
  } else {
    img_->warnings.push_back("skipped unknown section " + name + where() + " (" +
                             std::to_string(s.size) + " bytes)");
  }
  off_ += s.size;
  sections_++;
  return true;
}

bool Parser::known_section(Tag tag, const uint8_t* p, uint64_t size) {
  const auto t = static_cast<uint32_t>(tag);
  if (seen_[t]) return fail("duplicate " + tag_name(t) + " section" + where());
  seen_[t] = true;
  if (tag != Tag::kProcess && !seen_[1])
    return fail(tag_name(t) + " section before the Process section" + where());
  if (seen_[static_cast<uint32_t>(Tag::kMemChunk)])
    return fail(tag_name(t) + " section after memory chunks" + where());
  ByteReader r(p, size);
  bool ok = false;
  switch (tag) {
    case Tag::kProcess:
      ok = img_->process.decode(r) && r.remaining() == 0;
      break;
    case Tag::kThreads:
      ok = decode_list(r, &img_->threads);
      break;
    case Tag::kSignals:
      ok = decode_list(r, &img_->signals);
      break;
    case Tag::kCpuAffinity:
      ok = decode_list(r, &img_->affinity);
      break;
    case Tag::kHostAddresses: {
      HostAddressesRecord rec;
      ok = rec.decode(r);
      for (uint32_t i = 0; ok && i < rec.count; i++) {
        in6_addr a;
        std::memcpy(&a, rec.addrs.data() + size_t{i} * 16, sizeof(a));
        img_->host_addresses.push_back(a);
      }
      break;
    }
    case Tag::kFds:
      ok = decode_list(r, &img_->fds);
      break;
    case Tag::kMemRegions:
      ok = decode_list(r, &img_->regions);
      break;
    case Tag::kShmObjects:
      ok = decode_list(r, &img_->shm_objects);
      if (ok && seen_[static_cast<uint32_t>(Tag::kMemRegions)])
        return fail("ShmObjects section after MemRegions" + where());
      break;
    case Tag::kSysvObjects:
      ok = decode_list(r, &img_->sysv_objects);
      break;
    case Tag::kJobDirs:
      ok = decode_list(r, &img_->job_dirs);
      break;
    default:
      break;
  }
  if (!ok) return fail("malformed " + tag_name(t) + " section" + where());
  if (tag == Tag::kMemRegions) {
    for (auto& reg : img_->regions)
      if (reg.has_content) memory_bytes_ += reg.end - reg.start;
  }
  return true;
}

bool Parser::chunk_section(const SectionHeader& s) {
  seen_[static_cast<uint32_t>(Tag::kMemChunk)] = true;
  if (!seen_[static_cast<uint32_t>(Tag::kMemRegions)])
    return fail("memory chunk before the MemRegions section" + where());
  uint8_t raw[kChunkHeaderSize];
  ChunkRef ref;
  if (s.size < kChunkHeaderSize) return fail("malformed memory chunk" + where());
  if (head_bytes_ >= sizeof(raw))
    std::memcpy(raw, head_ + sizeof(SectionHeader), sizeof(raw));
  else if (!pread_exact(fd_, raw, sizeof(raw), off_, err_))
    return false;
  if (!decode_chunk_header(raw, s.size, &ref.hdr)) return fail("malformed memory chunk" + where());
  const ChunkHeader& h = ref.hdr;
  if (h.region >= img_->regions.size())
    return fail("memory chunk" + where() + " names region " + std::to_string(h.region) + " of " +
                std::to_string(img_->regions.size()));
  const RegionRecord& reg = img_->regions[h.region];
  const uint64_t pages = (reg.end - reg.start) / kPageSize;
  if (!reg.has_content) return fail("memory chunk" + where() + " for a region without content");
  if (h.first_page >= pages || h.page_count > pages - h.first_page)
    return fail("memory chunk" + where() + " lies outside its region");
  ref.payload_offset = off_ + kChunkHeaderSize;
  ref.section_crc = s.crc;
  if (verify_) {
    uint32_t crc = crc32c(raw, sizeof(raw));
    if (!stream_crc(ref.payload_offset, h.payload_size, &crc)) return false;
    if (crc != s.crc) return fail("memory chunk checksum mismatch" + where());
  }
  stored_bytes_ += uint64_t{h.stored_pages} * kPageSize;
  img_->chunks.push_back(ref);
  return true;
}

bool Parser::file_data_section(const SectionHeader& s) {
  if (!seen_[1]) return fail("FileData section before the Process section" + where());
  uint8_t raw[12];
  FileDataHeader fh;
  if (s.size < sizeof(raw) || !pread_exact(fd_, raw, sizeof(raw), off_, err_))
    return fail("malformed FileData section" + where());
  // FileDataHeader::decode checks the content size against what remains: the
  // reader spans the section, only its first 12 bytes are read.
  ByteReader r(raw, s.size);
  if (!fh.decode(r) || r.pos() != sizeof(raw) || fh.size != s.size - sizeof(raw))
    return fail("malformed FileData section" + where());
  for (auto& fd : img_->file_data)
    if (fd.index == fh.index) return fail("duplicate FileData index" + where());
  uint32_t crc = 0;
  if (!stream_crc(off_, s.size, &crc)) return false;
  if (crc != s.crc) return fail("FileData section checksum mismatch" + where());
  img_->file_data.push_back({fh.index, off_ + sizeof(raw), fh.size});
  return true;
}

bool Parser::end_section(const uint8_t* p, uint64_t size) {
  ByteReader r(p, size);
  EndRecord& e = img_->end;
  if (!e.decode(r) || r.remaining() != 0) return fail("malformed End section" + where());
  if (e.sections != sections_ || e.chunks != img_->chunks.size() ||
      e.stored_bytes != stored_bytes_ || e.memory_bytes != memory_bytes_)
    return fail("truncated or inconsistent: End counts " + std::to_string(e.sections) +
                " sections and " + std::to_string(e.chunks) + " chunks, the file has " +
                std::to_string(sections_) + " and " + std::to_string(img_->chunks.size()));
  if (off_ < img_->file_size)
    img_->warnings.push_back(std::to_string(img_->file_size - off_) +
                             " bytes after the End section ignored");
  return true;
}

// Lineage: at most one, before MemRegions. KeptPages: one per delta region,
// after MemRegions and before the chunks.
bool Parser::lineage_section(uint32_t tag, const uint8_t* p, uint64_t size) {
  const bool regions = seen_[static_cast<uint32_t>(Tag::kMemRegions)];
  ByteReader r(p, size);
  if (tag == kTagLineage) {
    if (img_->has_lineage) return fail("duplicate Lineage section" + where());
    if (regions) return fail("Lineage section after MemRegions" + where());
    if (!img_->lineage.decode(r)) return fail("malformed Lineage section" + where());
    img_->has_lineage = true;
    return true;
  }
  if (!regions || seen_[static_cast<uint32_t>(Tag::kMemChunk)])
    return fail("KeptPages section outside MemRegions..MemChunk" + where());
  KeptPagesRef kept;
  kept.region = r.u32();
  uint64_t pages = r.u64();
  if (!r.ok() || kept.region >= img_->regions.size())
    return fail("malformed KeptPages section" + where());
  const RegionRecord& reg = img_->regions[kept.region];
  if (reg.has_content != kContentDelta || pages != (reg.end - reg.start) / kPageSize ||
      r.remaining() != KeptPagesHeader::words(pages) * 8)
    return fail("KeptPages section" + where() + " does not match region " +
                std::to_string(kept.region));
  for (const auto& k : img_->kept)
    if (k.region == kept.region) return fail("duplicate KeptPages section" + where());
  kept.bits.resize(KeptPagesHeader::words(pages));
  std::memcpy(kept.bits.data(), r.bytes(kept.bits.size() * 8), kept.bits.size() * 8);
  img_->kept.push_back(std::move(kept));
  return true;
}

bool Parser::final_checks() {
  if (!seen_[1]) return fail("no Process section");
  size_t deltas = 0;
  for (const auto& reg : img_->regions) deltas += reg.has_content == kContentDelta;
  if (deltas != img_->kept.size())
    return fail("a delta memory region without its KeptPages section");
  if (deltas && (!img_->has_lineage || !img_->lineage.parent_generation))
    return fail("delta memory regions in an image without a parent");
  for (auto& fd : img_->fds) {
    // A dup of an earlier fd shares its description, content included.
    if (fd.kind != FdKind::kUnlinked || fd.shares_with >= 0) continue;
    auto it = std::find_if(img_->file_data.begin(), img_->file_data.end(),
                           [&](const FileDataRef& d) { return int64_t{d.index} == fd.file_data; });
    if (it == img_->file_data.end())
      return fail("fd " + std::to_string(fd.fd) + " refers to missing file data");
  }
  return true;
}

}  // namespace

bool read_image(const std::string& path, bool verify_chunks, LoadedImage* out, std::string* err) {
  *out = LoadedImage();
  out->path = path;
  err->clear();
  ScopedFd fd(open_image(path, err));
  if (fd.get() < 0) return false;
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    *err = std::string("cannot stat: ") + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *err = "not a regular file";
    return false;
  }
  out->file_size = static_cast<uint64_t>(st.st_size);
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);  // headers are read in file order
  try {
    return Parser(fd.get(), verify_chunks, out, err).run();
  } catch (const std::bad_alloc&) {
    *err = "out of memory while reading the image";
    return false;
  }
}

}  // namespace ckpt::image
