# Spack recipe for ckpt (docs/install.md). Not tested by ckpt's CI (no Spack
# there): copy it into a Spack repository as packages/ckpt/package.py,
#   spack repo create myrepo && cp package.py myrepo/packages/ckpt/
#   spack install ckpt@main
# and set the git URL (or a release tarball) below for your site.
from spack.package import *


class Ckpt(MesonPackage):
    """Transparent checkpoint/restart for Linux x86-64 programs and MPI jobs:
    ckpt_launch, ckpt_command, ckpt_restart, ckpt_info, the preloaded runtime
    libckpt.so, and the application API (ckpt.h, Python and Fortran
    modules)."""

    homepage = "https://localhost/ckpt"
    git = "https://localhost/ckpt.git"

    maintainers("ckpt-developers")
    license("UNKNOWN")

    version("main", branch="main")

    variant("mpi", default=True, description="Build the MPI examples (the MPI plugin is always built)")
    variant("fortran", default=True, description="Build the Fortran API example")

    depends_on("c", type="build")
    depends_on("cxx", type="build")
    depends_on("fortran", type="build", when="+fortran")
    depends_on("meson@1.0:", type="build")
    depends_on("ninja", type="build")
    depends_on("pkgconfig", type="build")
    depends_on("python@3.9:", type=("build", "run"))
    depends_on("zstd")
    depends_on("hwloc")
    depends_on("mpi", when="+mpi")

    conflicts("platform=darwin", msg="ckpt runs on Linux only")
    conflicts("target=aarch64:", msg="ckpt supports x86-64 only")
    requires("%gcc@11:", "%clang@14:", policy="one_of", msg="ckpt needs a C++20 compiler")

    def meson_args(self):
        return [
            "-Dtests=false",
            "-Dbench=false",
            "-Dmpi=" + ("enabled" if self.spec.satisfies("+mpi") else "disabled"),
            "-Dpython_dir=" + join_path("lib", "python{0}".format(self.spec["python"].version.up_to(2)),
                                        "site-packages"),
        ]

    def setup_run_environment(self, env):
        env.prepend_path("PYTHONPATH", join_path(self.prefix.lib,
                                                 "python{0}".format(self.spec["python"].version.up_to(2)),
                                                 "site-packages"))
        env.set("CKPT_EXAMPLES", self.prefix.libexec.ckpt.examples)
