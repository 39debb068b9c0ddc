// The image writing sequence (see image_file.h). Reads as a table of
// contents: one step per section, in the order the format defines.
#include "image_file.h"

#include <fcntl.h>

#include "../../plugins/fd/fd_capture.h"
#include "../common/image_writer.h"
#include "ckpt/sys.h"
#include "log.h"
#include "memory_capture.h"
#include "proc_files.h"
#include "process_capture.h"

namespace ckpt {
namespace {

int compression_level() {
  static int level = 1000;
  if (level != 1000) return level;
  level = -1;
  if (const char* s = getenv("CKPT_COMPRESS_LEVEL")) {
    int v = 0, sign = 1;
    if (*s == '-') sign = -1, s++;
    for (; *s >= '0' && *s <= '9'; s++) v = v * 10 + (*s - '0');
    level = sign * v;
  }
  return level;
}

bool write_error(const image::ImageWriter& w, MessageString& err) {
  err.append("cannot write image: ").append(errno_name(-w.error()));
  return false;
}

bool write_sections(Runtime& rt, image::ImageWriter& w, uint64_t generation, int image_fd,
                    int32_t stopped_threads, MessageString& err) {
  ByteWriter section;
  // 1. Header.
  if (!w.write_header(generation)) return write_error(w, err);
  // 2. Process: identity, cwd, rlimits, mm layout.
  if (!capture_process(rt, section, err)) return false;
  if (!w.add_section(image::Tag::kProcess, section)) return write_error(w, err);
  // 3. Threads: where each one resumes.
  section.clear();
  capture_threads(rt, stopped_threads, section);
  if (!w.add_section(image::Tag::kThreads, section)) return write_error(w, err);
  // 4. Signal dispositions.
  section.clear();
  capture_signals(section);
  if (!w.add_section(image::Tag::kSignals, section)) return write_error(w, err);
  // 5. File descriptors, and the content of unlinked files.
  section.clear();
  FdCapture fds;
  int skip[3] = {rt.coord_fd, rt.event_fd, image_fd};
  if (!capture_fds(skip, 3, fds, section, err)) return false;
  if (!w.add_section(image::Tag::kFds, section)) return write_error(w, err);
  if (!write_unlinked_files(fds, w, err)) return false;
  // 6. Memory: the region list, then every chunk, compressed in parallel.
  MemoryPlan plan;
  bool ok = plan_memory(plan, err) && write_memory(plan, w, compression_level(), err);
  finish_memory(plan);
  if (!ok) return false;
  // 7. End, with the counts a reader checks against.
  if (!w.finish()) return write_error(w, err);
  return true;
}

}  // namespace

bool write_image_file(Runtime& rt, uint64_t generation, std::string_view dir,
                      int32_t stopped_threads, WrittenImage& out, MessageString& err) {
  out.name.clear();
  out.name.append("ckpt_").append(rt.program).append('_').append_int(rt.vpid).append(".img");
  PathString path, tmp;
  path.append(dir).append('/').append(out.name.view());
  tmp.append(path.view()).append(".tmp");
  long fd = sys::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    err.append("cannot create ").append(tmp.view()).append(": ").append(errno_name(-fd));
    return false;
  }
  image::ImageWriter w(static_cast<int>(fd));
  bool ok = write_sections(rt, w, generation, static_cast<int>(fd), stopped_threads, err);
  if (ok) {
    long r = sys::fsync(static_cast<int>(fd));
    if (r < 0) {
      err.append("cannot sync ").append(tmp.view()).append(": ").append(errno_name(-r));
      ok = false;
    }
  }
  sys::close(static_cast<int>(fd));
  if (ok) {
    long r = sys::rename(tmp.c_str(), path.c_str());
    if (r < 0) {
      err.append("cannot rename ").append(tmp.view()).append(": ").append(errno_name(-r));
      ok = false;
    }
  }
  if (!ok) {
    sys::unlink(tmp.c_str());
    return false;
  }
  out.bytes = w.bytes_written();
  return true;
}

}  // namespace ckpt
