// MPI support that can be tested alone: the rank from the launcher's
// environment, the MPI transport defaults of ckpt_launch, the CPU lists of
// saved bindings and their mapping onto another node, the CpuAffinity record.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ckpt/image_format.h"
#include "common/cpu_list.h"
#include "mpi_environment.h"
#include "mpi_rank.h"
#include "runtime/core/checkpoint_deferral.h"
#include "runtime/core/futex.h"

namespace ckpt {
namespace {

std::map<std::string, std::string> g_env;

const char* fake_getenv(const char* name) {
  auto it = g_env.find(name);
  return it == g_env.end() ? nullptr : it->second.c_str();
}

TEST(MpiRank, ParsesDecimalRanksOnly) {
  EXPECT_EQ(parse_rank("0"), 0);
  EXPECT_EQ(parse_rank("17"), 17);
  EXPECT_EQ(parse_rank("2147483647"), 2147483647);
  EXPECT_EQ(parse_rank("2147483648"), -1);
  EXPECT_EQ(parse_rank(""), -1);
  EXPECT_EQ(parse_rank(nullptr), -1);
  EXPECT_EQ(parse_rank("-1"), -1);
  EXPECT_EQ(parse_rank(" 3"), -1);
  EXPECT_EQ(parse_rank("3x"), -1);
}

TEST(MpiRank, LauncherVariablesInOrder) {
  g_env.clear();
  EXPECT_EQ(rank_from_environment(fake_getenv), -1);
  g_env["MPI_LOCALRANKID"] = "1";
  EXPECT_EQ(rank_from_environment(fake_getenv), 1);  // last resort
  g_env["PMI_RANK"] = "5";
  EXPECT_EQ(rank_from_environment(fake_getenv), 5);  // MPICH hydra: the global rank wins
  g_env["PMIX_RANK"] = "6";
  EXPECT_EQ(rank_from_environment(fake_getenv), 6);
  g_env["OMPI_COMM_WORLD_RANK"] = "7";
  EXPECT_EQ(rank_from_environment(fake_getenv), 7);  // Open MPI first
  g_env["OMPI_COMM_WORLD_RANK"] = "garbage";
  EXPECT_EQ(rank_from_environment(fake_getenv), 6);  // an unparsable one is skipped
  g_env.clear();
}

std::map<std::string, std::string> defaults(const std::vector<std::string>& argv,
                                            bool shm = false) {
  MpiEnvOptions o;
  o.shared_memory = shm;
  std::map<std::string, std::string> out;
  for (auto& e : mpi_environment_defaults(argv, fake_getenv, o)) {
    EXPECT_EQ(out.count(e.name), 0u) << e.name << " set twice";
    out[e.name] = e.value;
  }
  return out;
}

TEST(MpiEnvironment, CheckpointFriendlyDefaults) {
  g_env.clear();
  auto d = defaults({"mpirun", "-np", "4", "./a.out"});
  EXPECT_EQ(d["OMPI_MCA_pml"], "ob1");
  EXPECT_EQ(d["OMPI_MCA_btl"], "self,tcp");
  EXPECT_EQ(d["OMPI_MCA_btl_vader_single_copy_mechanism"], "none");
  EXPECT_EQ(d["OMPI_MCA_btl_tcp_if_include"], "lo");
  EXPECT_EQ(d["OMPI_MCA_oob_tcp_if_include"], "lo");
  EXPECT_EQ(d["PMIX_MCA_gds"], "hash");
  EXPECT_EQ(d["MPIR_CVAR_NOLOCAL"], "1");
  EXPECT_EQ(d["UCX_TLS"], "self,tcp");
}

TEST(MpiEnvironment, SharedMemoryKeepsTheShmTransports) {
  g_env.clear();
  auto d = defaults({"mpirun", "./a.out"}, true);
  EXPECT_EQ(d.count("OMPI_MCA_btl"), 0u);
  EXPECT_EQ(d.count("OMPI_MCA_btl_vader_single_copy_mechanism"), 0u);
  EXPECT_EQ(d.count("MPIR_CVAR_NOLOCAL"), 0u);
  EXPECT_EQ(d.count("UCX_TLS"), 0u);
  EXPECT_EQ(d["OMPI_MCA_pml"], "ob1");
  EXPECT_EQ(d["OMPI_MCA_oob_tcp_if_include"], "lo");
}

TEST(MpiEnvironment, TheUsersEnvironmentWins) {
  g_env.clear();
  g_env["OMPI_MCA_btl"] = "self,vader";
  g_env["UCX_TLS"] = "";  // present, even empty
  auto d = defaults({"mpirun", "./a.out"});
  EXPECT_EQ(d.count("OMPI_MCA_btl"), 0u);
  EXPECT_EQ(d.count("UCX_TLS"), 0u);
  EXPECT_EQ(d["OMPI_MCA_pml"], "ob1");
  g_env.clear();
}

TEST(MpiEnvironment, TheLaunchersCommandLineWins) {
  g_env.clear();
  auto d = defaults({"mpirun", "--mca", "btl", "self,vader", "-mca", "pml", "ucx", "--pmixmca",
                     "gds", "ds21", "-x", "OMPI_MCA_osc=rdma", "-np", "2", "./a.out"});
  EXPECT_EQ(d.count("OMPI_MCA_btl"), 0u);
  EXPECT_EQ(d.count("OMPI_MCA_pml"), 0u);
  EXPECT_EQ(d.count("PMIX_MCA_gds"), 0u);
  EXPECT_EQ(d.count("OMPI_MCA_osc"), 0u);
  EXPECT_EQ(d["OMPI_MCA_btl_tcp_if_include"], "lo");  // "btl" does not match btl_tcp_if_include
  auto h = defaults({"mpiexec.hydra", "-genv", "MPIR_CVAR_NOLOCAL", "0", "-env", "UCX_TLS", "all",
                     "-n", "2", "./a.out"});
  EXPECT_EQ(h.count("MPIR_CVAR_NOLOCAL"), 0u);
  EXPECT_EQ(h.count("UCX_TLS"), 0u);
  EXPECT_EQ(h["UCX_NET_DEVICES"], "lo");
}

TEST(MpiEnvironment, LauncherSetsNeedsTheExactName) {
  EXPECT_TRUE(launcher_sets({"-x", "UCX_TLS"}, "UCX_TLS"));
  EXPECT_TRUE(launcher_sets({"-x", "UCX_TLS=tcp"}, "UCX_TLS"));
  EXPECT_FALSE(launcher_sets({"-x", "UCX_TLSX=tcp"}, "UCX_TLS"));
  EXPECT_FALSE(launcher_sets({"--mca"}, "OMPI_MCA_btl"));  // no name after it
  EXPECT_FALSE(launcher_sets({"--mca", "btl"}, "PMIX_MCA_btl"));
  EXPECT_TRUE(launcher_sets({"--gmca", "btl", "tcp"}, "OMPI_MCA_btl"));
}

TEST(CheckpointDeferral, ACheckpointWaitsForTheSectionThenGivesUp) {
  auto rt = std::make_unique<Runtime>();
  rt->defer_timeout_ms = 200;
  enter_deferred_section(*rt);
  EXPECT_EQ(rt->checkpoint_deferred.load(), 1);
  rt->checkpoint_active.store(1);
  MessageString err;
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(wait_deferred_sections(*rt, err));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(200));
  EXPECT_NE(err.view().find("MPI_Init/MPI_Finalize"), std::string_view::npos) << err.view();
  // The section ends while a checkpoint waits: the wait returns at once.
  std::thread leaver([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    leave_deferred_section(*rt);
  });
  rt->defer_timeout_ms = 5000;
  MessageString err2;
  t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(wait_deferred_sections(*rt, err2));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2000));
  leaver.join();
  EXPECT_EQ(rt->checkpoint_deferred.load(), 0);
}

TEST(CheckpointDeferral, EnteringWaitsForTheCheckpointInProgress) {
  auto rt = std::make_unique<Runtime>();
  rt->checkpoint_active.store(1);
  std::atomic<bool> entered{false};
  std::thread enterer([&] {
    enter_deferred_section(*rt);
    entered = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_FALSE(entered.load());
  EXPECT_EQ(rt->checkpoint_deferred.load(), 0);  // not counted while it waits
  MessageString err;
  EXPECT_TRUE(wait_deferred_sections(*rt, err));  // so the checkpoint goes on
  rt->checkpoint_active.store(0);                 // the checkpoint ends
  futex_wake_all(rt->checkpoint_active);
  enterer.join();
  EXPECT_TRUE(entered.load());
  EXPECT_EQ(rt->checkpoint_deferred.load(), 1);
  leave_deferred_section(*rt);
}

TEST(CpuList, TextAndMasks) {
  EXPECT_EQ(image::cpu_list_text({}), "none");
  EXPECT_EQ(image::cpu_list_text({3}), "3");
  EXPECT_EQ(image::cpu_list_text({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
  std::string mask(8, '\0');
  mask[0] = 0x05;  // CPUs 0, 2
  mask[1] = 0x01;  // CPU 8
  EXPECT_EQ(image::cpus_of_mask(mask), (std::vector<int>{0, 2, 8}));
}

TEST(CpuList, MapsOntoTheAvailablePus) {
  // Every saved CPU is here: the same CPUs (the caller binds them as they are).
  EXPECT_EQ(image::map_cpus_onto({4, 5}, {0, 1, 2, 3, 4, 5, 6, 7}), (std::vector<int>{4, 5}));
  // 8 CPUs onto 2: spread, no duplicates.
  EXPECT_EQ(image::map_cpus_onto({2}, {0, 1}), (std::vector<int>{0}));
  EXPECT_EQ(image::map_cpus_onto({3}, {0, 1}), (std::vector<int>{1}));
  EXPECT_EQ(image::map_cpus_onto({0, 1, 2, 3}, {0, 1}), (std::vector<int>{0, 1}));
  // OS numbers in logical order (not sorted): position, then the OS number.
  EXPECT_EQ(image::map_cpus_onto({1}, {0, 4, 1, 5}), (std::vector<int>{4}));
  EXPECT_TRUE(image::map_cpus_onto({1}, {}).empty());
}

TEST(CpuAffinityRecord, RoundTrip) {
  std::string mask(16, '\0');
  mask[0] = 0x02;
  mask[9] = 0x80;
  image::CpuAffinityRecord in;
  in.vtid = 1234;
  in.mask = mask;
  ByteWriter w;
  in.encode(w);
  ByteReader r(w.data(), w.size());
  image::CpuAffinityRecord out;
  ASSERT_TRUE(out.decode(r));
  EXPECT_EQ(out.vtid, 1234);
  EXPECT_EQ(out.mask, mask);
  EXPECT_EQ(image::cpus_of_mask(out.mask), (std::vector<int>{1, 79}));
  // A mask that is not whole 64-bit words is refused.
  ByteWriter bad;
  bad.put_u32(1);
  bad.put_str("abc");
  ByteReader rb(bad.data(), bad.size());
  EXPECT_FALSE(out.decode(rb));
}

}  // namespace
}  // namespace ckpt
