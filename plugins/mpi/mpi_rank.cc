// The MPI rank from the launcher's environment (see mpi_rank.h).
#include "mpi_rank.h"

namespace ckpt {

int32_t parse_rank(const char* text) {
  if (!text || !*text) return -1;
  int64_t v = 0;
  for (const char* p = text; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (*p - '0');
    if (v > INT32_MAX) return -1;
  }
  return static_cast<int32_t>(v);
}

int32_t rank_from_environment(const char* (*lookup)(const char* name)) {
  for (const char* name : kRankVariables) {
    int32_t rank = parse_rank(lookup(name));
    if (rank >= 0) return rank;
  }
  return -1;
}

}  // namespace ckpt
