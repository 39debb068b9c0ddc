/* A stand-in MPI library for test_mpi_symbol_lookup.cc: dlopen'ed with
 * RTLD_LOCAL by the test, as Python loads libmpi for mpi4py. */
int PMPI_Init(int* argc, char*** argv) {
  (void)argc;
  (void)argv;
  return 4242;
}
