// Resolving ckpt_restart's arguments to image files (see image_selection.h).
#include "image_selection.h"

#include <filesystem>
#include <system_error>

namespace ckpt {

namespace fs = std::filesystem;

namespace {

bool add_dir(const fs::path& dir, Selection* out, std::string* err) {
  std::error_code ec;
  fs::path gen = fs::exists(dir / "ckpt_latest", ec) ? dir / "ckpt_latest" : dir;
  for (const auto& e : fs::directory_iterator(gen, ec)) {
    std::string name = e.path().filename();
    if (name.starts_with("ckpt_") && name.ends_with(".img"))
      out->images.push_back(fs::canonical(e.path(), ec));
  }
  if (out->images.empty()) {
    *err = dir.string() + ": no checkpoint images (ckpt_*.img) in this directory";
    return false;
  }
  fs::path abs = fs::absolute(dir).lexically_normal();
  if (abs.filename().empty()) abs = abs.parent_path();
  // A generation directory belongs to the checkpoint directory above it.
  std::string leaf = abs.filename();
  out->ckpt_dir = leaf.starts_with(".ckpt_gen_") ? abs.parent_path() : abs;
  return true;
}

}  // namespace

bool select_images(const std::vector<std::string>& args, Selection* out, std::string* err) {
  std::error_code ec;
  for (const std::string& arg : args) {
    fs::path p(arg);
    if (fs::is_directory(p, ec)) {
      if (!add_dir(p, out, err)) return false;
      continue;
    }
    fs::path real = fs::canonical(p, ec);
    if (ec) {
      *err =
          arg + ": " + (fs::is_symlink(p) ? "dangling link (" + ec.message() + ")" : ec.message());
      return false;
    }
    out->images.push_back(real);
    if (out->ckpt_dir.empty()) {
      fs::path parent = fs::absolute(p).parent_path();
      // An image inside .ckpt_gen_N or ckpt_latest belongs to the dir above.
      std::string leaf = parent.filename();
      if (leaf.starts_with(".ckpt_gen_") || leaf == "ckpt_latest") parent = parent.parent_path();
      out->ckpt_dir = parent.lexically_normal();
    }
  }
  if (out->images.empty()) {
    *err = "no image given";
    return false;
  }
  return true;
}

}  // namespace ckpt
