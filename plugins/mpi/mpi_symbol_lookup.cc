// Finding the real MPI functions in whatever object loaded them (see
// mpi_symbol_lookup.h). Runs inside MPI calls only, never at load time.
#include "mpi_symbol_lookup.h"

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace ckpt::mpi {
namespace {

// The base address of libckpt_mpi.so: a definition found there is one of
// our own wrappers (the Fortran names are wrapped under the real names).
uintptr_t own_base() {
  static uintptr_t base = [] {
    Dl_info info{};
    dladdr(reinterpret_cast<void*>(&find_real_function), &info);
    return reinterpret_cast<uintptr_t>(info.dli_fbase);
  }();
  return base;
}

bool is_own(void* fn) {
  Dl_info info{};
  return dladdr(fn, &info) != 0 && reinterpret_cast<uintptr_t>(info.dli_fbase) == own_base();
}

// Paths of the loaded objects, collected first: dlopen() is not called
// while dl_iterate_phdr holds the loader's lock.
int collect_object(dl_phdr_info* info, size_t, void* data) {
  // The program itself (empty name) is in RTLD_NEXT's scope already.
  if (info->dlpi_name && info->dlpi_name[0])
    static_cast<std::vector<std::string>*>(data)->emplace_back(info->dlpi_name);
  return 0;
}

// `name` as seen from one loaded object: the object and its dependencies.
void* lookup_from(const std::string& path, const char* name) {
  void* handle = dlopen(path.c_str(), RTLD_LAZY | RTLD_NOLOAD);
  if (!handle) return nullptr;
  void* fn = dlsym(handle, name);
  if (!fn || is_own(fn)) {
    dlclose(handle);
    return nullptr;
  }
  return fn;  // the reference RTLD_NOLOAD took is kept: fn stays valid
}

void* lookup_in_loaded_objects(const char* name) {
  std::vector<std::string> paths;
  dl_iterate_phdr(collect_object, &paths);
  for (const std::string& path : paths)
    if (void* fn = lookup_from(path, name)) return fn;
  return nullptr;
}

}  // namespace

void* find_real_function(const char* name) {
  void* fn = dlsym(RTLD_NEXT, name);
  if (fn && !is_own(fn)) return fn;
  return lookup_in_loaded_objects(name);
}

void say_function_missing(const char* name) {
  const char* parts[] = {"libckpt_mpi: ", name,
                         " was called but no loaded library defines it (no MPI library loaded)\n"};
  for (const char* p : parts) {
    ssize_t ignored = write(2, p, strlen(p));
    (void)ignored;
  }
}

}  // namespace ckpt::mpi
