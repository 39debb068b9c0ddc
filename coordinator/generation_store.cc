// Generation dirs, the commit protocol and cleanup (see generation_store.h).
#include "generation_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <set>

#include "chain_keep.h"
#include "common/scoped_fd.h"
#include "log.h"

namespace fs = std::filesystem;

namespace ckpt {
namespace {

constexpr std::string_view kGenPrefix = ".ckpt_gen_";
constexpr const char* kLatest = "ckpt_latest";

std::string errno_text() { return std::strerror(errno); }

// ".ckpt_gen_12" -> 12; anything else -> 0.
uint64_t parse_gen_name(std::string_view name) {
  if (name.substr(0, kGenPrefix.size()) != kGenPrefix) return 0;
  name.remove_prefix(kGenPrefix.size());
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
  if (name.empty() || ec != std::errc() || end != name.data() + name.size()) return 0;
  return n;
}

bool fsync_path(const std::string& path, int flags) {
  ScopedFd fd(::open(path.c_str(), flags | O_CLOEXEC));
  return fd && ::fsync(fd.get()) == 0;
}

// Points `link` at `target` atomically (tmp symlink + rename).
bool replace_symlink(const std::string& target, const std::string& link, std::string* error) {
  std::string tmp = link + ".tmp";
  ::unlink(tmp.c_str());
  if (::symlink(target.c_str(), tmp.c_str()) != 0 || ::rename(tmp.c_str(), link.c_str()) != 0) {
    *error = "cannot point " + link + " at " + target + ": " + errno_text();
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

void append_warning(std::string* warnings, const std::string& text) {
  log_line("warning: %s", text.c_str());
  if (!warnings->empty()) *warnings += "; ";
  *warnings += text;
}

}  // namespace

bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name[0] != '.' && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

std::string GenerationStore::gen_dir(uint64_t gen) const {
  return dir_ + "/" + std::string(kGenPrefix) + std::to_string(gen);
}

std::vector<uint64_t> GenerationStore::scan() const {
  std::vector<uint64_t> gens;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    uint64_t n = parse_gen_name(entry.path().filename().string());
    if (n > 0 && entry.is_directory(ec) && !entry.is_symlink(ec)) gens.push_back(n);
  }
  std::sort(gens.begin(), gens.end());
  return gens;
}

uint64_t GenerationStore::read_latest_link() const {
  std::error_code ec;
  fs::path target = fs::read_symlink(dir_ + "/" + kLatest, ec);
  if (ec) return 0;
  return parse_gen_name(target.filename().string());
}

bool GenerationStore::open(std::string* err) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    *err = "cannot create checkpoint dir " + dir_ + ": " + ec.message();
    return false;
  }
  if (!fs::is_directory(dir_, ec)) {
    *err = "checkpoint dir " + dir_ + " is not a directory";
    return false;
  }

  committed_ = read_latest_link();
  std::vector<uint64_t> gens = scan();
  highest_ = 0;
  for (uint64_t gen : gens) {
    bool has_manifest = fs::exists(gen_dir(gen) + "/MANIFEST", ec);
    // Newer than the committed one: an interrupted checkpoint. Without any
    // committed link, keep dirs that were complete (MANIFEST) to be safe.
    if (gen > committed_ && (committed_ > 0 || !has_manifest)) {
      log_line("removing %s: left over from an interrupted checkpoint", gen_dir(gen).c_str());
      discard(gen);
      continue;
    }
    highest_ = gen;
  }
  if (committed_ > 0 && !fs::is_directory(gen_dir(committed_), ec)) {
    log_line("warning: %s/%s points at missing %s", dir_.c_str(), kLatest,
             gen_dir(committed_).c_str());
  }
  return true;
}

std::string GenerationStore::create(uint64_t gen) {
  std::string path = gen_dir(gen);
  if (::mkdir(path.c_str(), 0700) != 0)
    return "cannot create checkpoint dir " + path + ": " + errno_text();
  highest_ = std::max(highest_, gen);
  return "";
}

std::string GenerationStore::check_image(uint64_t gen, const std::string& image,
                                         uint64_t* bytes) const {
  if (!is_plain_file_name(image)) return "bad image name '" + image + "'";
  std::string path = gen_dir(gen) + "/" + image;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return "image " + path + ": " + errno_text();
  if (!S_ISREG(st.st_mode)) return "image " + path + " is not a regular file";
  *bytes = static_cast<uint64_t>(st.st_size);
  return "";
}

std::string GenerationStore::write_manifest(uint64_t gen, const std::vector<std::string>& images,
                                            const std::string& metadata) {
  std::string path = gen_dir(gen) + "/MANIFEST";
  std::string text = "generation " + std::to_string(gen) + "\n";
  for (const auto& image : images) text += image + "\n";
  if (!metadata.empty()) text += "\n" + metadata;
  ScopedFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return "cannot write " + path + ": " + errno_text();
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "cannot write " + path + ": " + errno_text();
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return "cannot fsync " + path + ": " + errno_text();
  if (!fsync_path(gen_dir(gen), O_RDONLY | O_DIRECTORY))
    return "cannot fsync " + gen_dir(gen) + ": " + errno_text();
  return "";
}

std::string GenerationStore::commit(uint64_t gen, const std::vector<std::string>& images,
                                    const std::string& metadata, std::string* warnings) {
  if (std::string error = write_manifest(gen, images, metadata); !error.empty()) return error;
  // The commit point: ckpt_latest now names the new generation.
  std::string error;
  std::string target = std::string(kGenPrefix) + std::to_string(gen);
  if (!replace_symlink(target, dir_ + "/" + kLatest, &error)) return error;
  committed_ = gen;
  if (!fsync_path(dir_, O_RDONLY | O_DIRECTORY))
    append_warning(warnings, "cannot fsync " + dir_ + ": " + errno_text());

  update_image_links(images, warnings);
  drop_old_generations(gen, warnings);
  fsync_path(dir_, O_RDONLY | O_DIRECTORY);
  return "";
}

void GenerationStore::update_image_links(const std::vector<std::string>& images,
                                         std::string* warnings) {
  std::set<std::string> wanted(images.begin(), images.end());
  for (const auto& image : images) {
    std::string link = dir_ + "/" + image;
    struct stat st;
    if (::lstat(link.c_str(), &st) == 0 && !S_ISLNK(st.st_mode)) {
      append_warning(warnings, link + " exists and is not a symlink; left alone");
      continue;
    }
    std::string error;
    if (!replace_symlink(std::string(kLatest) + "/" + image, link, &error))
      append_warning(warnings, error);
  }
  // Links to images that are not part of this generation any more.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("ckpt_", 0) != 0 || name.size() < 4 ||
        name.compare(name.size() - 4, 4, ".img") != 0 || wanted.count(name))
      continue;
    std::error_code lec;
    if (!entry.is_symlink(lec)) continue;
    std::string target = fs::read_symlink(entry.path(), lec).string();
    if (target.rfind(std::string(kLatest) + "/", 0) == 0) ::unlink(entry.path().c_str());
  }
}

void GenerationStore::drop_old_generations(uint64_t gen, std::string* warnings) {
  std::vector<uint64_t> gens = scan();
  std::vector<uint64_t> committed;
  for (uint64_t g : gens)
    if (g <= gen) committed.push_back(g);
  size_t keep = static_cast<size_t>(std::max(keep_, 1));
  if (committed.size() <= keep) return;
  // An incremental image needs its parents: their generations stay.
  std::set<uint64_t> needed =
      generations_needed(std::vector<uint64_t>(committed.end() - keep, committed.end()),
                         [this](uint64_t g) { return gen_dir(g); });
  for (size_t i = 0; i + keep < committed.size(); i++) {
    if (committed[i] == gen || needed.count(committed[i])) continue;
    std::error_code ec;
    fs::remove_all(gen_dir(committed[i]), ec);
    if (ec)
      append_warning(warnings, "cannot remove " + gen_dir(committed[i]) + ": " + ec.message());
  }
}

void GenerationStore::discard(uint64_t gen) {
  std::error_code ec;
  fs::remove_all(gen_dir(gen), ec);
  if (ec) log_line("warning: cannot remove %s: %s", gen_dir(gen).c_str(), ec.message().c_str());
  std::vector<uint64_t> gens = scan();
  highest_ = std::max(floor_, gens.empty() ? 0 : gens.back());
}

}  // namespace ckpt
