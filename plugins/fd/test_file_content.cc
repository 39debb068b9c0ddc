// Read-write files saved by content: an image whose Fds record of a regular
// file carries a FileData index gets the file's checkpoint-time size and
// bytes back from the restart (restore_job_files, then FdRestorer reopens it
// at its offset), and leaves it alone without rollback.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "common/image_reader.h"
#include "common/image_writer.h"
#include "fd_restore.h"
#include "gtest/gtest.h"
#include "job_files_restore.h"

namespace ckpt {
namespace {

constexpr int kFd = 200;  // the descriptor number in the image
const std::string kSaved = "0123456789 as at the checkpoint\n";

struct Dir {
  std::string path;
  Dir() {
    char tmpl[] = "/tmp/ckpt_file_content_XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~Dir() { std::system(("rm -rf " + path).c_str()); }
};

void put(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
}

std::string read_fd(int fd) {
  struct stat st;
  fstat(fd, &st);
  std::string s(static_cast<size_t>(st.st_size), '\0');
  if (pread(fd, s.data(), s.size(), 0) != static_cast<ssize_t>(s.size())) return "(short read)";
  return s;
}

// An image of one process holding `db` open read-write at offset 4, saved
// by content.
bool write_image(const std::string& image, const std::string& db) {
  int fd = open(image.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  image::ImageWriter w(fd);
  ByteWriter scratch;
  image::ProcessRecord p;
  p.vpid = p.real_pid = 4242;
  p.cwd = "/";
  image::FdRecord r;
  r.fd = kFd;
  r.kind = image::FdKind::kRegular;
  r.open_flags = O_RDWR;
  r.pos = 4;
  r.size = static_cast<int64_t>(kSaved.size());
  r.file_data = 0;
  r.path = db;
  image::FileDataHeader h{0, kSaved.size()};
  bool ok = w.write_header(1);
  p.encode(scratch);
  ok = ok && w.add_section(image::Tag::kProcess, scratch) &&
       w.add_records(image::Tag::kFds, &r, 1, scratch);
  scratch.clear();
  h.encode(scratch);
  scratch.put_bytes(kSaved.data(), kSaved.size());
  ok = ok && w.add_section(image::Tag::kFileData, scratch) && w.finish();
  close(fd);
  return ok;
}

// Restores the image's fds in a child (they take fixed numbers); returns the
// child's exit status: 0 when the file reads `want` at offset 4.
int restore_in_child(const std::string& image, bool rollback, const std::string& want) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<image::LoadedImage> images(1);
    std::string err;
    if (!image::read_image(image, true, &images[0], &err)) _exit(2);
    if (!restore_job_files(images, rollback, &err)) _exit(6);
    FdRestoreOptions opts;
    opts.file_rollback = rollback;
    FdRestorer fds(images, opts);
    if (!fds.create_all(&err) || !fds.place(0, &err)) _exit(3);
    if (lseek(kFd, 0, SEEK_CUR) != 4) _exit(4);
    _exit(read_fd(kFd) == want ? 0 : 5);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(FileContent, ReadWriteFileGetsItsCheckpointBytesBack) {
  Dir dir;
  std::string db = dir.path + "/app.db", image = dir.path + "/ckpt.img";
  put(db, kSaved);
  ASSERT_TRUE(write_image(image, db));
  // After the checkpoint the file changed in place and grew.
  put(db, "9876543210 changed in place after the checkpoint, and longer\n");
  EXPECT_EQ(restore_in_child(image, true, kSaved), 0);
  // Shrunk below its checkpoint size: extended again.
  put(db, "short");
  EXPECT_EQ(restore_in_child(image, true, kSaved), 0);
}

TEST(FileContent, WithoutRollbackTheFileStaysAsItIs) {
  Dir dir;
  std::string db = dir.path + "/app.db", image = dir.path + "/ckpt.img";
  put(db, kSaved);
  ASSERT_TRUE(write_image(image, db));
  std::string now = "changed after the checkpoint\n";
  put(db, now);
  EXPECT_EQ(restore_in_child(image, false, now), 0);
}

}  // namespace
}  // namespace ckpt
