// ckpt inside a SLURM allocation (launcher/common/slurm_allocation.h): node
// lists, the launch environment, the mapping of old hosts onto new nodes.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "launcher/common/slurm_allocation.h"

namespace ckpt {
namespace {

using Names = std::vector<std::string>;

Names expand(const std::string& list) {
  Names out;
  std::string err;
  EXPECT_TRUE(expand_nodelist(list, &out, &err)) << list << ": " << err;
  return out;
}

TEST(SlurmAllocation, ExpandsNodeLists) {
  EXPECT_EQ(expand("ckh1"), (Names{"ckh1"}));
  EXPECT_EQ(expand("ckh[1-3]"), (Names{"ckh1", "ckh2", "ckh3"}));
  EXPECT_EQ(expand("ckh[1,3]"), (Names{"ckh1", "ckh3"}));
  EXPECT_EQ(expand("gpu[08-10],login,n[1-2,5]"),
            (Names{"gpu08", "gpu09", "gpu10", "login", "n1", "n2", "n5"}));
  Names out;
  std::string err;
  EXPECT_FALSE(expand_nodelist("ckh[1-", &out, &err));
  EXPECT_FALSE(expand_nodelist("ckh[3-1]", &out, &err));
  EXPECT_FALSE(expand_nodelist("", &out, &err));
}

EnvLookup env(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(SlurmAllocation, LaunchEnvironmentOnlyAcrossNodes) {
  EXPECT_TRUE(slurm_launch_env(env({{"SLURM_JOB_ID", "7"}, {"SLURM_JOB_NUM_NODES", "1"}}), "r", "s")
                  .empty());
  auto set = slurm_launch_env(
      env({{"SLURM_JOB_ID", "7"}, {"SLURM_JOB_NUM_NODES", "2"}, {"OMPI_MCA_plm", "slurm"}}),
      "/bin/ckpt_rsh", "/bin/ckpt_srun");
  std::map<std::string, std::string> got;
  for (const auto& e : set) got[e.name] = e.value;
  EXPECT_EQ(got.count("OMPI_MCA_plm"), 0u);  // the user's choice stays
  EXPECT_EQ(got["CKPT_RSH"], "/bin/ckpt_srun");
  EXPECT_EQ(got["HYDRA_LAUNCHER_EXEC"], "/bin/ckpt_rsh");
  EXPECT_TRUE(
      slurm_launch_env(env({{"SLURM_JOB_ID", "7"}, {"SLURM_NNODES", "3"}, {"CKPT_SLURM", "0"}}),
                       "r", "s")
          .empty());
}

std::string map(const Names& olds, const std::string& main, const Names& nodes,
                const std::string& here) {
  std::string spec, err;
  EXPECT_TRUE(map_onto_allocation(olds, main, nodes, here, &spec, &err)) << err;
  return spec;
}

TEST(SlurmAllocation, MapsOldHostsOntoNodes) {
  // The launch host to this node, the others by name onto the other nodes.
  EXPECT_EQ(map({"b", "a"}, "b", {"x", "y"}, "y"), "b=y,a=x");
  EXPECT_EQ(map({"a", "b", "c"}, "a", {"x", "y", "z"}, "x"), "a=x,b=y,c=z");
  // Fewer nodes: packed round robin onto the other nodes; one node takes all.
  EXPECT_EQ(map({"a", "b", "c", "d"}, "a", {"x", "y"}, "x"), "a=x,b=y,c=y,d=y");
  EXPECT_EQ(map({"a", "b"}, "a", {"x"}, "x"), "a=x,b=x");
  std::string spec, err;
  EXPECT_FALSE(map_onto_allocation({"a", "b"}, "a", {"x"}, "q", &spec, &err));
  EXPECT_NE(err.find("q"), std::string::npos);
}

TEST(SlurmAllocation, StepCoordinatorOnTheFirstNode) {
  std::string here;
  auto step = [](const char* me) {
    return env({{"SLURM_STEP_ID", "0"},
                {"SLURM_STEP_NUM_NODES", "2"},
                {"SLURM_STEP_NODELIST", "ckh[2-3]"},
                {"SLURMD_NODENAME", me}});
  };
  EXPECT_EQ(step_coordinator_node(step("ckh3"), &here), "ckh2");
  EXPECT_EQ(here, "ckh3");
  EXPECT_EQ(step_coordinator_node(env({{"SLURM_STEP_ID", "0"},
                                       {"SLURM_STEP_NUM_NODES", "1"},
                                       {"SLURM_STEP_NODELIST", "ckh2"},
                                       {"SLURMD_NODENAME", "ckh2"}}),
                                  &here),
            "");
}

}  // namespace
}  // namespace ckpt
