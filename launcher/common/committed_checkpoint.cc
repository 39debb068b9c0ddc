// Finding the committed checkpoint of a dir (see committed_checkpoint.h).
#include "committed_checkpoint.h"

#include <charconv>
#include <filesystem>
#include <string_view>

namespace ckpt {

namespace fs = std::filesystem;

uint64_t committed_generation(const std::string& ckpt_dir, std::string* gen_dir) {
  constexpr std::string_view kPrefix = ".ckpt_gen_";
  std::error_code ec;
  fs::path target = fs::read_symlink(fs::path(ckpt_dir) / "ckpt_latest", ec);
  if (ec) return 0;
  std::string name = target.filename().string();
  if (name.rfind(kPrefix, 0) != 0) return 0;
  uint64_t gen = 0;
  const char* first = name.data() + kPrefix.size();
  const char* last = name.data() + name.size();
  auto [end, perr] = std::from_chars(first, last, gen);
  if (perr != std::errc() || end != last || gen == 0) return 0;
  fs::path dir = fs::path(ckpt_dir) / name;
  if (!fs::is_regular_file(dir / "MANIFEST", ec)) return 0;
  if (gen_dir) *gen_dir = dir.string();
  return gen;
}

}  // namespace ckpt
