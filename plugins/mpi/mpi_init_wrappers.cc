// libckpt_mpi.so: preloaded after libckpt.so by ckpt_launch. Wraps the MPI
// calls during which a checkpoint must not land — MPI_Init, MPI_Init_thread
// and MPI_Finalize (C and Fortran bindings), while the library makes and
// tears down its connections — PMPI-style: each wrapper enters a deferred
// section of the runtime (checkpoint_deferral.h), calls the real function,
// and leaves the section.
//
// It needs no mpi.h and links no MPI library: the real functions (the PMPI_
// names for C, the same names for Fortran) are looked up at the first call,
// wherever the MPI library was loaded from — linked, dlopen'ed, or loaded by
// an interpreter such as Python for mpi4py (mpi_symbol_lookup.h) — and the
// runtime's entry point ckpt_defer_checkpoints() with dlsym(RTLD_DEFAULT).
// In a process without MPI nothing here is ever called; without libckpt.so
// the wrappers only forward.
#include <dlfcn.h>

#include "mpi_symbol_lookup.h"

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

template <typename Fn>
using Real = ckpt::mpi::RealFunction<Fn>;

}  // namespace

CKPT_MPI_EXPORT int MPI_Init(int* argc, char*** argv) {
  static Real<int (*)(int*, char***)> real_fn("PMPI_Init");
  auto real = real_fn.get();
  if (!real) return kMpiErrOther;
  DeferredSection defer;
  return real(argc, argv);
}

CKPT_MPI_EXPORT int MPI_Init_thread(int* argc, char*** argv, int required, int* provided) {
  static Real<int (*)(int*, char***, int, int*)> real_fn("PMPI_Init_thread");
  auto real = real_fn.get();
  if (!real) return kMpiErrOther;
  DeferredSection defer;
  return real(argc, argv, required, provided);
}

CKPT_MPI_EXPORT int MPI_Finalize(void) {
  static Real<int (*)()> real_fn("PMPI_Finalize");
  auto real = real_fn.get();
  if (!real) return kMpiErrOther;
  DeferredSection defer;
  return real();
}

// Fortran bindings (gfortran name mangling: lower case with one or two
// trailing underscores). Each forwards to the next definition of its name.
#define CKPT_FORTRAN_INIT(name)                 \
  CKPT_MPI_EXPORT void name(int* ierr) {        \
    static Real<void (*)(int*)> real_fn(#name); \
    auto real = real_fn.get();                  \
    if (!real) {                                \
      *ierr = kMpiErrOther;                     \
      return;                                   \
    }                                           \
    DeferredSection defer;                      \
    real(ierr);                                 \
  }
#define CKPT_FORTRAN_INIT_THREAD(name)                                 \
  CKPT_MPI_EXPORT void name(int* required, int* provided, int* ierr) { \
    static Real<void (*)(int*, int*, int*)> real_fn(#name);            \
    auto real = real_fn.get();                                         \
    if (!real) {                                                       \
      *ierr = kMpiErrOther;                                            \
      return;                                                          \
    }                                                                  \
    DeferredSection defer;                                             \
    real(required, provided, ierr);                                    \
  }

CKPT_FORTRAN_INIT(mpi_init_)
CKPT_FORTRAN_INIT(mpi_init__)
CKPT_FORTRAN_INIT(mpi_finalize_)
CKPT_FORTRAN_INIT(mpi_finalize__)
CKPT_FORTRAN_INIT_THREAD(mpi_init_thread_)
CKPT_FORTRAN_INIT_THREAD(mpi_init_thread__)
