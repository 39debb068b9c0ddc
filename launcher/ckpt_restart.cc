// ckpt_restart: bring a checkpointed computation back, in the foreground.
//
//   ckpt_restart [--host H] [--port P] [--dir D] [--no-file-rollback]
//                [--verify] IMAGE... | CKPT_DIR
//
// This process becomes the restored one (with several images: the main root
// of the process tree, which it forks): it reads and checks the images,
// makes sure a coordinator answers, recreates every open file description,
// forks the tree (tree_spawn.h); then each process fills its image's memory
// into temporary mappings with parallel decompression and hands over to the
// freestanding restorer, which swaps the address space and resumes the
// checkpoint thread. The exit status is then the main root's.
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
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/image_reader.h"
#include "common/job_secret.h"
#include "common/settings.h"
#include "launcher/common/coordinator_link.h"
#include "launcher/common/ensure_coordinator.h"
#include "launcher/common/rendezvous_client.h"
#include "launcher/common/route_address.h"
#include "launcher/common/schedule_options.h"
#include "launcher/restart/cpu_binding.h"
#include "launcher/restart/host_probe.h"
#include "launcher/restart/image_selection.h"
#include "launcher/restart/memory_plan.h"
#include "launcher/restart/process_tree.h"
#include "launcher/restart/restore_jump.h"
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
    "[--interval S] [--keep K]\n"
    "                    [--hosts OLD=NEW,... | --hosts NEW,... | --hostfile FILE] [--rsh CMD]\n"
    "                    [--only-host OLD,... [--round R]]\n"
    "                    IMAGE... | CKPT_DIR\n";

struct RestartOptions {
  Settings settings;
  bool dir_given = false;
  bool file_rollback = true;
  bool verify = false;
  std::string hosts;      // --hosts: restart on these hosts (multi_host.h)
  std::string hostfile;   // --hostfile: the same, one new host per line
  std::string rsh;        // --rsh / CKPT_RSH: the remote shell for --hosts
  std::string only_host;  // --only-host: restore only these old hosts' processes
  std::string round;      // --round: the rendezvous round across hosts
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

RestartOptions parse(int argc, char** argv) {
  RestartOptions o;
  o.settings = settings_from_env();
  o.dir_given = getenv("CKPT_DIR") != nullptr;
  if (const char* v = getenv("CKPT_FILE_ROLLBACK"); v && *v == '0') o.file_rollback = false;
  o.rsh = getenv("CKPT_RSH") ? getenv("CKPT_RSH") : "ssh";
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i], error;
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
    else if (arg == "--verify")
      o.verify = true;
    else if (arg == "-h" || arg == "--help")
      std::fputs(kUsage, stdout), std::exit(0);
    else if (arg.starts_with("-"))
      std::fprintf(stderr, "ckpt_restart: unknown option %s\n%s", arg.c_str(), kUsage),
          std::exit(2);
    else
      o.args.push_back(arg);
  }
  if (o.args.empty()) std::fputs(kUsage, stderr), std::exit(2);
  if (!o.hostfile.empty()) {
    std::string error;
    if (!o.hosts.empty()) die("give --hosts or --hostfile, not both");
    if (!read_hostfile(o.hostfile, &o.hosts, &error)) die(error);
  }
  return o;
}

std::string numeric_host(const std::string& host) {
  addrinfo hints = {}, *res = nullptr;
  hints.ai_family = AF_INET;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) return "";
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, buf, sizeof(buf));
  freeaddrinfo(res);
  return buf;
}

// MAP_SHARED file mappings get their checkpoint-time content back (rollback).
void write_back_shared_files(const image::LoadedImage& img, const MemoryPlan& plan) {
  for (const auto& t : plan.temps) {
    if (t.kind != image::RegionKind::kFileShared) continue;
    const auto& r = img.regions[t.region];
    std::string path(r.path);
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
      die("cannot roll back shared mapping of " + path + ": " + std::strerror(errno));
    uint64_t end = std::min<uint64_t>(r.offset + t.len, static_cast<uint64_t>(st.st_size));
    if (end > r.offset && pwrite(fd, reinterpret_cast<void*>(t.temp), end - r.offset,
                                 static_cast<off_t>(r.offset)) < 0)
      die("cannot roll back shared mapping of " + path + ": " + std::strerror(errno));
    close(fd);
  }
}

// The saved CPU binding, mapped onto this node when its CPUs are not here.
void restore_cpu_binding(const image::LoadedImage& img) {
  std::string note, err;
  if (!apply_cpu_binding(img, &note, &err)) report("warning: " + err);
  if (!note.empty()) report(note);
}

void restore_process_state(const image::LoadedImage& img) {
  std::string cwd(img.process.cwd);
  if (chdir(cwd.c_str()) != 0)
    die("cannot enter the saved working directory " + cwd + ": " + std::strerror(errno));
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
}

// One process's own restore, once the tree exists: memory into temporary
// mappings, shared file mappings rolled back, cwd and limits, then the
// jump. Errors go through the spawner so that every process stops.
void restore_process(const image::LoadedImage& img, const JumpSettings& js, bool rollback,
                     size_t processes, TreeSpawner& spawner) {
  std::string err;
  auto fail = [&](const std::string& msg) {
    spawner.fail(msg, &err);
    die(err);
  };
  MemoryPlan plan;
  if (!plan_memory(img, hole_size_for(img), &plan, &err)) fail(img.path + ": " + err);
  if (!map_temporaries(img, plan, &err)) fail(img.path + ": " + err);
  unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  unsigned workers = std::max(1u, std::min(8u, cpus / static_cast<unsigned>(processes)));
  auto dest = [&](uint32_t region) -> uint8_t* {
    for (const auto& t : plan.temps)
      if (t.region == region) return reinterpret_cast<uint8_t*>(t.temp);
    return nullptr;
  };
  if (!image::load_memory(img, dest, static_cast<int>(workers), &err)) fail(img.path + ": " + err);
  if (rollback) write_back_shared_files(img, plan);
  RestoreArgs* args = nullptr;
  if (!prepare_restore_args(img, plan, js, &args, &err)) fail(img.path + ": " + err);
  restore_process_state(img);
  restore_cpu_binding(img);
  if (!spawner.all_ready(&err)) die(err);
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
void hold_coordinator(const Settings& settings, const Secret& secret, CoordinatorLink* hold) {
  bool started = false;
  std::string err = ensure_coordinator(settings, secret, &started);
  if (!err.empty()) die(err);
  if (hold->open(settings, secret, proto::Role::kCommand) == LinkStatus::kOk) return;
  err = ensure_coordinator(settings, secret, &started);  // it was just leaving
  if (!err.empty()) die(err);
  hold->open(settings, secret, proto::Role::kCommand);
}

int restart_on_hosts(const RestartOptions& o, const Selection& sel,
                     const std::vector<image::LoadedImage>& images, uint64_t generation,
                     const Secret& secret) {
  std::string err;
  HostsPlan plan;
  if (!plan_hosts(o.hosts, old_hosts(images), &plan, &err)) die(err);
  std::string coord = numeric_host(o.settings.host);
  if (coord.empty() || coord.starts_with("127.")) {
    // A coordinator on this machine (it listens on every address): the new
    // hosts reach it at this machine's address on the route to them.
    std::string route_err;
    coord.clear();
    for (const auto& group : plan.groups)
      if (coord.empty() && is_local_host(o.settings.host) && !is_local_host(group.first))
        coord = local_address_towards(group.first, &route_err);
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
  launch.images = sel.images;
  if (!probe_hosts(remote_hosts(plan), launch.rsh, 60, &err)) die(err);
  CoordinatorLink hold;
  hold_coordinator(o.settings, secret, &hold);
  uint64_t nonce = 0;
  getentropy(&nonce, sizeof(nonce));
  launch.round = "gen" + std::to_string(generation) + "-" + std::to_string(nonce % 1000000007);
  std::fflush(nullptr);
  int status = run_on_hosts(plan, launch, &err);
  if (!err.empty()) die(err);
  return status;
}

// --only-host: the images restored here; the rest go to `elsewhere`.
std::vector<image::LoadedImage> keep_hosts(std::vector<image::LoadedImage>& all,
                                           const std::string& only,
                                           std::vector<image::LoadedImage>* elsewhere) {
  std::vector<std::string> wanted;
  std::istringstream list(only);
  for (std::string h; std::getline(list, h, ',');)
    if (!h.empty()) wanted.push_back(h);
  std::vector<image::LoadedImage> here;
  for (auto& img : all) {
    bool mine = std::find(wanted.begin(), wanted.end(), img.process.host) != wanted.end();
    (mine ? here : *elsewhere).push_back(std::move(img));
  }
  for (const auto& h : wanted)
    if (std::none_of(here.begin(), here.end(),
                     [&](const image::LoadedImage& img) { return img.process.host == h; }))
      die("the checkpoint has no process of host " + h);
  return here;
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
  RestartOptions o = parse(argc, argv);
  Selection sel;
  std::string err;
  if (!select_images(o.args, &sel, &err)) die(err);
  std::vector<image::LoadedImage> images(sel.images.size());
  for (size_t i = 0; i < sel.images.size(); i++) {
    if (!image::read_image(sel.images[i], o.verify, &images[i], &err))
      die(sel.images[i] + ": " + err);
    for (const auto& w : images[i].warnings)
      std::fprintf(stderr, "ckpt_restart: warning: %s\n", w.c_str());
  }
  uint64_t generation = images.front().header.generation;
  if (!o.dir_given) o.settings.dir = sel.ckpt_dir;
  std::vector<image::LoadedImage> elsewhere;
  if (!o.only_host.empty()) images = keep_hosts(images, o.only_host, &elsewhere);

  // The coordinator this computation registers with after the restart.
  auto secret = load_or_create_secret(o.settings.dir, &err);
  if (!secret) die(err);
  bool started = false;
  if (!o.hosts.empty()) return restart_on_hosts(o, sel, images, generation, *secret);
  err = ensure_coordinator(o.settings, *secret, &started);
  if (!err.empty()) die(err);
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
  fds.keep(g_report_fd);
  js.shm = &shm;
  std::fflush(nullptr);
  TreeSpawner spawner(tree, fds);
  int node = spawner.spawn(&err);
  if (node < 0) die(err);
  js.pid_map = spawner.pid_map();
  restore_process(images[static_cast<size_t>(node)], js, o.file_rollback, images.size(), spawner);
}

}  // namespace
}  // namespace ckpt

int main(int argc, char** argv) { return ckpt::run(argc, argv); }
