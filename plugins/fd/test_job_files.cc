// Job-private files (plugins/fd/job_files.h, job_files_restore.h): which
// open files are saved by content, which directories are recorded, and the
// directories made again at restart with their modes.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <string>

#include "common/image_reader.h"
#include "gtest/gtest.h"
#include "job_files.h"
#include "job_files_restore.h"

namespace ckpt {
namespace {

uint64_t coarse_now_ns() {
  timespec t = {};
  clock_gettime(CLOCK_REALTIME_COARSE, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000ull + t.tv_nsec;
}

class JobFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ckpt-unit-jobfiles-XXXXXX";
    root_ = mkdtemp(tmpl);
    old_file_ = root_ + "/before";  // born before the job started
    close(open(old_file_.c_str(), O_CREAT | O_WRONLY, 0600));
    usleep(30000);  // past the coarse clock's tick
    setenv("CKPT_JOB_START_NS", std::to_string(coarse_now_ns()).c_str(), 1);
    if (const char* t = getenv("TMPDIR")) old_tmpdir_ = t;
    setenv("TMPDIR", root_.c_str(), 1);
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + root_ + "'";
    EXPECT_EQ(system(cmd.c_str()), 0);
    unsetenv("CKPT_JOB_START_NS");
    if (old_tmpdir_.empty())
      unsetenv("TMPDIR");
    else
      setenv("TMPDIR", old_tmpdir_.c_str(), 1);
  }
  int open_new(const std::string& path, size_t size) {
    int fd = open(path.c_str(), O_CREAT | O_RDWR, 0640);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
    return fd;
  }
  bool taken(int fd, const std::string& path) {
    struct stat st;
    EXPECT_EQ(fstat(fd, &st), 0);
    return take_job_file(fd, path, st);
  }
  std::string root_, old_file_, old_tmpdir_;
};

std::vector<image::JobDirRecord> decode_dirs(std::string_view payload) {
  std::vector<image::JobDirRecord> out;
  if (payload.empty()) return out;
  ByteReader r(payload.data(), payload.size());
  uint32_t n = r.u32();
  for (uint32_t i = 0; i < n; i++) {
    image::JobDirRecord d;
    EXPECT_TRUE(d.decode(r));
    out.push_back(d);
  }
  EXPECT_EQ(r.remaining(), 0u);
  return out;
}

TEST_F(JobFiles, SmallNewFilesUnderTmpdirAreSavedWithTheirDirectories) {
  std::string a = root_ + "/sess", b = a + "/sub";
  ASSERT_EQ(mkdir(a.c_str(), 0750), 0);
  ASSERT_EQ(mkdir(b.c_str(), 0700), 0);
  chmod(a.c_str(), 0750);
  job_files_begin();
  int small = open_new(b + "/small", 4096);
  int big = open_new(b + "/big", kJobFileMaxBytes + 1);
  int old = open(old_file_.c_str(), O_RDONLY);
  EXPECT_TRUE(taken(small, b + "/small"));
  EXPECT_FALSE(taken(big, b + "/big")) << "bigger than the bound: by path";
  EXPECT_FALSE(taken(old, old_file_)) << "born before the job: by path";
  auto dirs = decode_dirs(job_dirs_payload());
  ASSERT_EQ(dirs.size(), 2u);  // sub, then sess; the root is older than the job
  EXPECT_EQ(dirs[0].path, b);
  EXPECT_EQ(dirs[0].mode, 0700u);
  EXPECT_EQ(dirs[1].path, a);
  EXPECT_EQ(dirs[1].mode, 0750u);
  EXPECT_EQ(dirs[1].uid, geteuid());
  close(small);
  close(big);
  close(old);
}

TEST_F(JobFiles, FilesOutsideTheTemporaryRootsAreNotTheJobs) {
  setenv("TMPDIR", "/nonexistent-root", 1);
  job_files_begin();
  // root_ lies under /tmp, a root too: pick a file outside every root.
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  std::string cwd_file = std::string(cwd) + "/ckpt-unit-jobfile";
  int fd = open_new(cwd_file, 16);
  if (cwd_file.starts_with("/tmp/") || cwd_file.starts_with("/var/tmp/")) GTEST_SKIP();
  EXPECT_FALSE(taken(fd, cwd_file));
  close(fd);
  unlink(cwd_file.c_str());
}

TEST_F(JobFiles, WithoutAJobStartNothingIsSaved) {
  unsetenv("CKPT_JOB_START_NS");
  job_files_begin();
  int fd = open_new(root_ + "/f", 16);
  EXPECT_FALSE(taken(fd, root_ + "/f"));
  close(fd);
}

TEST_F(JobFiles, RestartMakesMissingDirectoriesParentsFirstWithModes) {
  std::string a = root_ + "/gone", b = a + "/deeper";
  std::vector<image::LoadedImage> images(1);
  image::JobDirRecord child{0700, geteuid(), getegid(), b};
  image::JobDirRecord parent{0751, geteuid(), getegid(), a};
  images[0].job_dirs = {child, parent};  // in no particular order
  std::string err;
  ASSERT_TRUE(restore_job_files(images, true, &err)) << err;
  struct stat st;
  ASSERT_EQ(stat(a.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0751u);
  ASSERT_EQ(stat(b.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  // Present: left as they are.
  chmod(b.c_str(), 0755);
  ASSERT_TRUE(restore_job_files(images, true, &err)) << err;
  ASSERT_EQ(stat(b.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

}  // namespace
}  // namespace ckpt
