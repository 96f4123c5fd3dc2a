// The media engine with real sockets on 127.0.0.1: two streams of one engine talk to each
// other as the two ends of a call would. Checks what a user reads off a call record: packets
// both ways, no loss, a MOS for clean G.711, DTMF heard, hold stopping the sender, RTCP RTT.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "rtp/engine.hpp"
#include "rtp/engine_stream.hpp"
#include "rtp/packet.hpp"

using namespace sipfleet::rtp;
using namespace std::chrono_literals;

namespace {

engine_options test_options() {
  engine_options o;
  o.threads = 2;
  // Ports taken by another program (or a parallel test run) are skipped by open().
  o.first_port = 21000;
  o.last_port = 23999;
  o.rtcp_interval = 200ms;
  return o;
}

struct call_ends {
  stream_handle a, b;
  std::uint16_t port_a = 0, port_b = 0;
};

call_ends open_pair(engine& e, const stream_params& base, std::uint64_t tag_a = 0, std::uint64_t tag_b = 0) {
  call_ends c;
  std::string error;
  c.a = e.open("127.0.0.1", c.port_a, error, tag_a);
  REQUIRE_MESSAGE(c.a, error);
  c.b = e.open("127.0.0.1", c.port_b, error, tag_b);
  REQUIRE_MESSAGE(c.b, error);
  CHECK(c.port_a % 2 == 0);
  CHECK(c.port_b % 2 == 0);
  CHECK(c.port_a != c.port_b);
  stream_params pa = base, pb = base;
  pa.remote_address = pb.remote_address = "127.0.0.1";
  pa.remote_port = c.port_b;
  pb.remote_port = c.port_a;
  e.start(c.a, pa);
  e.start(c.b, pb);
  return c;
}

// The fields of /proc/self/task/*/stat, one vector per thread of this process, indexed by
// field number as proc(5) counts them (19: nice, 40: rt_priority, 41: policy).
std::vector<std::vector<std::string>> thread_stats() {
  std::vector<std::vector<std::string>> out;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "stat");
    std::string line;
    std::getline(in, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;  // the thread ended while we read
    std::vector<std::string> fields(3);  // 1 (pid) and 2 (comm) left empty
    std::istringstream rest(line.substr(close + 2));
    for (std::string f; rest >> f;) fields.push_back(f);
    out.push_back(std::move(fields));
  }
  return out;
}

// A peer that is not the engine: a UDP socket on 127.0.0.1 sending RTP packets to a stream
// of the engine that only receives (its socket is read every packet time).
struct plain_peer {
  int fd = -1;
  std::uint16_t port = 0;  // the stream's
  stream_handle stream;
  sockaddr_in to{};

  plain_peer(engine& e, std::uint32_t ptime_ms) {
    fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in me{};
    me.sin_family = AF_INET;
    me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me) == 0);
    socklen_t len = sizeof me;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&me), &len) == 0);
    std::string error;
    stream = e.open("127.0.0.1", port, error);
    REQUIRE_MESSAGE(stream, error);
    stream_params p;
    p.remote_address = "127.0.0.1";
    p.remote_port = ntohs(me.sin_port);
    p.send = false;
    p.ptime_ms = ptime_ms;
    e.start(stream, p);
    to = me;
    to.sin_port = htons(port);
  }
  ~plain_peer() { ::close(fd); }
  plain_peer(const plain_peer&) = delete;
  plain_peer& operator=(const plain_peer&) = delete;

  void send(std::uint16_t sequence, std::uint32_t timestamp) {
    std::array<std::uint8_t, 172> bytes{};
    header h;
    h.sequence = sequence;
    h.timestamp = timestamp;
    h.ssrc = 0xfeed;
    write_header(h, bytes);
    REQUIRE(::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 172);
  }
};

}  // namespace

TEST_CASE("engine: a G.711 call both ways, no loss, MOS of clean G.711, RTCP round trip") {
  engine e(test_options());
  stream_params p;
  p.codec = codec::pcma;
  p.payload_type = 8;
  p.event_payload_type = 101;
  auto c = open_pair(e, p);
  std::this_thread::sleep_for(1000ms);
  CHECK(e.totals().streams_sending == 2);
  const auto sa = e.close(c.a);
  std::this_thread::sleep_for(50ms);  // b's last packets from a arrive
  const auto sb = e.close(c.b);
  // 20 ms packets for about a second
  CHECK(sa.packets_sent >= 40);
  CHECK(sa.packets_sent <= 55);
  CHECK(sb.packets_sent >= 40);
  // b got everything a sent (a closed first); a got all but what b sent in the last 50 ms
  CHECK(sb.packets_received == sa.packets_sent);
  CHECK(sa.packets_received + 4 >= sb.packets_sent);
  CHECK(sa.lost == 0);
  CHECK(sb.lost == 0);
  CHECK(sb.duplicates == 0);
  CHECK(sb.jitter_ms < 5.0);
  CHECK(sb.mos >= 4.2);
  CHECK(sb.mos <= 4.5);
  // RTCP every 200 ms here: reports went both ways and the round trip was measured
  CHECK(sa.rtcp_sent >= 2);
  CHECK(sb.rtcp_received >= 2);
  REQUIRE(sa.rtt_ms.has_value());
  CHECK(*sa.rtt_ms >= 0.0);
  CHECK(*sa.rtt_ms < 50.0);
  CHECK(sa.malformed == 0);
  const auto t = e.totals();
  CHECK(t.streams_open == 0);
  CHECK(t.packets_sent == sa.packets_sent + sb.packets_sent);
  CHECK(t.late_samples >= t.packets_sent);
}

TEST_CASE("engine: DTMF digits sent as RFC 4733 events are detected once each by the peer") {
  engine e(test_options());
  stream_params p;
  p.event_payload_type = 101;
  auto c = open_pair(e, p);
  e.send_digits(c.a, "1x5#");  // 'x' is not a DTMF digit: skipped
  // 3 digits: each 100 ms of event + 3 end packets (60 ms) + 100 ms gap
  std::this_thread::sleep_for(1000ms);
  const auto sa = e.close(c.a);
  const auto sb = e.close(c.b);
  CHECK(sa.digits_sent == "15#");
  CHECK(sb.digits_received == "15#");
  CHECK(sa.digits_received.empty());
  CHECK(sb.lost == 0);
}

TEST_CASE("engine: each digit heard is told as it comes, with the tag of the stream that heard it") {
  engine e(test_options());
  std::mutex mutex;
  std::vector<std::pair<std::uint64_t, char>> heard;
  e.set_digit_listener([&](std::uint64_t tag, char digit) {
    std::lock_guard lock(mutex);
    heard.emplace_back(tag, digit);
  });
  stream_params p;
  p.event_payload_type = 101;
  auto c = open_pair(e, p, 0xA, 0xB00000007ULL);
  e.send_digits(c.a, "9*");
  std::this_thread::sleep_for(800ms);
  {
    std::lock_guard lock(mutex);  // before the streams close: told live, not at the end
    REQUIRE(heard.size() == 2);
    CHECK(heard[0] == std::pair<std::uint64_t, char>{0xB00000007ULL, '9'});
    CHECK(heard[1] == std::pair<std::uint64_t, char>{0xB00000007ULL, '*'});
  }
  e.set_digit_listener({});
  (void)e.close(c.a);
  CHECK(e.close(c.b).digits_received == "9*");
}

TEST_CASE("engine: DTMF is not sent when no telephone-event payload type was agreed") {
  engine e(test_options());
  stream_params p;  // event_payload_type none
  auto c = open_pair(e, p);
  e.send_digits(c.a, "123");
  std::this_thread::sleep_for(400ms);
  const auto sa = e.close(c.a);
  const auto sb = e.close(c.b);
  CHECK(sa.digits_sent.empty());
  CHECK(sb.digits_received.empty());
  CHECK(sb.packets_received > 10);
}

TEST_CASE("engine: hold stops the holding side's RTP, resume starts it again") {
  engine e(test_options());
  stream_params p;
  p.remote_address = "127.0.0.1";
  auto c = open_pair(e, p);
  std::this_thread::sleep_for(300ms);
  stream_params held = p;
  held.remote_port = c.port_b;
  held.send = false;  // a sendonly offer from b, answered recvonly: a does not send
  e.start(c.a, held);
  std::this_thread::sleep_for(100ms);  // the last packet in flight arrives
  CHECK(e.totals().streams_sending == 1);
  const auto received_before = e.totals().packets_received;
  std::this_thread::sleep_for(400ms);
  // a, which does not send now, still takes in b's stream: 20 packets in 400 ms, and nobody
  // else receives anything
  CHECK(e.totals().packets_received - received_before >= 15);
  stream_params resumed = held;
  resumed.send = true;
  e.start(c.a, resumed);
  std::this_thread::sleep_for(400ms);
  const auto sa = e.close(c.a);
  std::this_thread::sleep_for(50ms);  // b takes in a's last packet
  const auto sb = e.close(c.b);
  // about 300 + 400 ms of sending out of 1.2 s; b's statistics see no loss across the
  // gap: the sequence numbers go on where they stopped (RFC 3550 §5.1)
  CHECK(sa.packets_sent >= 28);
  CHECK(sa.packets_sent <= 45);
  CHECK(sb.packets_received == sa.packets_sent);
  CHECK(sb.lost == 0);
  CHECK(sb.packets_sent >= 50);
  CHECK(sa.lost == 0);
}

TEST_CASE("engine: jitter is measured at each packet's arrival, not when the worker reads the socket") {
  // A stream that does not send reads its socket every packet time. A peer sends 20 ms
  // packets, every other one 8 ms late: the A.8 jitter worked out from the send times must be
  // what the stream reports (packets read at the worker's polls would give a different one).
  engine e(test_options());
  plain_peer peer(e, 20);
  double jitter = 0;  // A.8, in timestamp units, from the send times
  std::chrono::steady_clock::time_point previous{};
  const auto t0 = std::chrono::steady_clock::now() + 20ms;
  for (std::uint16_t i = 0; i < 60; ++i) {
    std::this_thread::sleep_until(t0 + i * 20ms + (i % 2 == 1 ? 8ms : 0ms));
    peer.send(static_cast<std::uint16_t>(1000 + i), 160u * i);
    const auto sent = std::chrono::steady_clock::now();
    if (i > 0) {
      const double d = std::chrono::duration<double>(sent - previous).count() * 8000.0 - 160.0;
      jitter += (std::abs(d) - jitter) / 16.0;
    }
    previous = sent;
  }
  std::this_thread::sleep_for(60ms);
  const auto s = e.close(peer.stream);
  CHECK(s.packets_received == 60);
  CHECK(s.lost == 0);
  const double expected_ms = jitter / 8.0;  // about 7.7 ms
  CHECK(expected_ms > 5.0);
  CHECK(std::abs(s.jitter_ms - expected_ms) < 1.0);
}

TEST_CASE("engine: a backlog of datagrams is read at once, past the kernel's 32 per multishot read") {
  // A receive-only stream with 60 ms packets gets 150 at once (a peer's burst after a
  // stall): one read of the socket ends after 32, so the worker must read again at once.
  engine e(test_options());
  plain_peer peer(e, 60);
  std::this_thread::sleep_for(100ms);
  for (std::uint16_t i = 0; i < 150; ++i) peer.send(static_cast<std::uint16_t>(500 + i), 480u * i);
  // within one packet time (60 ms) and a margin, all of it; 32 per read would give ~64
  std::this_thread::sleep_for(100ms);
  CHECK(e.totals().packets_received == 150);
  const auto s = e.close(peer.stream);
  CHECK(s.packets_received == 150);
  CHECK(s.lost == 0);
  CHECK(e.totals().receive_errors == 0);
}

TEST_CASE("engine: junk on an RTP port is counted and the stream goes on") {
  engine e(test_options());
  stream_params p;
  auto c = open_pair(e, p);
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(c.port_b);
  const char junk[] = "not rtp";
  for (int i = 0; i < 3; ++i)
    CHECK(::sendto(fd, junk, 3, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) == 3);
  ::close(fd);
  std::this_thread::sleep_for(400ms);
  const auto sa = e.close(c.a);
  std::this_thread::sleep_for(50ms);  // b takes in a's last packet
  const auto sb = e.close(c.b);
  CHECK(sb.malformed == 3);
  CHECK(sb.packets_received == sa.packets_sent);
  CHECK(sb.lost == 0);
  CHECK(e.totals().malformed == 3);
}

TEST_CASE("engine: a used-up port range is a clear error, and closed ports come back after their rest") {
  engine_options o = test_options();
  o.first_port = 24000;
  o.last_port = 24011;  // a few pairs; some may be held by another program: skipped
  o.port_rest = 100ms;
  engine e(o);
  std::vector<stream_handle> open;
  std::string error;
  for (;;) {
    std::uint16_t port = 0;
    auto h = e.open("127.0.0.1", port, error);
    if (!h) break;
    CHECK(port >= 24000);
    CHECK(port <= 24010);
    open.push_back(h);
    REQUIRE(open.size() <= 6);
  }
  CHECK(error.find("no free RTP port in 24000-24011") != std::string::npos);
  CHECK(e.totals().open_failures >= 1);
  if (open.empty()) return;  // every port of the range is held elsewhere: nothing more to see
  for (auto h : open) e.close(h);
  std::this_thread::sleep_for(300ms);  // the close reaches the worker, then the rest passes
  std::uint16_t port = 0;
  auto again = e.open("127.0.0.1", port, error);
  CHECK(again);
  e.close(again);
  CHECK(e.open("not-an-address", port, error).generation == 0);
  CHECK(error.find("not an IP address") != std::string::npos);
}

TEST_CASE("engine: its workers run at the nice value asked for, the rest of the process does not") {
  // A nice value above the process's own needs no privilege, so this holds for any user.
  errno = 0;
  const int before = ::getpriority(PRIO_PROCESS, 0);  // this thread's
  REQUIRE(errno == 0);
  if (before > 16) {  // no room above it to tell the workers from the other threads
    MESSAGE("skipped: this process already runs at nice " << before);
    return;
  }
  auto o = test_options();
  o.worker_nice = std::min(before + 3, 19);
  engine e(o);
  CHECK(e.totals().worker_nice == o.worker_nice);
  CHECK(::getpriority(PRIO_PROCESS, 0) == before);
  // And the threads themselves, as ps would show them: the 19th field of /proc/.../stat.
  int at_nice = 0;
  for (const auto& t : thread_stats())
    if (t.size() > 19 && std::stoi(t[19]) == o.worker_nice) ++at_nice;
  CHECK(at_nice == 2);
}

TEST_CASE("engine stream: a packet in flight as we go on hold counts in the sequence, not as lost") {
  // The holder answers sendonly and stops taking the peer's media (RFC 3264 §5.1), but the
  // peer's packet sent before it learnt of the hold still arrives: it is neither lost nor
  // taken as media. Seen as a lost packet in a hold test through Kamailio before.
  using namespace sipfleet::rtp::detail;
  stream_slot s;
  s.started = true;
  s.params.receive = true;
  s.epoch = std::chrono::steady_clock::now();
  sockaddr_storage from{};
  auto* in = reinterpret_cast<sockaddr_in*>(&from);
  in->sin_family = AF_INET;
  in->sin_port = htons(40000);
  in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::array<std::uint8_t, 172> bytes{};
  auto arrive = [&](std::uint16_t seq) {
    header h;
    h.sequence = seq;
    h.timestamp = seq * 160u;
    h.ssrc = 0x1234;
    write_header(h, bytes);
    CHECK(take_rtp(s, bytes, from, std::chrono::steady_clock::now()));
  };
  for (std::uint16_t seq = 100; seq < 110; ++seq) arrive(seq);
  s.params.receive = false;  // on hold: sendonly
  arrive(110);               // sent before the peer knew
  s.params.receive = true;   // resumed; the peer's stream goes on
  for (std::uint16_t seq = 111; seq < 120; ++seq) arrive(seq);
  const auto sum = summarize(s);
  CHECK(sum.packets_received == 20);
  CHECK(sum.lost == 0);
  CHECK(sum.expected == sum.packets_received - 1);  // the first packet is A.1's probation
}

TEST_CASE("engine: workers asked for real-time scheduling run SCHED_FIFO where allowed, and still carry a call") {
  // Whether this process may use SCHED_FIFO at all (root, CAP_SYS_NICE or RLIMIT_RTPRIO).
  bool allowed = false;
  std::thread([&] {
    sched_param p{};
    p.sched_priority = 7;
    allowed = pthread_setschedparam(pthread_self(), SCHED_FIFO, &p) == 0;
  }).join();
  auto o = test_options();
  o.worker_rt_priority = 7;
  engine e(o);
  int fifo7 = 0;  // threads at SCHED_FIFO priority 7 (policy field 41, rt_priority field 40)
  for (const auto& t : thread_stats())
    if (t.size() > 41 && std::stoi(t[41]) == SCHED_FIFO && std::stoi(t[40]) == 7) ++fifo7;
  int policy = -1;
  sched_param mine{};
  REQUIRE(pthread_getschedparam(pthread_self(), &policy, &mine) == 0);
  CHECK(policy == SCHED_OTHER);  // the thread that made the engine is left alone
  CHECK(e.totals().workers == 2);
  if (allowed) {
    CHECK(e.totals().worker_rt_priority == 7);
    CHECK(e.totals().rt_workers == 2);
    // the two workers (and io_uring's helper threads, which copy their creator's scheduling)
    CHECK(fifo7 >= 2);
  } else {
    MESSAGE("SCHED_FIFO is not allowed here: checking that the refusal is reported");
    CHECK(e.totals().worker_rt_priority == 0);
    CHECK(e.totals().rt_workers == 0);
    CHECK(fifo7 == 0);
  }
  CHECK(e.totals().rt_demotions == 0);
  stream_params p;
  auto c = open_pair(e, p);
  std::this_thread::sleep_for(500ms);
  const auto sa = e.close(c.a);
  std::this_thread::sleep_for(50ms);
  const auto sb = e.close(c.b);
  CHECK(sa.packets_sent >= 20);
  CHECK(sb.packets_received == sa.packets_sent);
  CHECK(sb.lost == 0);
  CHECK(e.totals().rt_demotions == 0);  // two streams are far from overloading a worker
}
