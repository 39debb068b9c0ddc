// Finds the real MPI functions behind libckpt_mpi's wrappers, however the MPI
// library came into the process: linked by the program, dlopen'ed later by
// the program, or loaded by an interpreter's extension module (mpi4py,
// Julia, R) into a local lookup scope that dlsym(RTLD_NEXT) does not see.
#pragma once

namespace ckpt::mpi {

// The address of `name` in a loaded object other than libckpt_mpi.so, or
// nullptr when no loaded object defines it (yet). Tries, in order: the
// objects after libckpt_mpi.so in the global scope (RTLD_NEXT), then every
// loaded object with its own dependencies (dl_iterate_phdr), which covers
// libraries dlopen'ed with RTLD_LOCAL. Never prints.
void* find_real_function(const char* name);

// One line on stderr: `name` was called for but no loaded object defines it.
void say_function_missing(const char* name);

// Caches one real function. It is looked up when first called, not at
// load time, and a lookup that finds nothing is not cached: the MPI library
// may simply not be loaded yet.
template <typename Fn>
class RealFunction {
 public:
  explicit constexpr RealFunction(const char* name) : name_(name) {}

  // The real function, or nullptr (after one line on stderr naming it) when
  // no loaded object defines it: the program called MPI without an MPI
  // library.
  Fn get() {
    Fn fn = __atomic_load_n(&fn_, __ATOMIC_ACQUIRE);
    if (fn) return fn;
    fn = reinterpret_cast<Fn>(find_real_function(name_));
    if (!fn) {
      say_function_missing(name_);
      return nullptr;
    }
    __atomic_store_n(&fn_, fn, __ATOMIC_RELEASE);
    return fn;
  }

 private:
  const char* name_;
  Fn fn_ = nullptr;
};

}  // namespace ckpt::mpi
