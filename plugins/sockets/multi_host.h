// Restart of a job that ran on several hosts: one ckpt_restart per new
// host, started through a remote shell (ssh, or CKPT_RSH / --rsh), each
// restoring the processes of the old hosts mapped to it (--only-host) and
// meeting the others in the coordinator's rendezvous. The front end waits
// for all of them and exits with the first non-zero status.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ckpt {

struct HostsPlan {
  // new host -> the old hosts it takes, in the order new hosts were named.
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
};

// `spec` is "OLD=NEW,..." or "NEW1,NEW2,..." (the old hosts sorted by name,
// one new host each, the last taking the rest). Every old host must be
// placed. Error: one line.
bool plan_hosts(const std::string& spec, const std::vector<std::string>& old_hosts, HostsPlan* plan,
                std::string* err);

struct HostsLaunch {
  std::vector<std::string> rsh;        // the remote shell, split into words
  std::vector<std::string> base_args;  // ckpt_restart and its options (no images)
  std::vector<std::string> images;     // absolute image paths
  std::string round;                   // the rendezvous round
  size_t old_host_count = 0;
};

// The new hosts of `plan` that are not this machine (reached through the remote shell).
std::vector<std::string> remote_hosts(const HostsPlan& plan);

// `--hostfile FILE`: one host per line (its first word; # starts a comment),
// as a "NEW1,NEW2,..." --hosts spec. Error: one line.
bool read_hostfile(const std::string& path, std::string* spec, std::string* err);

// From now on the signals a scheduler sends to warn or preempt a job
// (USR1, USR2, TERM, HUP, XCPU, ALRM) do not end this front end: they go to
// the workers run_on_hosts starts (whose restored processes take them).
void forward_scheduler_signals();

// Starts every group and waits for all (forwarding the signals above to
// them). Returns the exit status.
int run_on_hosts(const HostsPlan& plan, const HostsLaunch& launch, std::string* err);

}  // namespace ckpt
