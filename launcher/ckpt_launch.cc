// ckpt_launch: run a program under checkpoint control.
//
//   ckpt_launch [--host H] [--port P] [--dir D] [--no-file-rollback] [--verbose]
//               PROGRAM [ARGS...]
//
// Makes sure a coordinator of this job answers (starting one if needed),
// then execs PROGRAM with libckpt.so preloaded and the job's settings in its
// environment, so that it and everything it starts agree on them.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "binary_paths.h"
#include "ensure_coordinator.h"
#include "job_secret.h"
#include "settings.h"

namespace ckpt {
namespace {

constexpr const char* kUsage =
    "usage: ckpt_launch [--host H] [--port P] [--dir D] [--no-file-rollback] [--verbose] "
    "PROGRAM [ARGS...]\n";

struct LaunchOptions {
  Settings settings;
  bool file_rollback = true;
  bool verbose = false;
  int program_index = 0;
};

bool parse(int argc, char** argv, LaunchOptions* o, std::string* error) {
  o->settings = settings_from_env();
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    std::string arg = argv[i];
    if (arg == "--") {
      i++;
      break;
    }
    switch (take_settings_option(argc, argv, &i, &o->settings, error)) {
      case OptionStatus::kTaken:
        continue;
      case OptionStatus::kBad:
        return false;
      case OptionStatus::kNotMine:
        break;
    }
    if (arg == "--no-file-rollback") {
      o->file_rollback = false;
    } else if (arg == "--verbose") {
      o->verbose = true;
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else {
      *error = "unknown option " + arg;
      return false;
    }
  }
  if (i >= argc) {
    *error = "no program to run";
    return false;
  }
  o->program_index = i;
  return true;
}

// The environment every process of the job inherits.
void export_job_environment(const LaunchOptions& o, const Secret& secret,
                            const std::string& library) {
  std::string preload = library;
  if (const char* old = getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;
  setenv("LD_PRELOAD", preload.c_str(), 1);
  setenv("CKPT_COORD_HOST", o.settings.host.c_str(), 1);
  setenv("CKPT_COORD_PORT", std::to_string(o.settings.port).c_str(), 1);
  setenv("CKPT_DIR", o.settings.dir.c_str(), 1);
  setenv("CKPT_SECRET", to_hex(secret).c_str(), 1);
  if (!o.file_rollback) setenv("CKPT_FILE_ROLLBACK", "0", 1);
  if (o.verbose) setenv("CKPT_VERBOSE", "1", 1);
}

int run(int argc, char** argv) {
  LaunchOptions o;
  std::string error;
  if (!parse(argc, argv, &o, &error)) {
    std::fprintf(stderr, "ckpt_launch: %s\n%s", error.c_str(), kUsage);
    return 2;
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
  export_job_environment(o, *secret, library);
  char** program = argv + o.program_index;
  execvp(program[0], program);
  std::fprintf(stderr, "ckpt_launch: cannot run %s: %s\n", program[0], std::strerror(errno));
  return 127;
}

}  // namespace
}  // namespace ckpt

int main(int argc, char** argv) { return ckpt::run(argc, argv); }
