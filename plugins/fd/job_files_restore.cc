// Job-private files, restart side (see job_files_restore.h).
#include "job_files_restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace ckpt {
namespace {

using image::FdKind;
using image::FdRecord;
using image::JobDirRecord;

bool saved_file(const FdRecord& r) { return r.kind == FdKind::kRegular && r.file_data >= 0; }

std::string failure(const std::string& what, const std::string& path) {
  return "cannot make again " + what + " " + path + ": " + std::strerror(errno);
}

// The missing parents of `path` (which were not the job's own: made before
// it started, such as Open MPI's /tmp/ompi.<node>.<uid> left by an earlier
// job on the old node, and absent on a new node): made private to the
// directory's owner, as their children are.
void make_parents(const std::string& path, const JobDirRecord& d) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string parent = path.substr(0, slash);
    if (mkdir(parent.c_str(), 0700) == 0 && geteuid() == 0) {
      if (chown(parent.c_str(), d.uid, d.gid) != 0) return;
    }
  }
}

bool make_dir(const JobDirRecord& d, std::string* err) {
  std::string path(d.path);
  int rc = mkdir(path.c_str(), 0700);
  if (rc != 0 && errno == ENOENT) {
    make_parents(path, d);
    rc = mkdir(path.c_str(), 0700);
  }
  if (rc != 0) {
    if (errno == EEXIST) return true;  // still there: left as it is
    *err = failure("the job's directory", path);
    return false;
  }
  if (geteuid() == 0 && chown(path.c_str(), d.uid, d.gid) != 0) {
    *err = failure("the job's directory", path);
    return false;
  }
  if (chmod(path.c_str(), d.mode) != 0) {
    *err = failure("the job's directory", path);
    return false;
  }
  return true;
}

bool make_dirs(const std::vector<image::LoadedImage>& images, std::string* err) {
  std::vector<const JobDirRecord*> dirs;
  for (const auto& img : images)
    for (const auto& d : img.job_dirs) dirs.push_back(&d);
  // Parents first: a parent's path is a prefix of its children's.
  std::sort(dirs.begin(), dirs.end(), [](const JobDirRecord* a, const JobDirRecord* b) {
    return a->path.size() != b->path.size() ? a->path.size() < b->path.size() : a->path < b->path;
  });
  std::set<std::string_view> done;
  for (const JobDirRecord* d : dirs)
    if (done.insert(d->path).second && !make_dir(*d, err)) return false;
  return true;
}

bool make_file(const image::LoadedImage& img, const FdRecord& r, bool rollback, std::string* err) {
  std::string path(r.path);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, r.mode & 07777);
  bool created = fd >= 0;
  if (!created && errno == EEXIST) {
    if (!rollback) return true;
    fd = open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  }
  if (fd < 0) {
    *err = failure("the job's file", path);
    return false;
  }
  if (created && geteuid() == 0) (void)fchown(fd, img.process.uid, img.process.gid);
  if (created) (void)fchmod(fd, r.mode & 07777);
  bool ok = image::copy_file_data(img, static_cast<uint32_t>(r.file_data), fd, err);
  close(fd);
  if (!ok) *err = "cannot make again the job's file " + path + ": " + *err;
  return ok;
}

}  // namespace

bool made_at_restart(const image::LoadedImage& img, const FdRecord& r) {
  if (saved_file(r)) return true;
  if (r.kind != FdKind::kDirectory) return false;
  for (const auto& d : img.job_dirs)
    if (d.path == r.path) return true;
  return false;
}

bool restore_job_files(const std::vector<image::LoadedImage>& images, bool rollback,
                       std::string* err) {
  if (!make_dirs(images, err)) return false;
  std::set<std::string_view> done;  // a file several processes held: once
  for (const auto& img : images)
    for (const FdRecord& r : img.fds)
      if (saved_file(r) && done.insert(r.path).second && !make_file(img, r, rollback, err))
        return false;
  return true;
}

}  // namespace ckpt
