// Incremental image chains: links and kept pages (see image_chain.h).
#include "image_chain.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "chunk_codec.h"
#include "ckpt/crc32c.h"
#include "image_io.h"
#include "scoped_fd.h"

namespace ckpt::image {
namespace {

constexpr size_t kMaxChain = 4096;

std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

std::string describe(const std::string& parent, uint64_t generation, const LoadedImage& child) {
  return "parent image " + parent + " (generation " + std::to_string(generation) + ") of " +
         child.path;
}

// A page of the child still to be filled: its address and where it goes.
struct Need {
  uint64_t addr;
  uint8_t* dest;
};

bool is_kept(const KeptPagesRef& k, uint64_t page) {
  return (k.bits[page / 64] >> (page % 64)) & 1;
}

const KeptPagesRef* kept_of(const LoadedImage& img, uint32_t region) {
  for (const auto& k : img.kept)
    if (k.region == region) return &k;
  return nullptr;
}

// Regions with content, by start address, for lookups.
std::vector<uint32_t> by_address(const LoadedImage& img) {
  std::vector<uint32_t> idx;
  for (uint32_t i = 0; i < img.regions.size(); i++)
    if (img.regions[i].has_content) idx.push_back(i);
  std::sort(idx.begin(), idx.end(),
            [&](uint32_t a, uint32_t b) { return img.regions[a].start < img.regions[b].start; });
  return idx;
}

int64_t find_region(const LoadedImage& img, const std::vector<uint32_t>& idx, uint64_t addr) {
  auto it = std::upper_bound(idx.begin(), idx.end(), addr,
                             [&](uint64_t a, uint32_t i) { return a < img.regions[i].start; });
  if (it == idx.begin()) return -1;
  const RegionRecord& r = img.regions[*(it - 1)];
  return addr < r.end ? static_cast<int64_t>(*(it - 1)) : -1;
}

// One ancestor's part: the pages it stores are copied to their
// destinations (per region, a destination per page or nullptr).
class AncestorCopy {
 public:
  AncestorCopy(const LoadedImage& img) : img_(img), want_(img.regions.size()) {}

  void want(uint32_t region, uint64_t page, uint8_t* dest) {
    auto& w = want_[region];
    if (w.empty()) w.resize((img_.regions[region].end - img_.regions[region].start) / kPageSize);
    w[page] = dest;
  }

  bool run(int threads, std::string* err) {
    for (size_t i = 0; i < img_.chunks.size(); i++)
      if (wanted(img_.chunks[i].hdr)) todo_.push_back(i);
    ScopedFd fd(open_image(img_.path, err));
    if (fd.get() < 0) return false;
    size_t n = std::clamp<size_t>(threads > 0 ? threads : 1, 1, todo_.size() ? todo_.size() : 1);
    std::vector<std::thread> pool;
    for (size_t i = 1; i < n; i++) pool.emplace_back([&] { work(fd.get()); });
    work(fd.get());
    for (auto& t : pool) t.join();
    if (failed_) *err = error_;
    return !failed_;
  }

 private:
  bool wanted(const ChunkHeader& h) const {
    const auto& w = want_[h.region];
    if (w.empty()) return false;
    for (uint32_t p = 0; p < h.page_count; p++)
      if (w[h.first_page + p] && ((h.bitmap[p / 64] >> (p % 64)) & 1)) return true;
    return false;
  }

  bool copy_one(int fd, const ChunkRef& c, std::vector<uint8_t>& payload, uint8_t* scratch,
                std::string* err) {
    const ChunkHeader& h = c.hdr;
    payload.resize(h.payload_size ? h.payload_size : 1);
    if (!pread_exact(fd, payload.data(), h.payload_size, c.payload_offset, err)) return false;
    uint8_t raw[kChunkHeaderSize];
    ByteWriter w(raw, sizeof(raw));
    h.encode(w);
    if (crc32c(payload.data(), h.payload_size, crc32c(raw, sizeof(raw))) != c.section_crc) {
      *err = "memory chunk checksum mismatch";
      return false;
    }
    if (!decode_chunk(h, payload.data(), scratch, err)) return false;
    const auto& want = want_[h.region];
    for (uint32_t p = 0; p < h.page_count; p++) {
      uint8_t* dest = want[h.first_page + p];
      if (dest && ((h.bitmap[p / 64] >> (p % 64)) & 1))
        std::memcpy(dest, scratch + size_t{p} * kPageSize, kPageSize);
    }
    return true;
  }

  void work(int fd) {
    std::vector<uint8_t> payload;
    auto scratch = std::make_unique<uint8_t[]>(size_t{kChunkPages} * kPageSize);
    std::string err;
    for (;;) {
      size_t i = next_.fetch_add(1);
      if (i >= todo_.size() || failed_.load()) return;
      if (!copy_one(fd, img_.chunks[todo_[i]], payload, scratch.get(), &err)) {
        std::lock_guard lock(mu_);
        if (!failed_) error_ = err + " (chunk " + std::to_string(todo_[i]) + ")";
        failed_ = true;
        return;
      }
    }
  }

  const LoadedImage& img_;
  std::vector<std::vector<uint8_t*>> want_;
  std::vector<size_t> todo_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  std::string error_;
};

// Resolves `needs` against one ancestor: what it stores is copied, what it
// keeps goes on to the next one (returned), what it has zero stays zero.
bool resolve_in(const LoadedImage& a, std::vector<Need>& needs, int threads, std::string* err) {
  std::vector<uint32_t> idx = by_address(a);
  AncestorCopy copy(a);
  std::vector<Need> later;
  for (const Need& n : needs) {
    int64_t ri = find_region(a, idx, n.addr);
    if (ri < 0) {
      char hex[32];
      std::snprintf(hex, sizeof(hex), "0x%llx", static_cast<unsigned long long>(n.addr));
      *err = "the page at " + std::string(hex) + " is kept from it, which has no memory there";
      return false;
    }
    const RegionRecord& r = a.regions[ri];
    uint64_t page = (n.addr - r.start) / kPageSize;
    if (r.has_content == kContentDelta && is_kept(*kept_of(a, static_cast<uint32_t>(ri)), page))
      later.push_back(n);
    else
      copy.want(static_cast<uint32_t>(ri), page, n.dest);
  }
  if (!copy.run(threads, err)) {
    *err = "damaged: " + *err;
    return false;
  }
  needs = std::move(later);
  return true;
}

}  // namespace

std::string parent_path(const LoadedImage& img) {
  if (!img.has_lineage || !img.lineage.parent_generation) return "";
  std::string p(img.lineage.parent_path);
  if (!p.empty() && p[0] == '/') return p;
  std::string self = real_path(img.path);
  size_t slash = self.rfind('/');
  std::string dir = slash == std::string::npos ? std::string(".") : self.substr(0, slash);
  return std::filesystem::path(dir + "/" + p).lexically_normal().string();
}

bool read_ancestors(const LoadedImage& img, bool verify_chunks, std::vector<LoadedImage>* out,
                    std::string* err) {
  out->clear();
  const LoadedImage* child = &img;
  while (child->has_lineage && child->lineage.parent_generation) {
    const LineageRecord& link = child->lineage;
    std::string path = parent_path(*child);
    std::string what = describe(path, link.parent_generation, *child);
    if (out->size() == kMaxChain || link.parent_generation >= child->header.generation) {
      *err = what + ": the chain does not go back in generations";
      return false;
    }
    LoadedImage parent;
    std::string why;
    if (::access(path.c_str(), F_OK) != 0) {
      *err = what + ": missing (" + std::strerror(errno) + ")";
      return false;
    }
    if (!read_image(path, verify_chunks, &parent, &why) ||
        (verify_chunks && !verify_memory(parent, 1, &why))) {
      *err = what + ": damaged: " + why;
      return false;
    }
    if (parent.header.generation != link.parent_generation) {
      *err = what + ": the file is generation " + std::to_string(parent.header.generation);
      return false;
    }
    if (parent.link_crc != link.parent_link_crc) {
      *err = what + ": link checksum differs (the file was replaced or damaged)";
      return false;
    }
    out->push_back(std::move(parent));
    child = &out->back();
  }
  return true;
}

bool load_kept_pages(const LoadedImage& img, const std::vector<LoadedImage>& ancestors,
                     const std::function<uint8_t*(uint32_t)>& dest_for_region, int threads,
                     std::string* err) {
  std::vector<Need> needs;
  for (const auto& k : img.kept) {
    const RegionRecord& r = img.regions[k.region];
    uint8_t* base = dest_for_region(k.region);
    if (!base) continue;
    for (uint64_t p = 0; p < (r.end - r.start) / kPageSize; p++)
      if (is_kept(k, p)) needs.push_back({r.start + p * kPageSize, base + p * kPageSize});
  }
  const LoadedImage* child = &img;
  for (const auto& a : ancestors) {
    if (needs.empty()) break;
    std::string why;
    if (!resolve_in(a, needs, threads, &why)) {
      *err = describe(a.path, a.header.generation, *child) + ": " + why;
      return false;
    }
    child = &a;
  }
  if (!needs.empty()) {
    *err = std::to_string(needs.size()) + " kept pages found in no image of the chain";
    return false;
  }
  return true;
}

bool read_lineage(const std::string& path, uint64_t* generation, LineageInfo* out) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  FileHeader h;
  std::string err;
  if (fd.get() < 0 || !pread_exact(fd.get(), &h, sizeof(h), 0, &err) ||
      std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0)
    return false;
  *generation = h.generation;
  *out = LineageInfo{};
  // Lineage comes before MemRegions: a few section headers in.
  for (uint64_t off = sizeof(h);;) {
    SectionHeader s;
    if (!pread_exact(fd.get(), &s, sizeof(s), off, &err)) return false;
    off += sizeof(s);
    if (s.tag == static_cast<uint32_t>(Tag::kMemRegions) ||
        s.tag == static_cast<uint32_t>(Tag::kMemChunk) || s.tag == static_cast<uint32_t>(Tag::kEnd))
      return true;  // none: a full image of an older build
    if (s.tag == kTagLineage) {
      if (s.size > 1 << 20) return false;
      std::string payload(s.size, '\0');
      LineageRecord rec;
      ByteReader r(payload.data(), payload.size());
      if (!pread_exact(fd.get(), payload.data(), s.size, off, &err) ||
          crc32c(payload.data(), s.size) != s.crc || !rec.decode(r))
        return false;
      out->present = true;
      out->tracking = rec.tracking;
      out->note = rec.note;
      out->parent_generation = rec.parent_generation;
      out->chain_length = rec.chain_length;
      out->parent_path = rec.parent_path;
      return true;
    }
    off += s.size;
  }
}

std::vector<uint64_t> chain_generations(const std::string& path) {
  std::vector<uint64_t> gens;
  std::string at = path;
  for (size_t i = 0; i < kMaxChain; i++) {
    uint64_t gen = 0;
    LineageInfo l;
    if (!read_lineage(at, &gen, &l)) break;
    gens.push_back(gen);
    if (!l.parent_generation) break;
    LoadedImage shell;  // parent_path() needs only the path and the lineage
    shell.path = at;
    shell.has_lineage = true;
    shell.lineage.parent_generation = l.parent_generation;
    shell.lineage.parent_path = l.parent_path;
    at = parent_path(shell);
  }
  return gens;
}

}  // namespace ckpt::image
