// Job metadata recorded with every committed generation: which batch
// scheduler runs the job (from the coordinator's own environment, which is
// fresh in every allocation because ckpt_launch/ckpt_restart start the
// coordinator there), the job id, its nodes, and facts about the checkpoint
// (time, restart count, hosts of the processes).
//
// It goes into the generation's MANIFEST after the image names, separated by
// an empty line, one "key: value" per line (see generation_store.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ckpt {

struct JobMetadata {
  std::string scheduler = "none";  // slurm, pbs, lsf or none
  std::string job_id;
  std::string nodes;         // the allocation's node list, as the scheduler names it
  std::string job_restarts;  // the scheduler's own requeue count, if it tells (SLURM)
};

// Reads SLURM_JOB_ID/SLURM_JOB_NODELIST/SLURM_RESTART_COUNT,
// PBS_JOBID/PBS_NODEFILE, LSB_JOBID/LSB_HOSTS (first match wins).
JobMetadata job_metadata_from_env();

// The MANIFEST trailer lines for one checkpoint ("key: value\n" each).
std::string manifest_metadata(const JobMetadata& job, uint32_t restart_count,
                              const std::vector<std::string>& hosts);
// The checkpoint's own lines: "duration_ms: N" (Suspend sent to commit) and
// "bytes: N" (the images' total), read back by ckpt_command --history.
std::string checkpoint_figures(uint64_t duration_ms, uint64_t bytes);

}  // namespace ckpt
