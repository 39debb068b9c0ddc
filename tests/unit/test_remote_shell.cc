// Unit tests of the pieces of MPI jobs across nodes that need no hosts:
// the MPI defaults across hosts, pointing launchers' remote shells at
// ckpt_rsh, and ckpt_rsh's command line and launch request.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "launcher/common/remote_shell_env.h"
#include "launcher/rsh/launch_request.h"
#include "launcher/rsh/remote_shell_args.h"
#include "plugins/mpi/mpi_environment.h"

namespace ckpt {
namespace {

std::map<std::string, std::string> g_vars;

const char* lookup(const char* name) {
  auto it = g_vars.find(name);
  return it == g_vars.end() ? nullptr : it->second.c_str();
}

std::map<std::string, std::string> as_map(const std::vector<EnvSetting>& settings) {
  std::map<std::string, std::string> out;
  for (const auto& e : settings) out[e.name] = e.value;
  return out;
}

TEST(AcrossHosts, LaunchersThatNameHosts) {
  EXPECT_TRUE(launcher_names_hosts({"mpirun", "-np", "8", "--host", "a:4,b:4", "./app"}));
  EXPECT_TRUE(launcher_names_hosts({"mpirun", "-H", "a,b", "./app"}));
  EXPECT_TRUE(launcher_names_hosts({"mpirun", "--hostfile", "h", "./app"}));
  EXPECT_TRUE(launcher_names_hosts({"mpiexec.hydra", "-hosts", "a,b", "-n", "2", "./app"}));
  EXPECT_TRUE(launcher_names_hosts({"mpiexec", "-f", "hosts", "./app"}));
  EXPECT_FALSE(launcher_names_hosts({"mpirun", "-np", "4", "./app"}));
  EXPECT_FALSE(launcher_names_hosts({"./app", "--host"}));  // no value: not an option of a launcher
}

TEST(AcrossHosts, NoLoopbackOnlyInterfacesAndKernelChosenPorts) {
  g_vars.clear();
  MpiEnvOptions o;
  o.across_hosts = true;
  auto d = as_map(mpi_environment_defaults({"mpirun", "--host", "a,b", "./app"}, lookup, o));
  EXPECT_EQ(d.count("OMPI_MCA_btl_tcp_if_include"), 0u);
  EXPECT_EQ(d.count("OMPI_MCA_oob_tcp_if_include"), 0u);
  EXPECT_EQ(d.count("UCX_NET_DEVICES"), 0u);
  EXPECT_EQ(d["OMPI_MCA_btl_tcp_port_min_v4"], "0");
  EXPECT_EQ(d["OMPI_MCA_btl"], "self,tcp");
  o.across_hosts = false;
  d = as_map(mpi_environment_defaults({"mpirun", "./app"}, lookup, o));
  EXPECT_EQ(d["OMPI_MCA_btl_tcp_if_include"], "lo");
  EXPECT_EQ(d.count("OMPI_MCA_btl_tcp_port_min_v4"), 0u);
}

TEST(RemoteShellEnv, DefaultRemoteShellGoesThroughCkptRsh) {
  g_vars.clear();
  std::vector<std::string> argv = {"mpirun", "--host", "a,b", "./app"};
  auto d = as_map(wrap_remote_shells(&argv, lookup, "/bin/ckpt_rsh"));
  EXPECT_EQ(d["OMPI_MCA_plm_rsh_agent"], "/bin/ckpt_rsh");
  EXPECT_EQ(d["HYDRA_LAUNCHER_EXEC"], "/bin/ckpt_rsh");
  EXPECT_EQ(d.count("CKPT_RSH"), 0u);  // ckpt_rsh's default: ssh
  EXPECT_EQ(argv, (std::vector<std::string>{"mpirun", "--host", "a,b", "./app"}));
}

TEST(RemoteShellEnv, TheUsersRemoteShellMovesToCkptRsh) {
  g_vars = {{"OMPI_MCA_plm_rsh_agent", "ssh -F cfg"}};
  std::vector<std::string> argv = {"mpirun", "./app"};
  EXPECT_EQ(as_map(wrap_remote_shells(&argv, lookup, "/bin/ckpt_rsh"))["CKPT_RSH"], "ssh -F cfg");

  g_vars.clear();
  argv = {"mpirun", "--mca", "plm_rsh_agent", "rsh", "./app"};
  EXPECT_EQ(as_map(wrap_remote_shells(&argv, lookup, "/bin/ckpt_rsh"))["CKPT_RSH"], "rsh");
  EXPECT_EQ(argv[3], "/bin/ckpt_rsh");

  argv = {"mpiexec.hydra", "-launcher", "ssh", "-launcher-exec", "/x/myssh", "./app"};
  EXPECT_EQ(as_map(wrap_remote_shells(&argv, lookup, "/bin/ckpt_rsh"))["CKPT_RSH"], "/x/myssh");
  EXPECT_EQ(argv[4], "/bin/ckpt_rsh");

  g_vars = {{"CKPT_RSH", "mine"}};  // an explicit CKPT_RSH wins
  argv = {"mpirun", "-mca", "plm_rsh_agent", "rsh", "./app"};
  EXPECT_EQ(as_map(wrap_remote_shells(&argv, lookup, "/bin/ckpt_rsh")).count("CKPT_RSH"), 0u);
  EXPECT_EQ(argv[3], "/bin/ckpt_rsh");
}

TEST(RemoteShellEnv, HydraKeepsTheSchedulersLauncherInAnAllocation) {
  g_vars = {{"SLURM_JOB_ID", "42"}};
  std::vector<std::string> argv = {"mpiexec.hydra", "-n", "2", "./app"};
  auto d = as_map(wrap_remote_shells(&argv, lookup, "/bin/ckpt_rsh"));
  EXPECT_EQ(d.count("HYDRA_LAUNCHER_EXEC"), 0u);
  EXPECT_EQ(d["OMPI_MCA_plm_rsh_agent"], "/bin/ckpt_rsh");
  g_vars.clear();
}

TEST(RshArgs, SshLikeCommandLines) {
  rsh::Invocation inv;
  std::string err;
  ASSERT_TRUE(rsh::parse_invocation({"-x", "-F", "cfg", "-p22", "user@node2", "orted", "-mca", "x"},
                                    &inv, &err));
  EXPECT_EQ(inv.options, (std::vector<std::string>{"-x", "-F", "cfg", "-p22"}));
  EXPECT_EQ(inv.host, "user@node2");
  EXPECT_EQ(rsh::host_name(inv.host), "node2");
  EXPECT_EQ(inv.command, (std::vector<std::string>{"orted", "-mca", "x"}));
  rsh::Invocation none;
  EXPECT_FALSE(rsh::parse_invocation({"-x", "-l", "user"}, &none, &err));
  EXPECT_EQ(rsh::words("  ssh  -F cfg "), (std::vector<std::string>{"ssh", "-F", "cfg"}));
}

TEST(RshRequest, RoundTripsAnyCommandAsHex) {
  rsh::LaunchRequest r;
  r.env = {{"CKPT_DIR", "/shared/ckpt"}, {"OMPI_MCA_btl", "self,tcp"}, {"EMPTY", ""}};
  r.connect_host = "10.0.0.1";
  r.connect_port = "41000";
  r.cookie = "c0ffee";
  r.host = "node2";
  r.command = "PATH=/usr/bin:$PATH ; export PATH ; orted -mca ess \"env\" 'quoted' \n next";
  std::string hex = rsh::encode(r);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
  auto back = rsh::decode(hex);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->env, r.env);
  EXPECT_EQ(back->command, r.command);
  EXPECT_EQ(back->connect_host, "10.0.0.1");
  EXPECT_EQ(back->connect_port, "41000");
  EXPECT_EQ(back->cookie, "c0ffee");
  EXPECT_FALSE(rsh::decode(hex.substr(1)));
  EXPECT_FALSE(rsh::decode("zz"));
}

}  // namespace
}  // namespace ckpt
