#!/bin/bash
# Shared by demo.sh and test.sh: installs the Debian 12 packages ckpt needs
# (with apt-get when run as root, else prints the command to run), then
# configures and builds with meson into $BUILD_DIR (default build/).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
PACKAGES=(build-essential meson ninja-build pkg-config libzstd-dev libhwloc-dev libboost-dev
          libgtest-dev googletest openmpi-bin libopenmpi-dev mpich libmpich-dev python3 zstd
          lammps quantum-espresso python3-mpi4py python3-numpy sqlite3 redis-server redis-tools
          openssh-server openssh-client scdoc python3-matplotlib
          gfortran debhelper dpkg-dev fakeroot clang libclang-rt-14-dev
          slurmctld slurmd slurm-client munge procps)

install_packages() {
  if ! command -v dpkg-query >/dev/null; then
    echo "setup: not a Debian system; install the equivalents of: ${PACKAGES[*]}"
    return 0
  fi
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  if [[ $(id -u) != 0 ]]; then
    echo "setup: missing packages: ${missing[*]}"
    echo "setup: run as root:  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    return 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q </dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
  keep_openmpi_default
}

# Open MPI stays the default MPI (mpicc, mpirun, pkg-config's mpi) with MPICH
# installed beside it; MPICH is used by its explicit names (mpicc.mpich,
# mpiexec.hydra). See docs/mpi.md.
keep_openmpi_default() {
  command -v update-alternatives >/dev/null || return 0
  [[ -x /usr/bin/mpicc.openmpi ]] && update-alternatives --quiet --set mpi /usr/bin/mpicc.openmpi
  [[ -x /usr/bin/mpirun.openmpi ]] && update-alternatives --quiet --set mpirun /usr/bin/mpirun.openmpi
  local arch_mpi
  arch_mpi=$(update-alternatives --list mpi-x86_64-linux-gnu 2>/dev/null | grep openmpi | head -1) || true
  [[ -n $arch_mpi ]] && update-alternatives --quiet --set mpi-x86_64-linux-gnu "$arch_mpi"
  return 0
}

build() {
  cd "$ROOT"
  if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    meson setup "$BUILD_DIR"
  fi
  ninja -C "$BUILD_DIR"
}

install_packages
build
