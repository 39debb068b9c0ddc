// ckpt_restart: bring a checkpointed computation back, in the foreground.
//
//   ckpt_restart [--host H] [--port P] [--dir D] [--no-file-rollback]
//                [--verify] [--lazy] IMAGE... | CKPT_DIR
//
// This process becomes the restored one (with several images: the main root
// of the process tree, which it forks): it reads and checks the images,
// makes sure a coordinator answers, recreates every open file description,
// forks the tree (tree_spawn.h); then each process fills its image's memory
// into temporary mappings with parallel decompression and hands over to the
// freestanding restorer, which swaps the address space and resumes the
// checkpoint thread. The exit status is then the main root's. With --lazy
// (or CKPT_LAZY=1) the large private regions are left empty and filled after
// the jump by a filler process (restart/lazy_restart.h).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/config_file.h"
#include "common/image_chain.h"
#include "common/image_prefetch.h"
#include "common/image_reader.h"
#include "common/job_secret.h"
#include "common/scoped_fd.h"
#include "common/settings.h"
#include "launcher/common/coordinator_link.h"
#include "launcher/common/ensure_coordinator.h"
#include "launcher/common/rendezvous_client.h"
#include "launcher/common/route_address.h"
#include "launcher/common/schedule_options.h"
#include "launcher/common/slurm_allocation.h"
#include "launcher/restart/cpu_binding.h"
#include "launcher/restart/decompression_workers.h"
#include "launcher/restart/host_probe.h"
#include "launcher/restart/image_selection.h"
#include "launcher/restart/lazy_restart.h"
#include "launcher/restart/memory_plan.h"
#include "launcher/restart/process_tree.h"
#include "launcher/restart/read_progress.h"
#include "launcher/restart/restart_timing.h"
#include "launcher/restart/restore_jump.h"
#include "launcher/restart/ssh_multiplex.h"
#include "launcher/restart/tree_spawn.h"
#include "plugins/fd/fd_restore.h"
#include "plugins/fd/job_files_restore.h"
#include "plugins/shm/shm_restore.h"
#include "plugins/sockets/multi_host.h"
#include "plugins/sockets/network_plan.h"
#include "plugins/sysv_ipc/sysv_restore.h"

namespace ckpt {
namespace {

constexpr const char* kUsage =
    "usage: ckpt_restart [--host H] [--port P] [--dir D] [--no-file-rollback] [--verify] "
    "[--lazy] [--interval S] [--keep K]\n"
    "                    [--hosts OLD=NEW,... | --hosts NEW,... | --hostfile FILE] [--rsh CMD]\n"
    "                    [--only-host OLD,... [--round R]] [--requeue] [--quiet | --json]\n"
    "                    IMAGE... | CKPT_DIR\n"
    "  IMAGE... | CKPT_DIR  the images of one checkpoint, or a checkpoint dir (its\n"
    "                 committed checkpoint)\n"
    "  --host/--port/--dir  the coordinator to register with and the checkpoint dir\n"
    "                 (env CKPT_COORD_HOST, CKPT_COORD_PORT, CKPT_DIR; default: the\n"
    "                 dir the images are in)\n"
    "  --no-file-rollback  leave files as they are (env CKPT_FILE_ROLLBACK=0)\n"
    "  --verify       check every checksum of the images before restoring\n"
    "  --interval S   checkpoint every S seconds (env CKPT_INTERVAL; 0: off, the default)\n"
    "  --keep K       keep the last K committed checkpoints (env CKPT_KEEP, default 2)\n"
    "  --requeue      after a preemption checkpoint, requeue the batch job (env CKPT_REQUEUE=1)\n"
    "  --hosts OLD=NEW,...  restart a multi-host checkpoint on other hosts, each old\n"
    "                 host's processes on the new host named for it (NEW,...: in order)\n"
    "  --hostfile FILE  the new hosts, one per line\n"
    "  --rsh CMD      the remote shell for --hosts (env CKPT_RSH, default ssh)\n"
    "  --only-host OLD,...  restore only the processes of these old hosts (used by\n"
    "                 --hosts on each new host)\n"
    "  --round R      the rendezvous round of a multi-host restart (with --only-host)\n"
    "  --quiet        no progress on a terminal while the images are read\n"
    "  --json         progress as JSON lines on stderr, terminal or not: one a second\n"
    "                 while the images are read, then {\"event\":\"read\",...}\n";

struct RestartOptions {
  Settings settings;
  bool dir_given = false;
  bool file_rollback = true;
  bool verify = false;
  bool lazy = false;       // --lazy or CKPT_LAZY=1 (lazy_restart.h)
  std::string hosts;       // --hosts: restart on these hosts (multi_host.h)
  std::string hostfile;    // --hostfile: the same, one new host per line
  std::string rsh;         // --rsh / CKPT_RSH: the remote shell for --hosts
  bool rsh_given = false;  // --rsh or CKPT_RSH
  std::string only_host;   // --only-host: restore only these old hosts' processes
  std::string round;       // --round: the rendezvous round across hosts
  bool quiet = false;      // --quiet: no reading progress on a terminal
  bool json = false;       // --json: reading progress as JSON lines on stderr
  std::vector<std::string> args;
};

// Where errors go: ckpt_restart's own stderr, kept aside once the restored
// processes' descriptors take its numbers.
int g_report_fd = 2;

// Says something on ckpt_restart's own stderr.
void report(const std::string& msg) {
  std::string line = "ckpt_restart: " + msg + "\n";
  ssize_t ignored = write(g_report_fd, line.data(), line.size());
  (void)ignored;
}

[[noreturn]] void die(const std::string& msg) {
  report(msg);
  std::exit(1);
}

uint64_t file_size(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

uint64_t total_size(const std::vector<std::string>& paths) {
  uint64_t total = 0;
  for (const auto& p : paths) total += file_size(p);
  return total;
}

RestartOptions parse(int argc, char** argv) {
  RestartOptions o;
  o.settings = settings_from_env();
  o.dir_given = getenv("CKPT_DIR") != nullptr;
  if (const char* v = getenv("CKPT_FILE_ROLLBACK"); v && *v == '0') o.file_rollback = false;
  o.rsh = getenv("CKPT_RSH") ? getenv("CKPT_RSH") : "ssh";
  o.rsh_given = getenv("CKPT_RSH") != nullptr;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i], error;
    if (arg.starts_with("--rsh")) o.rsh_given = true;
    if (arg.starts_with("--dir") || arg.starts_with("--ckpt-dir")) o.dir_given = true;
    OptionStatus taken = take_settings_option(argc, argv, &i, &o.settings, &error);
    if (taken == OptionStatus::kNotMine) taken = take_schedule_option(argc, argv, &i, &error);
    for (auto [name, value] : {std::pair{"--hosts", &o.hosts},
                               {"--hostfile", &o.hostfile},
                               {"--rsh", &o.rsh},
                               {"--only-host", &o.only_host},
                               {"--round", &o.round}})
      if (taken == OptionStatus::kNotMine)
        taken = take_option_value(argc, argv, &i, name, value, &error);
    switch (taken) {
      case OptionStatus::kTaken:
        continue;
      case OptionStatus::kBad:
        std::fprintf(stderr, "ckpt_restart: %s\n%s", error.c_str(), kUsage);
        std::exit(2);
      case OptionStatus::kNotMine:
        break;
    }
    if (arg == "--no-file-rollback")
      o.file_rollback = false;
    else if (arg == "--quiet")
      o.quiet = true;
    else if (arg == "--json")
      o.json = true;
    else if (arg == "--verify")
      o.verify = true;
    else if (arg == "--lazy")
      o.lazy = true;
    else if (arg == "-h" || arg == "--help")
      std::fputs(kUsage, stdout), std::exit(0);
    else if (arg.starts_with("-"))
      std::fprintf(stderr, "ckpt_restart: unknown option %s\n%s", arg.c_str(), kUsage),
          std::exit(2);
    else
      o.args.push_back(arg);
  }
  if (o.args.empty()) std::fputs(kUsage, stderr), std::exit(2);
  o.lazy = lazy_requested(o.lazy);
  if (!o.hostfile.empty()) {
    std::string error;
    if (!o.hosts.empty()) die("give --hosts or --hostfile, not both");
    if (!read_hostfile(o.hostfile, &o.hosts, &error)) die(error);
  }
  return o;
}

// MAP_SHARED file mappings get their checkpoint-time content back (rollback).
bool write_back_shared_files(const image::LoadedImage& img, const MemoryPlan& plan,
                             std::string* err) {
  for (const auto& t : plan.temps) {
    if (t.kind != image::RegionKind::kFileShared) continue;
    const auto& r = img.regions[t.region];
    std::string path(r.path);
    ScopedFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
    struct stat st;
    bool ok = fd.get() >= 0 && fstat(fd.get(), &st) == 0;
    uint64_t end = ok ? std::min<uint64_t>(r.offset + t.len, static_cast<uint64_t>(st.st_size)) : 0;
    if (ok && end > r.offset)
      ok = pwrite(fd.get(), reinterpret_cast<void*>(t.temp), end - r.offset,
                  static_cast<off_t>(r.offset)) >= 0;
    if (!ok) {
      *err = "cannot roll back shared mapping of " + path + ": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

// The saved CPU binding, mapped onto this node when its CPUs are not here.
void restore_cpu_binding(const image::LoadedImage& img) {
  std::string note, err;
  if (!apply_cpu_binding(img, &note, &err)) report("warning: " + err);
  if (!note.empty()) report(note);
}

bool restore_process_state(const image::LoadedImage& img, std::string* err) {
  std::string cwd(img.process.cwd);
  if (chdir(cwd.c_str()) != 0) {
    *err = "cannot enter the saved working directory " + cwd + ": " + std::strerror(errno);
    return false;
  }
  umask(img.process.umask);
  for (int i = 0; i < image::kNumRlimits; i++) {
    rlimit lim = {img.process.rlimits[i].cur, img.process.rlimits[i].max};
    if (setrlimit(i, &lim) != 0) {
      rlimit now;
      getrlimit(i, &now);
      lim.rlim_max = now.rlim_max;  // raising a hard limit needs privileges
      if (lim.rlim_cur > lim.rlim_max) lim.rlim_cur = lim.rlim_max;
      setrlimit(i, &lim);
    }
  }
  return true;
}

// One process's own restore, once the tree exists: memory into temporary
// mappings, shared file mappings rolled back, cwd and limits, then the
// jump. Errors go through the spawner so that every process stops.
void restore_process(const image::LoadedImage& img, const JumpSettings& js, bool rollback,
                     bool lazy, double share, TreeSpawner& spawner) {
  std::string err;
  auto fail = [&](const std::string& msg) {
    spawner.fail(msg, &err);
    die(err);
  };
  MemoryPlan plan;
  if (!plan_memory(img, hole_size_for(img), &plan, &err)) fail(img.path + ": " + err);
  if (!map_temporaries(img, plan, &err)) fail(img.path + ": " + err);
  std::vector<image::LoadedImage> ancestors;
  if (!image::read_ancestors(img, false, &ancestors, &err)) fail(err);
  if (lazy && !ancestors.empty()) {
    report("warning: " + img.path + ": an incremental image is restarted eagerly, not lazily");
    lazy = false;
  }
  LazyPlan lazy_plan;
  if (lazy) lazy_plan = open_lazy(img, &err);
  if (lazy && !err.empty()) report("warning: " + err), err.clear();
  unsigned workers = decompression_workers(img, share);
  auto dest = [&](uint32_t region) -> uint8_t* {
    if (lazy_plan.any() && lazy_plan.lazy[region]) return nullptr;  // the filler's
    for (const auto& t : plan.temps)
      if (t.region == region) return reinterpret_cast<uint8_t*>(t.temp);
    return nullptr;
  };
  if (!image::load_memory(img, dest, static_cast<int>(workers), &err)) fail(img.path + ": " + err);
  // An incremental image: the pages it keeps come from its ancestors.
  if (!image::load_kept_pages(img, ancestors, dest, static_cast<int>(workers), &err)) fail(err);
  restart_phase_done("memory-loaded");
  if (rollback && !write_back_shared_files(img, plan, &err)) fail(err);
  RestoreArgs* args = nullptr;
  if (!prepare_restore_args(img, plan, js, &args, &err)) fail(img.path + ": " + err);
  if (lazy_plan.any() &&
      !start_lazy_filler(img, lazy_plan, g_report_fd, g_report_fd + 1, args, &err))
    fail(img.path + ": " + err);
  if (!restore_process_state(img, &err)) fail(err);
  restore_cpu_binding(img);
  if (!spawner.all_ready(&err)) die(err);
  restart_phase_done("all-ready");
  std::fflush(nullptr);
  close(g_report_fd);
  jump_to_restorer(args, plan);
}

// The old hosts of a checkpoint, in the order their images come.
std::vector<std::string> old_hosts(const std::vector<image::LoadedImage>& images) {
  std::vector<std::string> hosts;
  for (const auto& img : images)
    if (std::find(hosts.begin(), hosts.end(), img.process.host) == hosts.end())
      hosts.emplace_back(img.process.host);
  return hosts;
}

// --hosts: one ckpt_restart per new host (multi_host.h); returns the status.
// The coordinator, once the hosts answered. The connection is held open
// while the hosts restart: a coordinator that the killed run left in its
// exit grace (--exit-on-last) stays for the new one.
bool hold_coordinator(const Settings& settings, const Secret& secret, CoordinatorLink* hold,
                      std::string* err) {
  bool started = false;
  *err = ensure_coordinator(settings, secret, &started);
  if (!err->empty()) return false;
  if (hold->open(settings, secret, proto::Role::kCommand) == LinkStatus::kOk) return true;
  *err = ensure_coordinator(settings, secret, &started);  // it was just leaving
  if (!err->empty()) return false;
  hold->open(settings, secret, proto::Role::kCommand);
  return true;
}

// Old hosts packed onto one new host restart in one process tree, where
// every process keeps its pid: two of them with the same pid (pids repeat
// across hosts) cannot. Checked before anything starts. Error: one line.
bool check_packing(const HostsPlan& plan, const std::vector<image::LoadedImage>& images,
                   std::string* err) {
  for (const auto& [host, olds] : plan.groups) {
    std::map<int32_t, std::string> seen;  // vpid -> its old host
    for (const auto& img : images) {
      std::string from(img.process.host);
      if (std::find(olds.begin(), olds.end(), from) == olds.end()) continue;
      auto [it, fresh] = seen.emplace(img.process.vpid, from);
      if (!fresh && it->second != from) {
        *err = "cannot put old hosts " + it->second + " and " + from + " together on " + host +
               ": both had a process with pid " + std::to_string(img.process.vpid) +
               ", and restored processes keep their pids; give them different new hosts";
        return false;
      }
    }
  }
  return true;
}

int restart_on_hosts(const RestartOptions& o, const Selection& sel,
                     const std::vector<image::LoadedImage>& images, uint64_t generation,
                     const Secret& secret) {
  std::string err;
  forward_scheduler_signals();  // a batch job's warning must not end the front end
  HostsPlan plan;
  if (!plan_hosts(o.hosts, old_hosts(images), &plan, &err)) die(err);
  if (!check_packing(plan, images, &err)) die(err);
  std::string coord = numeric_host(o.settings.host);
  if (coord.empty() || coord.starts_with("127.")) {
    // A coordinator on this machine (it listens on every address): the new
    // hosts reach it at this machine's address on the route to them.
    std::string route_err;
    coord.clear();
    for (const auto& group : plan.groups)
      if (coord.empty() && is_local_host(o.settings.host) && !is_local_host(group.first))
        coord = local_address_towards(group.first, &route_err);
    if (coord.empty() && remote_hosts(plan).empty())
      coord = "127.0.0.1";  // every old host onto this machine
    if (coord.empty())
      die("the coordinator at " + o.settings.host +
          " cannot be reached from other hosts: give --host (or CKPT_COORD_HOST) an address they "
          "reach" +
          (route_err.empty() ? "" : " (" + route_err + ")"));
  }
  HostsLaunch launch;
  std::istringstream words(o.rsh);
  for (std::string w; words >> w;) launch.rsh.push_back(w);
  char self[4096] = {};
  if (readlink("/proc/self/exe", self, sizeof(self) - 1) <= 0) die("cannot find ckpt_restart");
  launch.base_args = {self,    "--host",      coord, "--port", std::to_string(o.settings.port),
                      "--dir", o.settings.dir};
  if (!o.file_rollback) launch.base_args.push_back("--no-file-rollback");
  if (o.lazy) launch.base_args.push_back("--lazy");
  launch.images = sel.images;
  SshMultiplex shared(&launch.rsh);  // the probe's connection serves the launch too
  if (!probe_hosts(remote_hosts(plan), launch.rsh, o.rsh, 60, &err)) die(err);
  CoordinatorLink hold;
  if (!hold_coordinator(o.settings, secret, &hold, &err)) die(err);
  uint64_t nonce = 0;
  getentropy(&nonce, sizeof(nonce));
  launch.round = "gen" + std::to_string(generation) + "-" + std::to_string(nonce % 1000000007);
  std::fflush(nullptr);
  int status = run_on_hosts(plan, launch, &err);
  if (!err.empty()) die(err);
  return status;
}

// The host of the launched program (mpirun): the one with a process whose
// parent is neither one of its host's processes nor init, and which is not
// a ckpt_rsh relay (pids repeat across hosts, so each host is looked at
// alone); the first host otherwise.
std::string launch_host(const std::vector<image::LoadedImage>& images) {
  for (const auto& img : images) {
    auto ppid = img.process.vppid;
    bool parent_here = std::any_of(images.begin(), images.end(), [&](const image::LoadedImage& o) {
      return o.process.host == img.process.host && o.process.vpid == ppid;
    });
    if (ppid != 1 && !parent_here && img.process.comm != "ckpt_rsh")
      return std::string(img.process.host);
  }
  return std::string(images.front().process.host);
}

// Inside a SLURM allocation, a checkpoint of several hosts without --hosts
// goes onto the allocation's nodes (slurm_allocation.h), through ckpt_srun
// unless --rsh or CKPT_RSH names another remote shell.
void map_onto_slurm_nodes(RestartOptions* o, const std::vector<image::LoadedImage>& images) {
  const char* list = getenv("SLURM_JOB_NODELIST");
  const char* off = getenv("CKPT_SLURM");
  std::vector<std::string> olds = old_hosts(images);
  if (!getenv("SLURM_JOB_ID") || !list || !*list || (off && std::strcmp(off, "0") == 0) ||
      olds.size() < 2)
    return;
  std::string err, spec;
  std::vector<std::string> nodes;
  if (!expand_nodelist(list, &nodes, &err)) die(err);
  std::string main_host = launch_host(images);
  const char* me = getenv("SLURMD_NODENAME");
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  if (!map_onto_allocation(olds, main_host, nodes, me && *me ? me : name, &spec, &err))
    die("cannot map the checkpoint's hosts onto the SLURM allocation " + std::string(list) + ": " +
        err);
  if (!o->rsh_given) {
    char self[4096] = {};
    if (readlink("/proc/self/exe", self, sizeof(self) - 1) <= 0) die("cannot find ckpt_restart");
    std::string dir(self);
    o->rsh = dir.substr(0, dir.rfind('/')) + "/ckpt_srun";
  }
  report("the checkpoint's hosts onto the SLURM allocation " + std::string(list) + ": " + spec +
         (nodes.size() < olds.size() ? " (fewer nodes than old hosts: packed)" : ""));
  o->hosts = spec;
}

// A task of a SLURM step over several nodes (`srun ckpt_launch
// --restart-if-exists PROG`, slurm_allocation.h): restores only the old
// hosts that fall to its node; a node that gets none has nothing to do.
void take_step_share(RestartOptions* o, const std::vector<image::LoadedImage>& images) {
  auto lookup = [](const char* name) -> const char* { return getenv(name); };
  std::string here, first = step_coordinator_node(lookup, &here), err, spec;
  if (first.empty() || !o->hosts.empty() || !o->only_host.empty()) return;
  std::vector<std::string> olds = old_hosts(images), nodes, mine;
  std::sort(olds.begin(), olds.end());
  if (!step_nodes(lookup, &nodes, &err) ||
      !map_onto_allocation(olds, olds.front(), nodes, first, &spec, &err))
    die("cannot map the checkpoint's hosts onto the SLURM step's nodes: " + err);
  std::istringstream pairs(spec);
  for (std::string pair; std::getline(pairs, pair, ',');)
    if (pair.substr(pair.find('=') + 1) == here) mine.push_back(pair.substr(0, pair.find('=')));
  if (mine.empty()) {
    report("node " + here + " of the step takes none of the checkpoint's hosts (" + spec + ")");
    std::exit(0);
  }
  for (const auto& h : mine) o->only_host += (o->only_host.empty() ? "" : ",") + h;
  report("the checkpoint's hosts onto the SLURM step's nodes: " + spec + "; here: " + o->only_host);
}

// --only-host: the images restored here go to `here`, the rest to `elsewhere`.
bool keep_hosts(std::vector<image::LoadedImage>& all, const std::string& only,
                std::vector<image::LoadedImage>* here, std::vector<image::LoadedImage>* elsewhere,
                std::string* err) {
  std::vector<std::string> wanted;
  std::istringstream list(only);
  for (std::string h; std::getline(list, h, ',');)
    if (!h.empty()) wanted.push_back(h);
  here->clear();
  for (auto& img : all) {
    bool mine = std::find(wanted.begin(), wanted.end(), img.process.host) != wanted.end();
    (mine ? *here : *elsewhere).push_back(std::move(img));
  }
  for (const auto& h : wanted)
    if (std::none_of(here->begin(), here->end(),
                     [&](const image::LoadedImage& img) { return img.process.host == h; })) {
      *err = "the checkpoint has no process of host " + h;
      return false;
    }
  return true;
}

// The exchange of address moves with the ckpt_restarts of the other hosts.
std::function<bool(std::string*)> exchange_moves(const RestartOptions& o, const Secret& secret,
                                                 const std::vector<image::LoadedImage>& here,
                                                 const std::vector<image::LoadedImage>& elsewhere,
                                                 uint64_t generation, AddressMap* map) {
  return [&o, &secret, &here, &elsewhere, generation, map](std::string* err) {
    std::vector<std::string> mine = old_hosts(here), others = old_hosts(elsewhere);
    for (const auto& h : mine) std::erase(others, h);
    std::string round = o.round.empty() ? "gen" + std::to_string(generation) : o.round;
    std::vector<std::string> blobs;
    int wait = 120;
    if (const char* v = getenv("CKPT_RENDEZVOUS_TIMEOUT")) wait = std::max(1, atoi(v));
    if (!rendezvous(o.settings, secret, round, static_cast<uint32_t>(mine.size() + others.size()),
                    mine, encode_moves(*map), wait, &blobs, err))
      return false;
    for (const auto& b : blobs)
      if (!add_moves(b, map, err)) return false;
    return true;
  };
}

int run(int argc, char** argv) {
  restart_timing_start();
  if (!load_config_or_complain("ckpt_restart")) return 2;
  RestartOptions o = parse(argc, argv);
  Selection sel;
  std::string err;
  if (!select_images(o.args, &sel, &err)) die(err);
  std::vector<image::LoadedImage> images(sel.images.size());
  ReadProgress progress(sel.images.size(), total_size(sel.images),
                        o.json    ? ReadProgress::Mode::kJson
                        : o.quiet ? ReadProgress::Mode::kQuiet
                                  : ReadProgress::Mode::kTerminal);
  image::ImagePrefetch prefetch(sel.images);
  for (size_t i = 0; i < sel.images.size(); i++) {
    if (!image::read_image(sel.images[i], o.verify, &images[i], &err)) {
      progress.finish(0);
      die(sel.images[i] + ": " + err);
    }
    progress.image_read(file_size(sel.images[i]));
    for (const auto& w : images[i].warnings)
      std::fprintf(stderr, "ckpt_restart: warning: %s\n", w.c_str());
    std::vector<image::LoadedImage> ancestors;  // every link checked before anything starts
    if (!image::read_ancestors(images[i], o.verify, &ancestors, &err)) die(err);
  }
  prefetch.wait();  // no thread of ours may run across the tree's forks
  restart_phase_done("images-read");
  uint64_t generation = images.front().header.generation;
  progress.finish(generation);
  if (!o.dir_given) o.settings.dir = sel.ckpt_dir;
  std::vector<image::LoadedImage> elsewhere;
  take_step_share(&o, images);
  if (!o.only_host.empty()) {
    std::vector<image::LoadedImage> here;
    if (!keep_hosts(images, o.only_host, &here, &elsewhere, &err)) die(err);
    images = std::move(here);
  }

  // The coordinator this computation registers with after the restart.
  auto secret = load_or_create_secret(o.settings.dir, &err);
  if (!secret) die(err);
  bool started = false;
  if (o.hosts.empty() && o.only_host.empty()) map_onto_slurm_nodes(&o, images);
  if (!o.hosts.empty()) return restart_on_hosts(o, sel, images, generation, *secret);
  err = ensure_coordinator(o.settings, *secret, &started);
  if (!err.empty()) die(err);
  restart_phase_done("coordinator");
  ProcessTree tree;
  if (!build_tree(images, &tree, &err)) die(err);
  JumpSettings js;
  js.coord_host = numeric_host(o.settings.host);
  if (js.coord_host.empty()) die("cannot resolve the coordinator host " + o.settings.host);
  // Where the network addresses are now (ckpt/address_map.h).
  NetworkPlan net;
  if (!plan_network(images, elsewhere, js.coord_host, o.settings.port, &net, &err)) die(err);
  js.addresses = net.map.get();
  js.coord_port = o.settings.port;
  std::memcpy(js.secret, secret->key, 16);
  js.ckpt_dir = o.settings.dir;
  js.file_rollback = o.file_rollback;

  // Check what can be checked before anything changes.
  for (const auto& img : images) {
    if (!check_fds(img, &err)) die(img.path + ": " + err);
    if (!check_referenced_files(img, &err)) die(img.path + ": " + err);
  }

  // From here on the old files change: the job's private files and
  // directories where they are gone, every open file description once,
  // then the process tree, each process with its descriptors.
  if (!restore_job_files(images, o.file_rollback, &err)) die(err);
  FdRestoreOptions fo;
  fo.file_rollback = o.file_rollback;
  fo.elsewhere = &elsewhere;
  fo.network.map = net.map.get();
  fo.network.host_ips = net.host_ips;
  if (!elsewhere.empty())
    fo.network.exchange = exchange_moves(o, *secret, images, elsewhere, generation, net.map.get());
  // Shared memory objects once, above every fd number of the images (the
  // fd plugin parks its descriptions above them).
  ShmRestorer shm(images, o.file_rollback);
  int highest_fd = 2;
  for (const auto& img : images)
    for (const auto& r : img.fds) highest_fd = std::max(highest_fd, r.fd);
  if (!shm.create_all(highest_fd + 64, &err)) die(err);
  // System V semaphore sets and message queues once, with their values and messages.
  SysvRestorer sysv(images);
  if (!sysv.create_all(&err)) die(err);
  js.semid_map = sysv.id_map(image::SysvKind::kSemaphores);
  js.msgid_map = sysv.id_map(image::SysvKind::kMessages);
  FdRestorer fds(images, fo);
  fds.set_adopt([&](const image::FdRecord& r) { return shm.adopt(r); });
  for (int fd : shm.fds()) fds.keep(fd);
  if (!fds.create_all(&err)) die(err);
  g_report_fd = fcntl(2, F_DUPFD_CLOEXEC, fds.free_number());
  restart_timing_fd(g_report_fd);
  fds.keep(g_report_fd);
  js.shm = &shm;
  std::fflush(nullptr);
  restart_phase_done("files-restored");
  TreeSpawner spawner(tree, fds);
  int node = spawner.spawn(&err);
  if (node < 0) die(err);
  restart_phase_done("spawned");
  js.pid_map = spawner.pid_map();
  restore_process(images[static_cast<size_t>(node)], js, o.file_rollback, o.lazy,
                  memory_share(images, static_cast<size_t>(node)), spawner);
}

}  // namespace
}  // namespace ckpt

int main(int argc, char** argv) { return ckpt::run(argc, argv); }
