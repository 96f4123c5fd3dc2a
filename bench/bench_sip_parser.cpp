// Parse throughput of the SIP core on one core: a typical INVITE with SDP and a typical
// 200 OK, as a phone behind Kamailio sees them. Prints messages per second and nanoseconds
// per message. Target (issue 2): at least 1,000,000 parses/s of the 200 OK.
//   build/release/bench/bench_sip_parser [SECONDS_PER_CASE]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bench_messages.hpp"
#include "sip/message.hpp"

namespace {

volatile std::size_t g_sink = 0;

template <class F>
void run(const char* name, double seconds, std::size_t bytes, F&& f) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < 10000; ++i) f();  // warm up
  std::size_t n = 0;
  const auto start = clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  auto now = start;
  while (now < until) {
    for (int i = 0; i < 1000; ++i) f();
    n += 1000;
    now = clock::now();
  }
  const double elapsed = std::chrono::duration<double>(now - start).count();
  std::printf("%-34s %10.0f msg/s %8.1f ns/msg %8.1f MB/s\n", name, n / elapsed,
              elapsed * 1e9 / n, n * bytes / elapsed / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sipfleet::sip;
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  const std::string invite = sipfleet::bench::typical_invite();
  const std::string ok = sipfleet::bench::typical_200_ok();
  if (!message::parse(invite) || !message::parse(ok)) {
    std::fprintf(stderr, "bench: the sample messages do not parse\n");
    return 1;
  }
  std::printf("sip parser, one thread (%zu-byte INVITE, %zu-byte 200 OK)\n", invite.size(),
              ok.size());
  run("parse INVITE with SDP", seconds, invite.size(), [&] {
    auto m = message::parse(invite);
    g_sink = g_sink + m->headers().size();
  });
  run("parse 200 OK with SDP", seconds, ok.size(), [&] {
    auto m = message::parse(ok);
    g_sink = g_sink + m->headers().size();
  });
  return 0;
}
