// libckpt_mpi's lookup of the real MPI functions (plugins/mpi/
// mpi_symbol_lookup.h): a library dlopen'ed after start-up into a local
// scope, where dlsym(RTLD_NEXT) and RTLD_DEFAULT do not look, is found; a
// lookup made before it was loaded is not remembered.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include "mpi_symbol_lookup.h"

namespace ckpt::mpi {
namespace {

using InitFn = int (*)(int*, char***);

TEST(MpiSymbolLookup, FindsAFunctionOfALibraryDlopenedLocallyAfterAFailedLookup) {
  static RealFunction<InitFn> real("PMPI_Init");
  ASSERT_EQ(dlsym(RTLD_DEFAULT, "PMPI_Init"), nullptr) << "the unit tests must not link MPI";
  testing::internal::CaptureStderr();
  EXPECT_EQ(real.get(), nullptr);  // not loaded yet
  std::string said = testing::internal::GetCapturedStderr();
  EXPECT_NE(said.find("PMPI_Init was called but no loaded library defines it"), std::string::npos)
      << said;

  void* lib = dlopen(CKPT_FAKE_PMPI_PATH, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  EXPECT_EQ(dlsym(RTLD_DEFAULT, "PMPI_Init"), nullptr) << "RTLD_LOCAL: not in the global scope";
  InitFn fn = real.get();
  ASSERT_NE(fn, nullptr);
  EXPECT_EQ(reinterpret_cast<void*>(fn), dlsym(lib, "PMPI_Init"));
  EXPECT_EQ(fn(nullptr, nullptr), 4242);
  EXPECT_EQ(real.get(), fn);  // cached from now on
}

TEST(MpiSymbolLookup, NothingForANameNoLibraryDefines) {
  EXPECT_EQ(find_real_function("PMPI_No_Such_Function_Anywhere"), nullptr);
}

}  // namespace
}  // namespace ckpt::mpi
