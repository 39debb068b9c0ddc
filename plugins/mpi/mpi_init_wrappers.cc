// libckpt_mpi.so: preloaded after libckpt.so by ckpt_launch. Wraps the MPI
// calls during which a checkpoint must not land — MPI_Init, MPI_Init_thread
// and MPI_Finalize (C and Fortran bindings), while the library makes and
// tears down its connections — PMPI-style: each wrapper enters a deferred
// section of the runtime (checkpoint_deferral.h), calls the real function,
// and leaves the section.
//
// It needs no mpi.h and links no MPI library: the real functions are the
// next definitions in the lookup order (dlsym(RTLD_NEXT), the PMPI_ names
// for C, the same names for Fortran), and the runtime's entry point
// ckpt_defer_checkpoints() is looked up with dlsym(RTLD_DEFAULT). In a
// process without MPI nothing here is ever called; without libckpt.so the
// wrappers only forward.
#include <dlfcn.h>
#include <unistd.h>

#include <cstring>

#define CKPT_MPI_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

constexpr int kMpiErrOther = 16;  // MPI_ERR_OTHER in MPICH and Open MPI

using DeferFn = int (*)(int);

// Sections do not nest in the runtime: a Fortran MPI_INIT that calls the C
// MPI_Init enters once.
thread_local int t_depth = 0;

DeferFn defer_function() {
  static DeferFn fn = reinterpret_cast<DeferFn>(dlsym(RTLD_DEFAULT, "ckpt_defer_checkpoints"));
  return fn;
}

class DeferredSection {
 public:
  DeferredSection() {
    if (t_depth++ == 0 && defer_function()) defer_function()(1);
  }
  ~DeferredSection() {
    if (--t_depth == 0 && defer_function()) defer_function()(0);
  }
  DeferredSection(const DeferredSection&) = delete;
  DeferredSection& operator=(const DeferredSection&) = delete;
};

void say_missing(const char* name) {
  const char* a = "libckpt_mpi: cannot find ";
  const char* b = " (is the program linked with an MPI library?)\n";
  ssize_t ignored = write(2, a, strlen(a));
  ignored = write(2, name, strlen(name));
  ignored = write(2, b, strlen(b));
  (void)ignored;
}

template <typename Fn>
Fn next_function(const char* name) {
  auto fn = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
  if (!fn) say_missing(name);
  return fn;
}

}  // namespace

CKPT_MPI_EXPORT int MPI_Init(int* argc, char*** argv) {
  static auto real = next_function<int (*)(int*, char***)>("PMPI_Init");
  if (!real) return kMpiErrOther;
  DeferredSection defer;
  return real(argc, argv);
}

CKPT_MPI_EXPORT int MPI_Init_thread(int* argc, char*** argv, int required, int* provided) {
  static auto real = next_function<int (*)(int*, char***, int, int*)>("PMPI_Init_thread");
  if (!real) return kMpiErrOther;
  DeferredSection defer;
  return real(argc, argv, required, provided);
}

CKPT_MPI_EXPORT int MPI_Finalize(void) {
  static auto real = next_function<int (*)()>("PMPI_Finalize");
  if (!real) return kMpiErrOther;
  DeferredSection defer;
  return real();
}

// Fortran bindings (gfortran name mangling: lower case with one or two
// trailing underscores). Each forwards to the next definition of its name.
#define CKPT_FORTRAN_INIT(name)                              \
  CKPT_MPI_EXPORT void name(int* ierr) {                     \
    static auto real = next_function<void (*)(int*)>(#name); \
    if (!real) {                                             \
      *ierr = kMpiErrOther;                                  \
      return;                                                \
    }                                                        \
    DeferredSection defer;                                   \
    real(ierr);                                              \
  }
#define CKPT_FORTRAN_INIT_THREAD(name)                                   \
  CKPT_MPI_EXPORT void name(int* required, int* provided, int* ierr) {   \
    static auto real = next_function<void (*)(int*, int*, int*)>(#name); \
    if (!real) {                                                         \
      *ierr = kMpiErrOther;                                              \
      return;                                                            \
    }                                                                    \
    DeferredSection defer;                                               \
    real(required, provided, ierr);                                      \
  }

CKPT_FORTRAN_INIT(mpi_init_)
CKPT_FORTRAN_INIT(mpi_init__)
CKPT_FORTRAN_INIT(mpi_finalize_)
CKPT_FORTRAN_INIT(mpi_finalize__)
CKPT_FORTRAN_INIT_THREAD(mpi_init_thread_)
CKPT_FORTRAN_INIT_THREAD(mpi_init_thread__)
