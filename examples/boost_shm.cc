// boost_shm: a parent and two children sharing a Boost.Interprocess
// managed_shared_memory segment (a file in /dev/shm) that holds a vector
// allocated inside the segment, an interprocess_mutex and an
// interprocess_condition. The three processes take turns (turn % 3 says
// whose), each appending values to the vector; after every round the parent
// prints "step r: size N checksum X". Try it under ckpt:
//
//   ckpt_launch ./boost_shm 60 100      # ROUNDS, PAUSE_MS per turn
//   ckpt_command --checkpoint; ckpt_command --kill; ckpt_restart
//
// The output is the same with or without checkpoints and restarts in
// between. Exit status 0; 1 with "FAIL: ..." when a check fails.
#include <sys/wait.h>
#include <unistd.h>

#include <boost/interprocess/allocators/allocator.hpp>
#include <boost/interprocess/containers/vector.hpp>
#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/sync/interprocess_condition.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace bip = boost::interprocess;

using Alloc = bip::allocator<uint64_t, bip::managed_shared_memory::segment_manager>;
using Values = bip::vector<uint64_t, Alloc>;

struct Shared {
  bip::interprocess_mutex mutex;
  bip::interprocess_condition turn_changed;
  uint32_t turn = 0;
};

constexpr int kProcs = 3;

[[noreturn]] void fail(const std::string& why) {
  std::printf("FAIL: %s\n", why.c_str());
  std::fflush(stdout);
  _exit(1);
}

uint64_t value_of(uint32_t turn, int proc, int i) {
  uint64_t h = (uint64_t{turn} << 20) ^ (uint64_t(proc) << 8) ^ uint64_t(i);
  h *= 0x9e3779b97f4a7c15ull;
  return h ^ (h >> 31);
}

uint64_t checksum(const Values& v) {
  uint64_t h = 1469598103934665603ull;
  for (uint64_t x : v) h = (h ^ x) * 1099511628211ull;
  return h;
}

// Waits for turns of `proc` and takes them until the last round is over.
void play(Shared* s, Values* values, int proc, int rounds, int pause_ms, bool report) {
  for (int r = 0; r < rounds; r++) {
    uint32_t mine = static_cast<uint32_t>(r * kProcs + proc);
    {
      bip::scoped_lock<bip::interprocess_mutex> lock(s->mutex);
      while (s->turn != mine) s->turn_changed.wait(lock);
      // Each turn appends turn % 5 + 1 values: the vector grows and moves
      // inside the segment.
      size_t expect = 0;
      for (uint32_t t = 0; t < mine; t++) expect += t % 5 + 1;
      if (values->size() != expect)
        fail("turn " + std::to_string(mine) + ": " + std::to_string(values->size()) +
             " values, expected " + std::to_string(expect));
      for (int i = 0; i < static_cast<int>(mine % 5 + 1); i++)
        values->push_back(value_of(mine, proc, i));
    }
    usleep(static_cast<useconds_t>(pause_ms) * 1000);
    {
      bip::scoped_lock<bip::interprocess_mutex> lock(s->mutex);
      s->turn = mine + 1;
      s->turn_changed.notify_all();
      if (report) {
        // The parent reports the round once the last child has had its turn.
        while (s->turn != static_cast<uint32_t>((r + 1) * kProcs)) s->turn_changed.wait(lock);
        std::printf("step %d: size %zu checksum %016llx\n", r, values->size(),
                    static_cast<unsigned long long>(checksum(*values)));
      }
    }
  }
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 60;
  int pause_ms = argc > 2 ? std::atoi(argv[2]) : 100;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string name = "ckpt_boost_shm_" + std::to_string(getpid());
  bip::shared_memory_object::remove(name.c_str());
  bip::managed_shared_memory segment(bip::create_only, name.c_str(), 1 << 20);
  auto* shared = segment.construct<Shared>("shared")();
  auto* values = segment.construct<Values>("values")(Alloc(segment.get_segment_manager()));
  pid_t kids[kProcs] = {};
  for (int p = 1; p < kProcs; p++) {
    kids[p] = fork();
    if (kids[p] < 0) fail("fork");
    if (kids[p] == 0) {
      play(shared, values, p, rounds, pause_ms, false);
      _exit(10 + p);
    }
  }
  play(shared, values, 0, rounds, pause_ms, true);
  for (int p = 1; p < kProcs; p++) {
    int st = 0;
    if (waitpid(kids[p], &st, 0) != kids[p] || !WIFEXITED(st) || WEXITSTATUS(st) != 10 + p)
      fail("child " + std::to_string(p) + " ended with wait status " + std::to_string(st));
  }
  std::printf("final: %zu values, checksum %016llx, segment %s\n", values->size(),
              static_cast<unsigned long long>(checksum(*values)),
              segment.check_sanity() ? "sane" : "CORRUPT");
  segment.destroy<Values>("values");
  segment.destroy<Shared>("shared");
  bip::shared_memory_object::remove(name.c_str());
  return 0;
}
