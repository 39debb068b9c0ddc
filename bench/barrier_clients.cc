// bench_barrier_clients: N lightweight fake processes of one job, in one
// program, for timing the coordinator's checkpoint barrier with many peers.
// Each registers with the coordinator (CoordinatorLink handshake), then all
// are served from one epoll loop: Suspend -> Suspended, Write -> create a
// small image file in the generation dir -> Written, Resume -> done.
//
//   bench_barrier_clients --port P --dir D [--host H] [--count N]
//
// Prints "ready N" once every fake process is registered, then, per
// checkpoint, "checkpoint G clients_ms X" (first Suspend to last Resume as the
// fakes saw it). Exits on Kill, when the coordinator goes away, or on SIGTERM.
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/frame.h"
#include "common/job_secret.h"
#include "common/settings.h"
#include "launcher/common/coordinator_link.h"

namespace ckpt::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  Settings settings;
  int count = 1000;
};

struct FakeProcess {
  int index = 0;
  CoordinatorLink link;
  std::vector<uint8_t> in;
  std::string gen_dir;
};

struct Barrier {  // one checkpoint as the fakes see it
  uint64_t generation = 0;
  Clock::time_point first_suspend;
  int resumed = 0;
};

Options parse_options(int argc, char** argv) {
  Options o;
  o.settings.host = "127.0.0.1";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--port")
      o.settings.port = static_cast<uint16_t>(std::stoi(v));
    else if (a == "--dir")
      o.settings.dir = v;
    else if (a == "--host")
      o.settings.host = v;
    else if (a == "--count")
      o.count = std::stoi(v);
  }
  if (o.settings.dir.empty()) {
    std::fprintf(stderr, "usage: bench_barrier_clients --port P --dir D [--count N]\n");
    std::exit(2);
  }
  return o;
}

void raise_fd_limit() {
  rlimit r;
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

std::string image_name(int index) { return "ckpt_fake_" + std::to_string(index) + ".img"; }

bool send_frame(FakeProcess& p, proto::Msg type, const ByteWriter& payload) {
  std::vector<uint8_t> out;
  append_frame(&out, type, payload);
  return ::send(p.link.fd(), out.data(), out.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(out.size());
}

template <typename Body>
bool send_message(FakeProcess& p, proto::Msg type, const Body& body) {
  ByteWriter w;
  body.encode(w);
  return send_frame(p, type, w);
}

// Answers one frame; false when this fake should stop (Kill).
bool on_frame(FakeProcess& p, const Frame& f, Barrier& b, int count) {
  if (f.type == proto::Msg::kSuspend) {
    proto::Suspend s;
    decode_payload(f, &s);
    if (s.generation != b.generation) b = Barrier{s.generation, Clock::now(), 0};
    p.gen_dir = std::string(s.dir);
    send_message(p, proto::Msg::kSuspended, proto::Suspended{1, ""});
  } else if (f.type == proto::Msg::kSnapshot) {
    send_message(p, proto::Msg::kSnapshotted, proto::Snapshotted{1, ""});
  } else if (f.type == proto::Msg::kWrite) {
    std::string name = image_name(p.index);
    std::ofstream(p.gen_dir + "/" + name) << "fake image of process " << p.index << "\n";
    send_message(p, proto::Msg::kWritten, proto::Written{1, "", name, 64});
  } else if (f.type == proto::Msg::kResume) {
    if (++b.resumed == count) {
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - b.first_suspend).count();
      std::printf("checkpoint %llu clients_ms %.3f\n",
                  static_cast<unsigned long long>(b.generation), ms);
      std::fflush(stdout);
    }
  } else if (f.type == proto::Msg::kKill) {
    return false;
  }
  return true;
}

// Reads what is available and handles every complete frame; false on EOF,
// error or Kill.
bool on_readable(FakeProcess& p, Barrier& b, int count) {
  uint8_t buf[65536];
  ssize_t n = ::recv(p.link.fd(), buf, sizeof buf, MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return false;
  if (n > 0) p.in.insert(p.in.end(), buf, buf + n);
  size_t pos = 0;
  while (p.in.size() - pos >= sizeof(proto::FrameHeader)) {
    proto::FrameHeader h;
    std::memcpy(&h, p.in.data() + pos, sizeof h);
    if (check_header(h) != HeaderCheck::kOk) return false;
    if (p.in.size() - pos - sizeof h < h.size) break;
    Frame f{static_cast<proto::Msg>(h.type), {}};
    const uint8_t* body = p.in.data() + pos + sizeof h;
    f.payload.assign(body, body + h.size);
    pos += sizeof h + h.size;
    if (!on_frame(p, f, b, count)) return false;
  }
  p.in.erase(p.in.begin(), p.in.begin() + static_cast<long>(pos));
  return true;
}

std::vector<std::unique_ptr<FakeProcess>> register_all(const Options& o, const Secret& secret) {
  std::vector<std::unique_ptr<FakeProcess>> fakes;
  std::string host = "benchhost";
  std::string program = "fake";
  for (int i = 0; i < o.count; i++) {
    auto p = std::make_unique<FakeProcess>();
    p->index = i;
    int32_t vpid = 2'000'000 + i;
    proto::ProcessInfo info{vpid, 1, vpid, -1, 0, host, program};
    if (p->link.open(o.settings, secret, proto::Role::kProcess, &info) != LinkStatus::kOk) {
      std::fprintf(stderr, "bench_barrier_clients: fake %d: %s\n", i, p->link.error().c_str());
      std::exit(1);
    }
    fakes.push_back(std::move(p));
  }
  return fakes;
}

int serve(std::vector<std::unique_ptr<FakeProcess>>& fakes) {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  for (size_t i = 0; i < fakes.size(); i++) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fakes[i]->link.fd(), &ev);
  }
  Barrier barrier;
  int count = static_cast<int>(fakes.size());
  epoll_event events[256];
  for (;;) {
    int n = ::epoll_wait(ep, events, 256, 60'000);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < n; i++)
      if (!on_readable(*fakes[events[i].data.u64], barrier, count)) return 0;
  }
}

}  // namespace
}  // namespace ckpt::bench

int main(int argc, char** argv) {
  using namespace ckpt::bench;
  Options o = parse_options(argc, argv);
  raise_fd_limit();
  std::string error;
  auto secret = ckpt::load_secret(o.settings.dir, &error);
  if (!secret) {
    std::fprintf(stderr, "bench_barrier_clients: no job secret in %s: %s\n", o.settings.dir.c_str(),
                 error.c_str());
    return 1;
  }
  auto fakes = register_all(o, *secret);
  std::printf("ready %zu\n", fakes.size());
  std::fflush(stdout);
  return serve(fakes);
}
