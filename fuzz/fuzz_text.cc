// libFuzzer target: ckpt's text parsers. /proc files are fed as arbitrary
// text (the kernel's format may change, and a process can name its own
// mappings with prctl(PR_SET_VMA_ANON_NAME)); the hostfile, --hosts, the
// roster file in the checkpoint dir, the job secret, CKPT_COORD_PORT and the
// MPI rank variables are written by people or other programs.
//
// Input: one selector byte, then the text:
//   0  /proc/<pid>/maps               parse_maps_line, for_each_map
//   1  /proc/self/fdinfo/N            fdinfo_number, fdinfo_pair, parse_file_locks
//   2  --hosts spec, "\n" old hosts   plan_hosts, remote_hosts
//   3  --hostfile content             read_hostfile (then plan_hosts)
//   4  <ckpt dir>/.ckpt_processes     read_roster
//   5  a value                        parse_port, secret_from_hex, parse_rank,
//                                     parse_write_mode
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "ckpt/maps.h"
#include "common/job_secret.h"
#include "common/roster_file.h"
#include "common/settings.h"
#include "plugins/fd/fdinfo.h"
#include "plugins/fd/file_locks.h"
#include "plugins/mpi/mpi_rank.h"
#include "plugins/sockets/multi_host.h"
#include "runtime/core/write_mode_policy.h"

namespace {

using namespace ckpt;

void maps(std::string_view text) {
  uint64_t total = 0;
  for_each_map(text, [&](const MapEntry& e) { total += e.size() + e.path.size(); });
  MapEntry one;
  parse_maps_line(text, one);
}

void fdinfo(std::string_view text) {
  uint64_t a = 0, b = 0;
  for (std::string_view name : {"pos:", "flags:", "mnt_id:", "eventfd-count:", "clockid:", "ticks:",
                                "sigmask:", "tfd:", "events:", "data:"}) {
    fdinfo_number(text, name, 10, a);
    fdinfo_number(text, name, 16, a);
  }
  fdinfo_pair(text, "it_value:", a, b);
  fdinfo_pair(text, "it_interval:", a, b);
  HeldLock locks[8];
  int n = 0;
  parse_file_locks(3, text, locks, 8, &n);
}

void hosts(std::string_view text) {
  size_t nl = text.find('\n');
  std::string spec(text.substr(0, nl));
  std::vector<std::string> old_hosts;
  std::string_view rest = nl == std::string_view::npos ? "" : text.substr(nl + 1);
  while (!rest.empty()) {
    size_t at = rest.find('\n');
    old_hosts.emplace_back(rest.substr(0, at));
    rest = at == std::string_view::npos ? "" : rest.substr(at + 1);
  }
  HostsPlan plan;
  std::string err;
  if (plan_hosts(spec, old_hosts, &plan, &err)) remote_hosts(plan);
}

// A scratch directory for the targets that read a named file, removed at
// exit (the string outlives the static destructors that run before that).
const std::string& scratch_dir() {
  static const std::string* dir = [] {
    char t[] = "/tmp/ckpt_fuzz_text.XXXXXX";
    if (!mkdtemp(t)) std::abort();
    auto* d = new std::string(t);
    std::atexit([] {
      std::error_code ignored;  // never std::terminate at exit
      std::filesystem::remove_all(scratch_dir(), ignored);
    });
    return d;
  }();
  return *dir;
}

std::string put_file(const std::string& name, std::string_view text) {
  std::string path = scratch_dir() + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(text.data(), text.size());
  return path;
}

void hostfile(std::string_view text) {
  std::string spec, err;
  if (!read_hostfile(put_file("hostfile", text), &spec, &err)) return;
  HostsPlan plan;
  plan_hosts(spec, {"a", "b", "c"}, &plan, &err);
}

void roster(std::string_view text) {
  put_file(kRosterFileName, text);
  for (const RosterEntry& e : read_roster(scratch_dir())) (void)e.label();
}

void values(std::string_view text) {
  (void)parse_port(text);
  (void)secret_from_hex(text);
  std::string z(text);  // NUL-terminated for the C-string parsers
  (void)parse_rank(z.c_str());
  (void)parse_write_mode(z.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 6) {
    case 0:
      maps(text);
      break;
    case 1:
      fdinfo(text);
      break;
    case 2:
      hosts(text);
      break;
    case 3:
      hostfile(text);
      break;
    case 4:
      roster(text);
      break;
    default:
      values(text);
      break;
  }
  return 0;
}
