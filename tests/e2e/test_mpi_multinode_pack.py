"""e2e (across nodes): the Open MPI job of test_mpi_multinode.py (mpirun on
ckh1, orted and two ranks on ckh2, through real ssh) checkpointed, killed,
restarted with its two old hosts packed onto ONE new host (`ckpt_restart
--hosts ckh1=ckh3,ckh2=ckh3`: every rank on ckh3, ports that collide there
moved), checkpointed there; splitting that one host onto two again is
refused with one line (the checkpoint intact); killed; checkpoint 1
restarted back onto the original hosts (`--hosts ckh1=ckh1,ckh2=ckh2`),
run to its end: output byte for byte an uninterrupted run's. SKIPs (77)
without MPI or when the emulated cluster cannot be built."""

import test_mpi_multinode

if __name__ == "__main__":
    test_mpi_multinode.main(test_mpi_multinode.OpenMpiPacked)
