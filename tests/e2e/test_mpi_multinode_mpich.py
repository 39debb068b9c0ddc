"""e2e (across nodes): the scenario of test_mpi_multinode.py with MPICH:
`ckpt_launch mpiexec.hydra -hosts ckh1,ckh2 -n 4 -launcher ssh -launcher-exec
SSH mpi_heat_mpich` on emulated hosts with real sshd (SSH: ssh with the
cluster's config; ckpt_launch puts ckpt_rsh in its place), hydra_pmi_proxy
started through ssh on ckh2; two checkpoint/kill/restart cycles through ssh,
the second on ckh2 and ckh3; output equal to an uninterrupted run's.
SKIPs (77) without MPICH or when the emulated cluster cannot be built."""

import test_mpi_multinode

if __name__ == "__main__":
    test_mpi_multinode.main(test_mpi_multinode.Mpich)
