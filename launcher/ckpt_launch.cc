// ckpt_launch: run a program under checkpoint control.
//
//   ckpt_launch [--host H] [--port P] [--dir D] [--interval S] [--keep K]
//               [--preempt-signals LIST] [--requeue] [--restart-if-exists]
//               [--no-file-rollback] [--embed-files] [--compress LEVEL | --no-compress]
//               [--full-every K] [--chain-max-percent P]
//               [--mpi-shm | --no-mpi-defaults] [--verbose] [--] PROGRAM [ARGS...]
//
// Makes sure a coordinator of this job answers (starting one if needed),
// then execs PROGRAM with libckpt.so preloaded and the job's settings in its
// environment, so that it and everything it starts agree on them: the MPI
// plugin libckpt_mpi.so is preloaded after libckpt.so when it is there, and
// checkpoint-friendly MPI transport settings are added unless the user chose
// their own (mpi_environment.h, docs/mpi.md). With
// --restart-if-exists and a committed checkpoint in the checkpoint dir, it
// execs ckpt_restart on that dir instead (a requeued batch job continues).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <tuple>
#include <vector>

#include "common/config_file.h"
#include "common/job_secret.h"
#include "common/settings.h"
#include "launcher/common/binary_paths.h"
#include "launcher/common/committed_checkpoint.h"
#include "launcher/common/ensure_coordinator.h"
#include "launcher/common/remote_shell_env.h"
#include "launcher/common/schedule_options.h"
#include "launcher/common/slurm_allocation.h"
#include "launcher/common/step_coordinator.h"
#include "plugins/mpi/mpi_environment.h"

namespace ckpt {
namespace {

constexpr const char* kUsage =
    "usage: ckpt_launch [--host H] [--port P] [--dir D] [--interval S] [--keep K]\n"
    "                   [--preempt-signals LIST] [--requeue] [--restart-if-exists]\n"
    "                   [--no-file-rollback] [--embed-files] [--compress LEVEL | --no-compress]\n"
    "                   [--full-every K] [--chain-max-percent P]\n"
    "                   [--mpi-shm | --no-mpi-defaults] [--verbose] [--] PROGRAM [ARGS...]\n";

constexpr const char* kOptionHelp =
    "  --preempt-signals LIST  e.g. USR1,TERM: on one of these signals the job is\n"
    "                 checkpointed and every process exits with status 143\n"
    "                 (env CKPT_PREEMPT_SIGNALS)\n"
    "  --restart-if-exists  if the checkpoint dir holds a committed checkpoint, restart\n"
    "                 from it instead of starting PROGRAM (env CKPT_RESTART_IF_EXISTS=1)\n"
    "  --no-file-rollback  leave files as they are at restart (env CKPT_FILE_ROLLBACK=0)\n"
    "  --compress LEVEL    zstd level for memory (env CKPT_COMPRESS_LEVEL; default -1)\n"
    "  --no-compress       store memory pages uncompressed (same as --compress 0)\n"
    "  --embed-files       store mapped files (libraries, programs) in the images, for a\n"
    "                      machine without them (env CKPT_EMBED_FILES=1)\n"
    "  --full-every K      incremental images: every K-th checkpoint of a process is full,\n"
    "                      the others store the pages written since the previous one\n"
    "                      (env CKPT_FULL_EVERY, default 8; 1: always full, writes not tracked)\n"
    "  --chain-max-percent P  also full once a chain's incremental images together pass P%\n"
    "                      of its full image (env CKPT_CHAIN_MAX_PERCENT, default 100)\n"
    "  --mpi-shm      keep MPI's shared-memory transports between local ranks instead of\n"
    "                 TCP on lo (env CKPT_MPI_SHM=1; see docs/mpi.md)\n"
    "  --no-mpi-defaults  set no MPI transport variables at all (env CKPT_MPI_DEFAULTS=0)\n"
    "  --verbose      the runtime logs what it does (env CKPT_VERBOSE=1, the same as\n"
    "                 CKPT_LOG=info; CKPT_LOG=debug says more)\n";

struct LaunchOptions {
  Settings settings;
  bool file_rollback = true;
  bool embed_files = false;
  std::string compress;  // zstd level, "" = the runtime's default
  bool verbose = false;
  bool restart_if_exists = false;
  bool mpi_defaults = true;
  MpiEnvOptions mpi;
  int program_index = 0;
  bool rsh_from_config = false;  // CKPT_RSH is the config file's remote_shell
};

void read_env(LaunchOptions* o) {
  o->settings = settings_from_env();
  if (const char* v = getenv("CKPT_RESTART_IF_EXISTS"); v && *v && std::strcmp(v, "0") != 0)
    o->restart_if_exists = true;
  if (const char* v = getenv("CKPT_FILE_ROLLBACK"); v && *v == '0') o->file_rollback = false;
  if (const char* v = getenv("CKPT_MPI_SHM"); v && *v && std::strcmp(v, "0") != 0)
    o->mpi.shared_memory = true;
  if (const char* v = getenv("CKPT_MPI_DEFAULTS"); v && *v == '0') o->mpi_defaults = false;
}

// --full-every K, --chain-max-percent P: exported for the runtime
// (incremental_image.h).
OptionStatus take_chain_option(int argc, char** argv, int* i, std::string* error) {
  for (auto [flag, var, low] : {std::tuple{"--full-every", "CKPT_FULL_EVERY", 1L},
                                std::tuple{"--chain-max-percent", "CKPT_CHAIN_MAX_PERCENT", 0L}}) {
    std::string value;
    OptionStatus st = take_option_value(argc, argv, i, flag, &value, error);
    if (st != OptionStatus::kTaken) {
      if (st == OptionStatus::kBad) return st;
      continue;
    }
    char* end = nullptr;
    long n = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end || n < low || n > 100000) {
      *error =
          std::string(flag) + " takes a whole number from " + std::to_string(low) + " to 100000";
      return OptionStatus::kBad;
    }
    setenv(var, value.c_str(), 1);
    return OptionStatus::kTaken;
  }
  return OptionStatus::kNotMine;
}

// The options that are only ckpt_launch's, at argv[*i].
OptionStatus take_launch_option(int argc, char** argv, int* i, LaunchOptions* o,
                                std::string* error) {
  std::string arg = argv[*i], value;
  OptionStatus st = take_option_value(argc, argv, i, "--preempt-signals", &value, error);
  if (st == OptionStatus::kTaken) {
    if (*error = check_signal_list(value); !error->empty()) return OptionStatus::kBad;
    setenv("CKPT_PREEMPT_SIGNALS", value.c_str(), 1);
  }
  if (st != OptionStatus::kNotMine) return st;
  if (st = take_chain_option(argc, argv, i, error); st != OptionStatus::kNotMine) return st;
  if (arg == "--restart-if-exists") {
    o->restart_if_exists = true;
  } else if (arg == "--no-file-rollback") {
    o->file_rollback = false;
  } else if (arg == "--embed-files") {
    o->embed_files = true;
  } else if (arg == "--no-compress") {
    o->compress = "0";
  } else if (arg.starts_with("--compress")) {
    if (take_option_value(argc, argv, i, "--compress", &o->compress, error) != OptionStatus::kTaken)
      return OptionStatus::kBad;
    char* end = nullptr;
    long level = std::strtol(o->compress.c_str(), &end, 10);
    if (o->compress.empty() || *end || level < -7 || level > 19) {
      *error = "--compress takes a zstd level from -7 to 19";
      return OptionStatus::kBad;
    }
  } else if (arg == "--mpi-shm") {
    o->mpi.shared_memory = true;
  } else if (arg == "--no-mpi-defaults") {
    o->mpi_defaults = false;
  } else if (arg == "--verbose") {
    o->verbose = true;
  } else if (arg == "-h" || arg == "--help") {
    std::printf("%s%s%s", kUsage, kScheduleUsage, kOptionHelp);
    std::exit(0);
  } else {
    *error = "unknown option " + arg;
    return OptionStatus::kBad;
  }
  return OptionStatus::kTaken;
}

bool parse(int argc, char** argv, LaunchOptions* o, std::string* error) {
  read_env(o);
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (std::string(argv[i]) == "--") {
      i++;
      break;
    }
    OptionStatus st = take_settings_option(argc, argv, &i, &o->settings, error);
    if (st == OptionStatus::kNotMine) st = take_schedule_option(argc, argv, &i, error);
    if (st == OptionStatus::kNotMine) st = take_launch_option(argc, argv, &i, o, error);
    if (st == OptionStatus::kBad) return false;
  }
  if (i >= argc) {
    *error = "no program to run";
    return false;
  }
  o->program_index = i;
  return true;
}

// libckpt_mpi.so beside libckpt.so, or "".
std::string find_mpi_plugin(const std::string& library) {
  std::string path = library.substr(0, library.rfind('/') + 1) + "libckpt_mpi.so";
  return access(path.c_str(), R_OK) == 0 ? path : "";
}

// MPI transport variables the user did not choose (docs/mpi.md).
void export_mpi_defaults(const LaunchOptions& o, const std::vector<std::string>& argv) {
  auto lookup = [](const char* name) -> const char* { return getenv(name); };
  for (const EnvSetting& e : mpi_environment_defaults(argv, lookup, o.mpi)) {
    setenv(e.name.c_str(), e.value.c_str(), 1);
    if (o.verbose) std::fprintf(stderr, "ckpt_launch: %s=%s\n", e.name.c_str(), e.value.c_str());
  }
}

// The environment every process of the job inherits.
void export_job_environment(const LaunchOptions& o, const Secret& secret,
                            const std::string& library, const std::vector<std::string>& program) {
  std::string preload = library;
  if (std::string plugin = find_mpi_plugin(library); !plugin.empty()) preload += ":" + plugin;
  if (const char* old = getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;
  setenv("LD_PRELOAD", preload.c_str(), 1);
  setenv("CKPT_COORD_HOST", o.settings.host.c_str(), 1);
  setenv("CKPT_COORD_PORT", std::to_string(o.settings.port).c_str(), 1);
  setenv("CKPT_DIR", o.settings.dir.c_str(), 1);
  setenv("CKPT_SECRET", to_hex(secret).c_str(), 1);
  if (!o.file_rollback) setenv("CKPT_FILE_ROLLBACK", "0", 1);
  if (o.embed_files) setenv("CKPT_EMBED_FILES", "1", 1);
  if (!o.compress.empty()) setenv("CKPT_COMPRESS_LEVEL", o.compress.c_str(), 1);
  if (o.verbose) setenv("CKPT_VERBOSE", "1", 1);
  // Files and directories born after this are the job's own (job_files.h).
  // The coarse clock is the one file systems stamp birth times with.
  timespec now = {};
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  uint64_t start_ns = static_cast<uint64_t>(now.tv_sec) * 1000000000ull + now.tv_nsec;
  setenv("CKPT_JOB_START_NS", std::to_string(start_ns).c_str(), 1);
  if (o.mpi_defaults) export_mpi_defaults(o, program);
}

// A job across hosts: remote shells of MPI launchers go through ckpt_rsh
// (remote_shell_env.h; argv may change), no loopback-only MPI settings.
// A remote shell named on the command line wins over the config file's.
void prepare_remote_shells(LaunchOptions* o, std::vector<std::string>* argv) {
  auto lookup = [o](const char* name) -> const char* {
    return o->rsh_from_config && std::strcmp(name, "CKPT_RSH") == 0 ? nullptr : getenv(name);
  };
  if (std::string rsh = find_tool("ckpt_rsh"); !rsh.empty()) {
    // Inside a SLURM allocation of several nodes: daemons through srun (slurm_allocation.h).
    if (std::string srun = find_tool("ckpt_srun"); !srun.empty())
      for (const EnvSetting& e : slurm_launch_env(lookup, rsh, srun)) {
        setenv(e.name.c_str(), e.value.c_str(), 1);
        if (o->verbose)
          std::fprintf(stderr, "ckpt_launch: %s=%s\n", e.name.c_str(), e.value.c_str());
      }
    for (const EnvSetting& e : wrap_remote_shells(argv, lookup, rsh)) {
      setenv(e.name.c_str(), e.value.c_str(), 1);
      if (o->verbose) std::fprintf(stderr, "ckpt_launch: %s=%s\n", e.name.c_str(), e.value.c_str());
    }
  }
  const char* across = getenv("CKPT_MPI_ACROSS_HOSTS");
  o->mpi.across_hosts = launcher_names_hosts(*argv) || (across && std::strcmp(across, "1") == 0);
  if (o->mpi.across_hosts) setenv("CKPT_MPI_ACROSS_HOSTS", "1", 1);
}

// --restart-if-exists with a committed checkpoint: becomes ckpt_restart on
// the checkpoint dir, with the same settings (the scheduling options are in
// the environment). Returns only on failure.
int restart_instead(const LaunchOptions& o, uint64_t gen, const char* program) {
  std::string restart = find_tool("ckpt_restart");
  if (restart.empty()) {
    std::fprintf(stderr, "ckpt_launch: cannot find ckpt_restart next to %s\n", self_dir().c_str());
    return 1;
  }
  std::fprintf(stderr,
               "ckpt_launch: %s holds committed checkpoint %llu: restarting from it instead of "
               "starting %s\n",
               o.settings.dir.c_str(), static_cast<unsigned long long>(gen), program);
  std::vector<std::string> args = {
      restart, "--host",      o.settings.host, "--port", std::to_string(o.settings.port),
      "--dir", o.settings.dir};
  if (!o.file_rollback) args.push_back("--no-file-rollback");
  args.push_back(o.settings.dir);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  execv(restart.c_str(), argv.data());
  std::fprintf(stderr, "ckpt_launch: cannot run %s: %s\n", restart.c_str(), std::strerror(errno));
  return 127;
}

int run(int argc, char** argv) {
  LaunchOptions o;
  std::string error;
  std::vector<std::string> from_config;
  if (!load_config_or_complain("ckpt_launch", &from_config)) return 2;
  o.rsh_from_config =
      std::find(from_config.begin(), from_config.end(), "CKPT_RSH") != from_config.end();
  if (!parse(argc, argv, &o, &error)) {
    std::fprintf(stderr, "ckpt_launch: %s\n%s", error.c_str(), kUsage);
    return 2;
  }
  char** program = argv + o.program_index;
  error = join_step_coordinator(&o.settings);  // srun ckpt_launch PROG: one coordinator
  if (!error.empty()) {
    std::fprintf(stderr, "ckpt_launch: %s\n", error.c_str());
    return 1;
  }
  if (o.restart_if_exists) {
    if (uint64_t gen = committed_generation(o.settings.dir, nullptr))
      return restart_instead(o, gen, program[0]);
  }
  std::string library = find_runtime_library();
  if (library.empty()) {
    std::fprintf(stderr, "ckpt_launch: cannot find libckpt.so next to %s\n", self_dir().c_str());
    return 1;
  }
  auto secret = load_or_create_secret(o.settings.dir, &error);
  if (!secret) {
    std::fprintf(stderr, "ckpt_launch: %s\n", error.c_str());
    return 1;
  }
  bool started = false;
  error = ensure_coordinator(o.settings, *secret, &started);
  if (!error.empty()) {
    std::fprintf(stderr, "ckpt_launch: %s\n", error.c_str());
    return 1;
  }
  std::vector<std::string> args(program, program + (argc - o.program_index));
  prepare_remote_shells(&o, &args);
  export_job_environment(o, *secret, library, args);
  std::vector<char*> exec_argv;
  for (auto& a : args) exec_argv.push_back(a.data());
  exec_argv.push_back(nullptr);
  execvp(exec_argv[0], exec_argv.data());
  std::fprintf(stderr, "ckpt_launch: cannot run %s: %s\n", program[0], std::strerror(errno));
  return 127;
}

}  // namespace
}  // namespace ckpt

int main(int argc, char** argv) { return ckpt::run(argc, argv); }
