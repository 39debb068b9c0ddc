// Job metadata from the scheduler's environment (see job_metadata.h).
#include "job_metadata.h"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <set>

namespace ckpt {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// One line per slot in PBS_NODEFILE: the distinct hosts, in order, comma-separated.
std::string nodes_from_file(const std::string& path) {
  std::ifstream in(path);
  std::set<std::string> seen;
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.empty() || !seen.insert(line).second) continue;
    out += (out.empty() ? "" : ",") + line;
  }
  return out;
}

// "host1 host1 host2" -> "host1,host2".
std::string distinct_words(const std::string& text) {
  std::set<std::string> seen;
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(pos, end - pos);
    if (!word.empty() && seen.insert(word).second) out += (out.empty() ? "" : ",") + word;
    pos = end + 1;
  }
  return out;
}

// Keeps a value on one line.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

JobMetadata job_metadata_from_env() {
  JobMetadata m;
  if (std::string id = env("SLURM_JOB_ID"); !id.empty()) {
    m.scheduler = "slurm";
    m.job_id = id;
    m.nodes = env("SLURM_JOB_NODELIST");
    m.job_restarts = env("SLURM_RESTART_COUNT");
  } else if (std::string id = env("PBS_JOBID"); !id.empty()) {
    m.scheduler = "pbs";
    m.job_id = id;
    m.nodes = nodes_from_file(env("PBS_NODEFILE"));
  } else if (std::string id = env("LSB_JOBID"); !id.empty()) {
    m.scheduler = "lsf";
    m.job_id = id;
    m.nodes = distinct_words(env("LSB_HOSTS"));
  }
  return m;
}

std::string manifest_metadata(const JobMetadata& job, uint32_t restart_count,
                              const std::vector<std::string>& hosts) {
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::set<std::string> distinct(hosts.begin(), hosts.end());
  std::string host_list;
  for (const auto& h : distinct) host_list += (host_list.empty() ? "" : ",") + h;

  std::string out = "time: " + std::string(stamp) + "\n";
  out += "scheduler: " + job.scheduler + "\n";
  if (!job.job_id.empty()) out += "job_id: " + one_line(job.job_id) + "\n";
  if (!job.nodes.empty()) out += "nodes: " + one_line(job.nodes) + "\n";
  if (!job.job_restarts.empty()) out += "job_restarts: " + one_line(job.job_restarts) + "\n";
  out += "restart_count: " + std::to_string(restart_count) + "\n";
  out += "hosts: " + one_line(host_list) + "\n";
  return out;
}

std::string checkpoint_figures(uint64_t duration_ms, uint64_t bytes) {
  return "duration_ms: " + std::to_string(duration_ms) + "\nbytes: " + std::to_string(bytes) + "\n";
}

}  // namespace ckpt
