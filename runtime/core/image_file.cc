// The image writing sequence (see image_file.h). Reads as a table of
// contents: one step per section, in the order the format defines.
#include "image_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "ckpt/maps.h"
#include "ckpt/sys.h"
#include "common/image_writer.h"
#include "copy_first.h"
#include "direct_image_sink.h"
#include "dirty_tracking.h"
#include "incremental_image.h"
#include "log.h"
#include "memory_capture.h"
#include "plugins/shm/shm_capture.h"
#include "plugins/sockets/host_addresses.h"
#include "plugins/sockets/net_addresses.h"
#include "plugins/sysv_ipc/sysv_capture.h"
#include "proc_files.h"
#include "process_capture.h"
#include "runtime_ranges.h"
#include "thread_local_state.h"

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

bool write_sections(Runtime& rt, image::ImageWriter& w, DirectImageSink& sink, ImageJob& job,
                    MessageString& err) {
  ByteWriter section;
  // 1. Header.
  if (!w.write_header(job.generation)) return write_error(w, err);
  // 2. Process: identity, cwd, rlimits, mm layout.
  if (!capture_process(rt, section, err)) return false;
  if (!w.add_section(image::Tag::kProcess, section)) return write_error(w, err);
  // 3. Threads: where each one resumes.
  section.clear();
  capture_threads(rt, job.stopped_threads, section);
  if (!w.add_section(image::Tag::kThreads, section)) return write_error(w, err);
  // 4. CPU bindings, re-applied by ckpt_restart on the node it runs on.
  section.clear();
  capture_affinity(rt, job.stopped_threads, section);
  if (!w.add_section(image::Tag::kCpuAffinity, section)) return write_error(w, err);
  // 5. The host's addresses, virtual form (so a later restart can tell which
  //    host this image's addresses named).
  section.clear();
  capture_host_addresses(address_map(), section);
  if (!w.add_section(image::Tag::kHostAddresses, section)) return write_error(w, err);
  // 6. Signal dispositions.
  section.clear();
  capture_signals(section);
  if (!w.add_section(image::Tag::kSignals, section)) return write_error(w, err);
  // The runtime's buffer, unmapped before the memory plan reads the maps: an
  // image that carried it would bring it back at every restart, one more
  // mapping each time (the soak benchmark saw them pile up).
  section.release();
  // 7. File descriptors (captured in prepare_image), unlinked files' content.
  if (!w.add_section(image::Tag::kFds, job.fds_section)) return write_error(w, err);
  if (!write_unlinked_files(job.fds, w, err)) return false;
  // 8. System V semaphore sets and message queues (captured in prepare_image).
  if (job.sysv_section.size() > 0 && !w.add_section(image::Tag::kSysvObjects, job.sysv_section))
    return write_error(w, err);
  // 9. Lineage: full, or incremental on the previous generation's image.
  if (!write_lineage(w, err)) return false;
  // 10. Memory: the shared memory objects mapped, the region list, then every
  //    chunk, compressed in parallel.
  MemoryPlan plan;
  bool ok = plan_memory(plan, err) && write_shm_objects(w, err);
  shm_capture_end();
  ok = ok && write_memory(plan, w, compression_level(), sink, err);
  finish_memory(plan);
  if (!ok) return false;
  // 11. End, with the counts a reader checks against.
  if (!w.finish()) return write_error(w, err);
  return true;
}

// A writable MAP_SHARED mapping is not copied on fork: a forked writer
// would see the application's later stores.
bool has_writable_shared_mapping() {
  ByteWriter text;
  if (!read_whole_file("/proc/self/maps", text)) return true;
  bool found = false;
  std::string_view maps(reinterpret_cast<const char*>(text.data()), text.size());
  for_each_map(maps, [&](const MapEntry& e) {
    if (e.shared && (e.prot & PROT_WRITE) && !is_copy_buffer(e.start, e.end)) found = true;
  });
  text.release();
  return found;
}

// The host name with what is not plain in a file name made '_', then '_'.
void append_host(FixedString<256>& name, const char* host) {
  for (size_t i = 0; host[i] && i < 64; i++) {
    char c = host[i];
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-';
    name.append(plain ? c : '_');
  }
  name.append('_');
}

}  // namespace

bool prepare_image(Runtime& rt, ImageJob& job, std::string_view dir, MessageString& err) {
  clear_excluded_ranges();
  exclude_copy_buffers();
  job.out.name.clear();
  // ckpt_<program>_<vpid>.img, or ckpt_<program>_r<rank>_<vpid>.img for an MPI rank;
  // ckpt_<program>_<host>_... when the computation spans several hosts.
  job.out.name.append("ckpt_").append(rt.program).append('_');
  if (job.name_host) append_host(job.out.name, rt.host);
  if (rt.rank >= 0) job.out.name.append('r').append_int(rt.rank).append('_');
  job.out.name.append_int(rt.vpid).append(".img");
  job.out.bytes = 0;
  job.out.identity = ImageIdentity{};
  job.path.clear();
  job.path.append(dir).append('/').append(job.out.name.view());
  job.tmp.clear();
  job.tmp.append(job.path.view()).append(".tmp");
  long fd = sys::open(job.tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    err.append("cannot create ").append(job.tmp.view()).append(": ").append(errno_name(-fd));
    return false;
  }
  job.fd = static_cast<int>(fd);
  job.fds_section.clear();
  // Shared by the stopped processes: read now, before any of them resumes.
  if (!capture_sysv_objects(rt, job.sysv_section, err)) {
    abandon_image(job);
    return false;
  }
  if (job.sysv_section.capacity() > 0)
    exclude_range(job.sysv_section.data(), job.sysv_section.capacity());
  int skip[4] = {rt.coord_fd, rt.event_fd, job.fd, tracking_fd()};
  job.fds.addresses = &address_map();
  if (!capture_fds(skip, 4, job.fds, job.fds_section, err) || !save_unlinked_files(job.fds, err)) {
    abandon_image(job);
    return false;
  }
  job.fork_safe = !has_writable_shared_mapping();
  // Settings from the environment are read now, by the application itself:
  // the environment may live in memory a copy-first writer sees empty.
  compression_level();
  read_memory_settings();
  exclude_range(job.fds_section.data(), job.fds_section.capacity());
  exclude_range(job.fds.file_data.data(), job.fds.file_data.capacity());
  return true;
}

namespace {

// CKPT_VERBOSE: how the image was written, how long making it and its final
// fsync took.
void log_write_times(const image::ImageWriter& w, const DirectImageSink& sink, int64_t t0,
                     int64_t t1, int64_t t2) {
  if (!log_enabled(LogLevel::kInfo)) return;
  MessageString msg;
  msg.append("image ").append_int(static_cast<long>(w.bytes_written() >> 20)).append(" MiB");
  if (sink.started())
    msg.append(sink.refused() ? " (direct I/O refused: page cache)" : " (direct I/O)");
  msg.append(": sections ").append_int((t1 - t0) / 1000000).append(" ms, final fsync ");
  msg.append_int((t2 - t1) / 1000000).append(" ms");
  log_line(LogLevel::kInfo, msg.view());
}

// The file as written, for the next checkpoint's check of its parent.
void note_identity(int fd, const image::ImageWriter& w, ImageIdentity& id) {
  struct stat st;
  id.known = sys::call2(sys::kFstat, fd, reinterpret_cast<long>(&st)) == 0 &&
             static_cast<uint64_t>(st.st_size) == w.bytes_written();
  id.link_crc = w.link_crc();
  id.ino = st.st_ino;
  id.size = static_cast<uint64_t>(st.st_size);
  id.mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + st.st_mtim.tv_nsec;
}

}  // namespace

bool write_image(Runtime& rt, ImageJob& job, MessageString& err) {
  image::ImageWriter w(job.fd);
  DirectImageSink sink;  // big images: write_memory() hands the writer over to it
  const int64_t t0 = monotonic_ns();
  bool ok = write_sections(rt, w, sink, job, err);
  const int64_t t1 = monotonic_ns();
  if (ok) {
    long r = sys::fsync(job.fd);
    log_write_times(w, sink, t0, t1, monotonic_ns());
    if (r < 0) {
      err.append("cannot sync ").append(job.tmp.view()).append(": ").append(errno_name(-r));
      ok = false;
    }
    note_identity(job.fd, w, job.out.identity);
  }
  if (ok) {
    long r = sys::rename(job.tmp.c_str(), job.path.c_str());
    if (r < 0) {
      err.append("cannot rename ").append(job.tmp.view()).append(": ").append(errno_name(-r));
      ok = false;
    }
  }
  sys::close(job.fd);
  job.fd = -1;
  if (!ok) {
    sys::unlink(job.tmp.c_str());
    return false;
  }
  job.out.bytes = w.bytes_written();
  return true;
}

void abandon_image(ImageJob& job) {
  if (job.fd >= 0) sys::close(job.fd);
  job.fd = -1;
  if (!job.tmp.empty()) sys::unlink(job.tmp.c_str());
}

void forget_image_job(ImageJob& job) {
  job.fds_section.forget();
  job.sysv_section.forget();
  job.fds.file_data.forget();
  job.fd = -1;
}

}  // namespace ckpt
