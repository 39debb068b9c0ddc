// bench_floors: what the hardware allows, measured in the same run as the
// checkpoint figures: memory bandwidth (memcpy), single-core zstd at the
// levels the runtime may use on the benchmark's mixed data (1 MiB chunks, as
// in the image), and writing N bytes uncompressed to the checkpoint
// directory, fsync included: through the page cache, and with O_DIRECT (how
// the runtime writes big images).
//
//   bench_floors [--dir D] [--write-bytes N[,N...]] [Google Benchmark flags]
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "mixed_data.h"

namespace {

using ckpt::bench::fill_mixed;

constexpr size_t kChunk = 1u << 20;         // the image's chunk: 256 pages
constexpr size_t kCopyBytes = 256u << 20;   // memcpy buffers
constexpr size_t kSampleBytes = 64u << 20;  // data compressed per iteration
constexpr size_t kWriteBlock = 8u << 20;    // write() size for the disk floor

// A page-aligned, pre-faulted buffer that lives for the whole run.
char* big_buffer(size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) std::abort();
  std::memset(p, 1, bytes);
  return static_cast<char*>(p);
}

const char* mixed_sample() {
  static char* data = [] {
    char* d = big_buffer(kSampleBytes);
    fill_mixed(d, kSampleBytes, 0, 1);
    return d;
  }();
  return data;
}

void BM_memcpy(benchmark::State& state) {
  static char* src = big_buffer(kCopyBytes);
  static char* dst = big_buffer(kCopyBytes);
  for (auto _ : state) {
    std::memcpy(dst, src, kCopyBytes);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kCopyBytes));
}

// Compresses the sample chunk by chunk; reports the ratio as a counter.
void BM_zstd_compress(benchmark::State& state) {
  int level = static_cast<int>(state.range(0));
  const char* src = mixed_sample();
  std::vector<char> dst(ZSTD_compressBound(kChunk));
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  size_t out = 0;
  for (auto _ : state) {
    out = 0;
    for (size_t off = 0; off < kSampleBytes; off += kChunk)
      out += ZSTD_compressCCtx(cctx, dst.data(), dst.size(), src + off, kChunk, level);
  }
  ZSTD_freeCCtx(cctx);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kSampleBytes));
  state.counters["ratio"] = static_cast<double>(kSampleBytes) / static_cast<double>(out);
}

// Decompresses the sample compressed at the given level (bytes = output).
void BM_zstd_decompress(benchmark::State& state) {
  int level = static_cast<int>(state.range(0));
  const char* src = mixed_sample();
  std::vector<std::vector<char>> chunks;
  for (size_t off = 0; off < kSampleBytes; off += kChunk) {
    std::vector<char> c(ZSTD_compressBound(kChunk));
    c.resize(ZSTD_compress(c.data(), c.size(), src + off, kChunk, level));
    chunks.push_back(std::move(c));
  }
  std::vector<char> dst(kChunk);
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  for (auto _ : state)
    for (const auto& c : chunks)
      benchmark::DoNotOptimize(ZSTD_decompressDCtx(dctx, dst.data(), kChunk, c.data(), c.size()));
  ZSTD_freeDCtx(dctx);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kSampleBytes));
}

// Writes `bytes` of mixed data to a new file in `dir` opened with `flags`
// (O_DIRECT or none), in 8 MiB writes from the page-aligned sample, then
// fsync + close.
void write_floor(benchmark::State& state, const std::string& dir, size_t bytes, int flags) {
  const char* src = mixed_sample();
  std::string path = dir + "/ckpt_floor_write.tmp";
  for (auto _ : state) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | flags, 0600);
    if (fd < 0) return state.SkipWithError(("cannot create " + path).c_str());
    bool ok = true;
    for (size_t done = 0; ok && done < bytes;) {
      size_t n = std::min(kWriteBlock, bytes - done);
      ok = ::write(fd, src + done % kSampleBytes, n) == static_cast<ssize_t>(n);
      done += n;
    }
    ok = ok && ::fsync(fd) == 0;
    ::close(fd);
    state.PauseTiming();
    ::unlink(path.c_str());
    state.ResumeTiming();
    if (!ok) return state.SkipWithError(("cannot write " + path).c_str());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void BM_write_fsync(benchmark::State& state, std::string dir, size_t bytes) {
  write_floor(state, dir, bytes, 0);
}

void BM_write_direct(benchmark::State& state, std::string dir, size_t bytes) {
  write_floor(state, dir, bytes, O_DIRECT);
}

std::vector<size_t> parse_sizes(const char* text) {
  std::vector<size_t> out;
  for (const char* p = text; *p;) {
    char* end;
    out.push_back(std::strtoull(p, &end, 10));
    p = *end == ',' ? end + 1 : end;
    if (end == p && *p) break;
  }
  return out;
}

// Takes --dir and --write-bytes out of argv; the rest goes to the library.
void register_all(int* argc, char** argv) {
  std::string dir = "/tmp";
  std::vector<size_t> sizes = {256u << 20};
  int kept = 1;
  for (int i = 1; i < *argc; i++) {
    std::string a = argv[i];
    if (a == "--dir" && i + 1 < *argc)
      dir = argv[++i];
    else if (a == "--write-bytes" && i + 1 < *argc)
      sizes = parse_sizes(argv[++i]);
    else
      argv[kept++] = argv[i];
  }
  *argc = kept;
  benchmark::RegisterBenchmark("BM_memcpy", BM_memcpy)->MinTime(0.5);
  for (int level : {-1, 1}) {
    benchmark::RegisterBenchmark("BM_zstd_compress", BM_zstd_compress)->Arg(level)->MinTime(0.5);
    benchmark::RegisterBenchmark("BM_zstd_decompress", BM_zstd_decompress)
        ->Arg(level)
        ->MinTime(0.5);
  }
  for (size_t bytes : sizes) {
    benchmark::RegisterBenchmark(("BM_write_fsync/" + std::to_string(bytes)).c_str(),
                                 BM_write_fsync, dir, bytes)
        ->Iterations(1)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_write_direct/" + std::to_string(bytes)).c_str(),
                                 BM_write_direct, dir, bytes)
        ->Iterations(1)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all(&argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
