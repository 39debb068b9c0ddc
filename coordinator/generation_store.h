// The generation store: checkpoint generations on disk and their atomic commit.
//
//   <dir>/.ckpt_gen_<N>/            one dir per generation, images inside
//   <dir>/.ckpt_gen_<N>/MANIFEST    "generation N", one image name per line, then
//                                   an empty line and job metadata, "key: value"
//                                   per line (job_metadata.h)
//   <dir>/ckpt_latest -> .ckpt_gen_<N>      the committed generation
//   <dir>/ckpt_X.img  -> ckpt_latest/ckpt_X.img   one link per image
//
// A generation is committed when the ckpt_latest symlink is renamed onto it;
// before that the previous generation stays complete and untouched.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace ckpt {

class GenerationStore {
 public:
  GenerationStore(std::string dir, int keep) : dir_(std::move(dir)), keep_(keep) {}

  // Creates dir if missing, finds the committed generation and removes
  // leftovers of interrupted checkpoints; false with a one-line *err.
  bool open(std::string* err);

  const std::string& dir() const { return dir_; }
  uint64_t committed() const { return committed_; }
  // 1 + the highest generation dir present (or named to number_past).
  uint64_t next() const { return highest_ + 1; }
  // Generations from now on are numbered above `gen`.
  void number_past(uint64_t gen) {
    floor_ = std::max(floor_, gen);
    highest_ = std::max(highest_, gen);
  }
  std::string gen_dir(uint64_t gen) const;

  // mkdir <dir>/.ckpt_gen_<gen> (0700). "" or an error naming the dir.
  std::string create(uint64_t gen);
  // Checks that `image` is a plain file name and a regular file in the
  // generation dir; *bytes gets its size. "" or an error.
  std::string check_image(uint64_t gen, const std::string& image, uint64_t* bytes) const;
  // Commits `gen` (see the top of this file), then drops generations beyond
  // the newest `keep`, except those an incremental image of a kept one
  // builds on: an older generation goes only once a newer one is committed. "" when committed; an
  // error means it was not, and the previous generation is intact. Problems after the commit point
  // (links, cleanup) go to *warnings. `metadata` ("key: value" lines) ends the MANIFEST.
  std::string commit(uint64_t gen, const std::vector<std::string>& images,
                     const std::string& metadata, std::string* warnings);
  // Removes an uncommitted generation dir and everything in it.
  void discard(uint64_t gen);

 private:
  std::vector<uint64_t> scan() const;  // generation numbers present, ascending
  uint64_t read_latest_link() const;   // 0 if none
  std::string write_manifest(uint64_t gen, const std::vector<std::string>& images,
                             const std::string& metadata);
  void update_image_links(const std::vector<std::string>& images, std::string* warnings);
  void drop_old_generations(uint64_t gen, std::string* warnings);

  std::string dir_;
  int keep_;
  uint64_t committed_ = 0;
  uint64_t highest_ = 0;
  uint64_t floor_ = 0;  // from number_past
};

// "ckpt_foo_1.img" is acceptable; "", ".", "..", "a/b" and names starting
// with '.' are not.
bool is_plain_file_name(const std::string& name);

}  // namespace ckpt
