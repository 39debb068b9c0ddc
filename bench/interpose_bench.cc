// bench_interpose: per-call cost of calls the runtime may interpose, for
// comparing a native run with a run under ckpt_launch. Google Benchmark times
// the loops inside the process, so start-up costs (loader, libckpt.so,
// registering with the coordinator) are not part of the per-call figures.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

// write() of 64 bytes to /dev/null.
void BM_write_devnull(benchmark::State& state) {
  int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  char buf[64] = {};
  for (auto _ : state) benchmark::DoNotOptimize(::write(fd, buf, sizeof buf));
  ::close(fd);
}
BENCHMARK(BM_write_devnull);

// open() + close() of a small regular file.
void BM_open_close(benchmark::State& state) {
  std::string path = "/tmp/ckpt_bench_open_" + std::to_string(::getpid());
  ::close(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  for (auto _ : state) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    benchmark::DoNotOptimize(fd);
    ::close(fd);
  }
  ::unlink(path.c_str());
}
BENCHMARK(BM_open_close);

// getpid() through libc (pid virtualization wraps it).
void BM_getpid(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(::getpid());
}
BENCHMARK(BM_getpid);

// 1,000 dependent floating-point operations: no system call at all.
void BM_compute(benchmark::State& state) {
  double x = 1.0;
  for (auto _ : state) {
    for (int i = 0; i < 1000; i++) x = x * 1.0000001 + 1e-9;
    benchmark::DoNotOptimize(x);
  }
}
BENCHMARK(BM_compute);

}  // namespace

BENCHMARK_MAIN();
