// The SIP transport's I/O thread under load (actors/transport.cpp, run_loop): with a batch
// window it reads once per window instead of waking for each datagram, and nothing is lost or
// left waiting when the traffic stops. A plain UDP socket plays the proxy.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "actors/transport.hpp"

using namespace sipfleet;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

std::string options_request(int n) {
  const auto id = std::to_string(n);
  return "OPTIONS sip:1000@127.0.0.1 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-t" + id + "\r\n"
         "Max-Forwards: 70\r\n"
         "From: <sip:peer@127.0.0.1>;tag=p" + id + "\r\n"
         "To: <sip:1000@127.0.0.1>\r\n"
         "Call-ID: c" + id + "\r\n"
         "CSeq: 1 OPTIONS\r\n"
         "Content-Length: 0\r\n\r\n";
}

// Runs a transport with one phone ("1000") and records when each request reached it.
struct harness {
  explicit harness(std::chrono::microseconds window) {
    actors::transport_options o;
    o.batch_window = window;
    auto t = actors::transport::open(o, stats);
    REQUIRE(t.ok());
    net = std::move(t).value();
    net->set_routes({{"1000", 0}});
    net->start(
        [this](std::size_t, std::shared_ptr<const sip::message> m, ua::endpoint) {
          const auto now = clock_type::now();
          std::lock_guard lock(mutex);
          io_thread = static_cast<long>(::syscall(SYS_gettid));
          const int n = std::stoi(std::string(m->call_id().substr(1)));
          if (n >= 0 && static_cast<std::size_t>(n) < arrived.size()) arrived[static_cast<std::size_t>(n)] = now;
          ++count;
          changed.notify_all();
        },
        [](std::size_t, std::string, std::string, ua::endpoint) {});
    port = net->local_endpoint(0).port;
    peer = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(peer >= 0);
  }
  ~harness() {
    net->stop();
    ::close(peer);
  }

  // Sends requests 0..n-1, one every `spacing`, and waits (at most 5 s) until all arrived.
  bool send_all(int n, std::chrono::microseconds spacing) {
    {
      std::lock_guard lock(mutex);
      arrived.assign(static_cast<std::size_t>(n), clock_type::time_point{});
      sent.assign(static_cast<std::size_t>(n), clock_type::time_point{});
      count = 0;
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    auto next = clock_type::now();
    for (int i = 0; i < n; ++i) {
      std::this_thread::sleep_until(next);
      next += spacing;
      const auto bytes = options_request(i);
      sent[static_cast<std::size_t>(i)] = clock_type::now();
      ::sendto(peer, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    }
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 5s, [&] { return count == n; });
  }

  // Wake-ups seen from the phone's side: arrivals more than `gap` after the previous one.
  int wakeups(std::chrono::microseconds gap) const {
    std::vector<clock_type::time_point> t(arrived);
    std::sort(t.begin(), t.end());
    int groups = 0;
    for (std::size_t i = 0; i < t.size(); ++i)
      if (i == 0 || t[i] - t[i - 1] > gap) ++groups;
    return groups;
  }

  // How often the I/O thread has gone to sleep and been woken (voluntary context switches).
  long sleeps() {
    std::lock_guard lock(mutex);
    std::ifstream status("/proc/self/task/" + std::to_string(io_thread) + "/status");
    std::string line;
    while (std::getline(status, line))
      if (line.starts_with("voluntary_ctxt_switches:")) return std::stol(line.substr(24));
    return -1;
  }

  actors::run_stats stats;
  std::unique_ptr<actors::transport> net;
  long io_thread = 0;
  std::uint16_t port = 0;
  int peer = -1;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<clock_type::time_point> arrived;
  std::vector<clock_type::time_point> sent;
  int count = 0;
};

}  // namespace

TEST_CASE("transport: under load the I/O thread reads once per batch window, and the last datagram is not left waiting") {
  // 200 requests 1 ms apart, with a 10 ms window: about 20 reads of ~10 datagrams each. Woken
  // per datagram it would be about 200.
  harness h(10ms);
  REQUIRE(h.send_all(200, 1000us));
  const int wakeups = h.wakeups(300us);
  MESSAGE("wake-ups seen with a 10 ms window: " << wakeups << " for 200 datagrams");
  CHECK(wakeups <= 80);
  // Each waited at most about one window (plus this VM's scheduling), including the last,
  // which no later datagram came to fetch.
  auto worst = clock_type::duration::zero();
  for (std::size_t i = 0; i < h.sent.size(); ++i) worst = std::max(worst, h.arrived[i] - h.sent[i]);
  MESSAGE("longest wait: " << std::chrono::duration<double, std::milli>(worst).count() << " ms");
  CHECK(worst < 80ms);

  // Once the traffic stops the thread goes back to waiting on the sockets: no wake-ups at all
  // while nothing comes (a thread left batching would wake every window, ~30 times here).
  std::this_thread::sleep_for(50ms);
  const long before = h.sleeps();
  std::this_thread::sleep_for(300ms);
  const long after = h.sleeps();
  REQUIRE(before >= 0);
  MESSAGE("I/O thread wake-ups in 300 ms of quiet: " << after - before);
  CHECK(after - before <= 3);
}

TEST_CASE("transport: a lone request is handled as it comes, not a window later") {
  // A long window (50 ms) after a burst: each lone request that follows is read when it
  // arrives, not when a window ends.
  harness h(50ms);
  REQUIRE(h.send_all(50, 500us));
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(100ms);
    REQUIRE(h.send_all(1, 0us));
    const auto waited = h.arrived[0] - h.sent[0];
    MESSAGE("lone request " << i << " waited " << std::chrono::duration<double, std::milli>(waited).count() << " ms");
    CHECK(waited < 20ms);
  }
}

TEST_CASE("transport: with --sip-batch 0 each datagram is read as it arrives") {
  harness h(0us);
  REQUIRE(h.send_all(200, 1000us));
  const int wakeups = h.wakeups(300us);
  MESSAGE("wake-ups seen without a window: " << wakeups << " for 200 datagrams");
  // Most datagrams are handled on their own (a busy CI machine may delay a few into pairs).
  CHECK(wakeups >= 120);
}

TEST_CASE("transport: while batching, a route added from another thread takes effect and stop() is prompt") {
  harness h(10ms);
  std::thread burst([&] { (void)h.send_all(300, 500us); });
  std::this_thread::sleep_for(30ms);  // the I/O thread is batching by now
  const auto t0 = clock_type::now();
  h.net->update_routes({{1, "1001"}}, {});  // returns once the I/O thread has applied it
  const auto took = clock_type::now() - t0;
  MESSAGE("update_routes while batching: " << std::chrono::duration<double, std::milli>(took).count() << " ms");
  CHECK(took < 500ms);
  burst.join();

  // The new phone is reachable: a request for 1001 reaches phone 1 (counted like the others).
  const int before = [&] {
    std::lock_guard lock(h.mutex);
    return h.count;
  }();
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(h.port);
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  auto bytes = options_request(0);
  bytes.replace(bytes.find("sip:1000@"), 9, "sip:1001@");
  ::sendto(h.peer, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  {
    std::unique_lock lock(h.mutex);
    CHECK(h.changed.wait_for(lock, 2s, [&] { return h.count == before + 1; }));
  }
  CHECK(h.stats.unroutable.load() == 0);

  // stop() in the middle of a burst returns within a window or so.
  std::thread late([&] { (void)h.send_all(100, 500us); });  // waits 5 s for what never comes
  std::this_thread::sleep_for(20ms);
  const auto s0 = clock_type::now();
  h.net->stop();
  const auto stopping = clock_type::now() - s0;
  MESSAGE("stop() while batching: " << std::chrono::duration<double, std::milli>(stopping).count() << " ms");
  CHECK(stopping < 500ms);
  late.join();
}
