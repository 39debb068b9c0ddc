// ckpt_info: prints what a checkpoint image holds (header, the job metadata
// of its generation's MANIFEST if it sits in one, process, threads, signals,
// fds, memory map, totals), or with --verify checks every checksum and
// decompresses every chunk. Exit 0 ok, 1 bad image, 2 usage.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "common/cpu_list.h"
#include "common/image_chain.h"
#include "common/image_reader.h"
#include "common/text.h"
#include "launcher/info/lineage_describe.h"
#include "plugins/fd/fd_describe_ops.h"
#include "plugins/shm/shm_describe.h"
#include "plugins/sockets/host_addresses_describe.h"
#include "plugins/sysv_ipc/sysv_describe.h"

namespace ckpt::image {
namespace {

constexpr const char* kUsage =
    "usage: ckpt_info [--verify] IMAGE...\n"
    "  Print the contents of checkpoint images.\n"
    "  --verify  check every checksum and decompress every memory chunk, and every\n"
    "            link of an incremental image's chain; print OK\n";

std::string cmdline_text(std::string_view cmd) {
  std::string out;
  while (!cmd.empty()) {
    size_t z = cmd.find('\0');
    std::string_view arg = cmd.substr(0, z);
    if (!out.empty()) out += ' ';
    bool quote = arg.empty() || arg.find_first_of(" \t'\"\\$") != std::string_view::npos;
    out += quote ? "'" + printable(arg) + "'" : printable(arg);
    if (z == std::string_view::npos) break;
    cmd.remove_prefix(z + 1);
  }
  return out;
}

std::string time_text(uint64_t ns) {
  time_t t = static_cast<time_t>(ns / 1000000000);
  struct tm tm;
  char buf[64];
  if (!gmtime_r(&t, &tm) || !std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm))
    return std::to_string(ns) + " ns";
  return buf;
}

void print_header(const LoadedImage& img) {
  const FileHeader& h = img.header;
  std::string id(h.build_id, strnlen(h.build_id, sizeof(h.build_id)));
  std::printf("image      %s\n", img.path.c_str());
  std::printf("format     version %u, x86-64, runtime build %s\n", h.version,
              printable(id).c_str());
  std::printf("created    %s, generation %" PRIu64 "\n", time_text(h.created_ns).c_str(),
              h.generation);
}

// The "key: value" lines after the empty line of the MANIFEST next to the
// image (coordinator/generation_store.h): scheduler, job id, nodes, ...
void print_job(const std::string& image_path) {
  char* real = realpath(image_path.c_str(), nullptr);
  if (!real) return;
  std::string dir(real);
  free(real);
  dir.erase(dir.rfind('/'));
  FILE* f = std::fopen((dir + "/MANIFEST").c_str(), "re");
  if (!f) return;
  char line[1024];
  bool meta = false;
  std::string text;
  while (std::fgets(line, sizeof(line), f)) {
    std::string l(line);
    while (!l.empty() && l.back() == '\n') l.pop_back();
    if (l.empty()) {
      meta = true;
    } else if (meta && l.find(": ") != std::string::npos) {
      text += (text.empty() ? "" : ", ") + printable(l.substr(0, l.find(": "))) + " " +
              printable(l.substr(l.find(": ") + 2));
    }
  }
  std::fclose(f);
  if (!text.empty()) std::printf("job        %s\n", text.c_str());
}

const char* kRlimitNames[kNumRlimits] = {
    "CPU",     "FSIZE", "DATA",  "STACK",      "CORE",     "RSS",  "NPROC",  "NOFILE",
    "MEMLOCK", "AS",    "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME"};

std::string limit_text(uint64_t v) { return v == RLIM_INFINITY ? "unlimited" : std::to_string(v); }

void print_process(const ProcessRecord& p) {
  std::printf("process    vpid %d, ppid %d, pgid %d, sid %d; real pid %d on %s; restarts %u\n",
              p.vpid, p.vppid, p.vpgid, p.vsid, p.real_pid, printable(p.host).c_str(),
              p.restart_count);
  std::printf("  exe      %s\n", printable(p.exe).c_str());
  std::printf("  cmdline  %s\n", cmdline_text(p.cmdline).c_str());
  std::printf("  cwd      %s\n", printable(p.cwd).c_str());
  std::printf("  comm     %s\n", printable(p.comm).c_str());
  std::printf("  ids      uid %u, gid %u, umask %04o\n", p.uid, p.gid, p.umask);
  std::string limits;
  for (int i = 0; i < kNumRlimits; i++) {
    auto& l = p.rlimits[i];
    if (l.cur == RLIM_INFINITY && l.max == RLIM_INFINITY) continue;
    if (!limits.empty()) limits += ", ";
    limits += std::string(kRlimitNames[i]) + " " + limit_text(l.cur) + "/" + limit_text(l.max);
  }
  std::printf("  rlimits  %s\n", limits.empty() ? "all unlimited" : limits.c_str());
  const MmLayout& m = p.mm;
  std::printf("  mm       code %#" PRIx64 "-%#" PRIx64 ", data %#" PRIx64 "-%#" PRIx64
              ", brk %#" PRIx64 "-%#" PRIx64 ", stack %#" PRIx64 "\n",
              m.start_code, m.end_code, m.start_data, m.end_data, m.start_brk, m.brk,
              m.start_stack);
  std::printf("           args %#" PRIx64 "-%#" PRIx64 ", env %#" PRIx64 "-%#" PRIx64
              ", restart hook %#" PRIx64 "\n",
              m.arg_start, m.arg_end, m.env_start, m.env_end, p.restart_hook);
}

void print_threads(const std::vector<ThreadRecord>& threads) {
  std::printf("threads    %zu\n", threads.size());
  for (auto& t : threads) {
    std::printf("  vtid %-6d real %-7d fs_base %#" PRIx64 " rip %#" PRIx64 " rsp %#" PRIx64
                " sigmask %#" PRIx64 "%s\n",
                t.vtid, t.real_tid, t.fs_base, t.ctx.rip, t.ctx.rsp, t.sigmask,
                t.is_ckpt_thread ? "  (checkpoint thread)" : "");
  }
}

void print_affinity(const std::vector<CpuAffinityRecord>& affinity) {
  if (affinity.empty()) return;
  std::printf("cpu binding (sched_getaffinity when checkpointed)\n");
  for (auto& a : affinity)
    std::printf("  vtid %-6d cpus %s\n", a.vtid, cpu_list_text(cpus_of_mask(a.mask)).c_str());
}

std::string sa_flags_text(uint64_t f) {
  static const struct {
    uint64_t bit;
    const char* name;
  } kFlags[] = {{SA_SIGINFO, "SIGINFO"},     {SA_RESTART, "RESTART"}, {SA_NODEFER, "NODEFER"},
                {SA_RESETHAND, "RESETHAND"}, {SA_ONSTACK, "ONSTACK"}, {SA_NOCLDSTOP, "NOCLDSTOP"},
                {SA_NOCLDWAIT, "NOCLDWAIT"}, {0x04000000, "RESTORER"}};
  std::string out;
  for (auto& fl : kFlags) {
    if (!(f & fl.bit)) continue;
    if (!out.empty()) out += '|';
    out += fl.name;
    f &= ~fl.bit;
  }
  if (f) {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "%s%#" PRIx64, out.empty() ? "" : "|", f);
    out += buf;
  }
  return out.empty() ? "0" : out;
}

void print_signals(const std::vector<SignalRecord>& sigs) {
  size_t shown = 0;
  for (auto& s : sigs) shown += s.handler != 0;
  std::printf("signals    %zu with a non-default disposition\n", shown);
  for (auto& s : sigs) {
    if (s.handler == 0) continue;
    const char* abbrev = sigabbrev_np(static_cast<int>(s.signo));
    std::string name = abbrev ? std::string("SIG") + abbrev : "SIG" + std::to_string(s.signo);
    char handler[32];
    if (s.handler == 1)
      std::snprintf(handler, sizeof(handler), "ignored");
    else
      std::snprintf(handler, sizeof(handler), "handler %#" PRIx64, s.handler);
    std::printf("  %-10s %-24s flags %s mask %#" PRIx64 "\n", name.c_str(), handler,
                sa_flags_text(s.flags).c_str(), s.mask);
  }
}

std::string open_flags_text(uint32_t f, uint32_t fd_flags) {
  std::string out;
  switch (f & O_ACCMODE) {
    case O_RDONLY:
      out = "r";
      break;
    case O_WRONLY:
      out = "w";
      break;
    default:
      out = "rw";
      break;
  }
  if (f & O_APPEND) out += ",append";
  if (f & O_NONBLOCK) out += ",nonblock";
  if (f & O_SYNC) out += ",sync";
  if (f & O_DIRECT) out += ",direct";
  if (fd_flags & FD_CLOEXEC) out += ",cloexec";
  return out;
}

void print_fds(const std::vector<FdRecord>& fds) {
  std::printf("fds        %zu\n", fds.size());
  for (auto& f : fds) {
    std::printf("  %-4d %-8s %-18s pos %-10" PRId64 " %s", f.fd, fd_kind_name(f.kind),
                open_flags_text(f.open_flags, f.fd_flags).c_str(), f.pos,
                printable(f.path).c_str());
    if (f.shares_with >= 0) std::printf("  (shares with fd %d)", f.shares_with);
    if (const FdDescribeOps* ops = fd_describe_ops(f.kind); ops && ops->describe)
      std::printf("%s", ops->describe(f).c_str());
    std::printf("\n");
  }
}

// Directories the job made for its private files (job_files.h).
void print_job_dirs(const std::vector<JobDirRecord>& dirs) {
  if (dirs.empty()) return;
  std::printf("job dirs   %zu\n", dirs.size());
  for (auto& d : dirs)
    std::printf("  %04o uid %u gid %u  %s\n", d.mode, d.uid, d.gid, printable(d.path).c_str());
}

const char* region_kind_name(RegionKind k) {
  switch (k) {
    case RegionKind::kAnon:
      return "anon";
    case RegionKind::kFilePrivate:
      return "file-priv";
    case RegionKind::kFileShared:
      return "file-shared";
    case RegionKind::kAnonShared:
      return "shm";
    case RegionKind::kHeap:
      return "heap";
    case RegionKind::kStack:
      return "stack";
    case RegionKind::kVdso:
      return "vdso";
    case RegionKind::kVvar:
      return "vvar";
    case RegionKind::kVvarVclock:
      return "vvar_vclock";
    case RegionKind::kVsyscall:
      return "vsyscall";
  }
  return "?";
}

void print_memory(const LoadedImage& img) {
  std::vector<uint64_t> stored(img.regions.size(), 0);
  for (auto& c : img.chunks) stored[c.hdr.region] += c.hdr.stored_pages;
  std::printf("memory     %zu regions, %zu chunks\n", img.regions.size(), img.chunks.size());
  for (size_t i = 0; i < img.regions.size(); i++) {
    const RegionRecord& r = img.regions[i];
    char prot[4] = {r.prot & PROT_READ ? 'r' : '-', r.prot & PROT_WRITE ? 'w' : '-',
                    r.prot & PROT_EXEC ? 'x' : '-', 0};
    std::string pages = r.has_content ? std::to_string(stored[i]) + " pages stored" : "no content";
    if (r.has_content == kContentDelta)
      pages += ", " + std::to_string(kept_pages(img, i)) + " kept";
    std::printf("  %012" PRIx64 "-%012" PRIx64 " %s %-11s %10s  %-18s %s\n", r.start, r.end, prot,
                region_kind_name(r.kind), human_bytes(r.end - r.start).c_str(), pages.c_str(),
                printable(r.path).c_str());
  }
}

void print_totals(const LoadedImage& img) {
  const EndRecord& e = img.end;
  double ratio = img.file_size ? static_cast<double>(e.memory_bytes) / img.file_size : 0;
  std::printf("totals     memory %s, stored %s, image %s, ratio %.2f (memory/image)\n",
              human_bytes(e.memory_bytes).c_str(), human_bytes(e.stored_bytes).c_str(),
              human_bytes(img.file_size).c_str(), ratio);
}

int info_one(const std::string& path, bool verify) {
  LoadedImage img;
  std::string err;
  bool ok = read_image(path, verify, &img, &err);
  if (ok && verify) {
    int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    ok = verify_memory(img, threads, &err);
    std::vector<LoadedImage> ancestors;  // every link of an incremental image's chain
    if (ok && !read_ancestors(img, true, &ancestors, &err)) {
      std::fprintf(stderr, "ckpt_info: %s\n", err.c_str());
      return 1;
    }
  }
  if (!ok) {
    std::fprintf(stderr, "ckpt_info: %s: %s\n", path.c_str(), err.c_str());
    return 1;
  }
  for (auto& w : img.warnings)
    std::fprintf(stderr, "ckpt_info: %s: warning: %s\n", path.c_str(), w.c_str());
  if (verify) {
    std::printf("%s: OK\n", path.c_str());
    return 0;
  }
  print_header(img);
  print_lineage(img);
  print_job(path);
  print_process(img.process);
  print_threads(img.threads);
  print_affinity(img.affinity);
  print_host_addresses(img.host_addresses);
  print_signals(img.signals);
  print_fds(img.fds);
  print_job_dirs(img.job_dirs);
  print_shm(img.shm_objects);
  print_sysv(img.sysv_objects);
  print_memory(img);
  print_totals(img);
  return 0;
}

}  // namespace
}  // namespace ckpt::image

int main(int argc, char** argv) {
  bool verify = false;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--verify") {
      verify = true;
    } else if (a == "-h" || a == "--help") {
      std::fputs(ckpt::image::kUsage, stdout);
      return 0;
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "ckpt_info: unknown option %s\n%s", a.c_str(), ckpt::image::kUsage);
      return 2;
    } else {
      paths.push_back(a);
    }
  }
  if (paths.empty()) {
    std::fputs(ckpt::image::kUsage, stderr);
    return 2;
  }
  int rc = 0;
  for (size_t i = 0; i < paths.size(); i++) {
    if (i > 0 && !verify) std::printf("\n");
    if (ckpt::image::info_one(paths[i], verify) != 0) rc = 1;
  }
  return rc;
}
