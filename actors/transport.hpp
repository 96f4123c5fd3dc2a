// The SIP transport (Boost.Asio, one I/O thread): UDP sockets, or for TCP one connection to the
// proxy per local address (from the advertised port, framed by Content-Length, RFC 3261 §18.3),
// turning datagrams and streams into parsed messages routed to phones without a global lock on
// the hot path:
//   - a request goes to the phone named by its Request-URI user (the Contact each phone
//     registers is sip:USER@LOCAL_IP:PORT, so in-dialog requests carry the user too);
//   - a response goes to the phone whose route key is in the top Via branch
//     ("z9hG4bK" + route_key + "." + random, see actors/ua/phone.hpp).
// The routing tables are built before start(); afterwards only the I/O thread touches them
// (phones added and removed by the API are routed through it, update_routes). A request for a user
// this process does not hold is answered 404 here, statelessly; a malformed message is handed
// to the phone it names (which answers 400) or counted and dropped.
// Sends come from many threads at once (mostly the I/O thread itself, which runs the phones it
// wakes; also CAF's workers). A CAF worker's goes straight to the socket (sendto is
// thread-safe), never through the I/O thread's queue. The I/O thread's own sends wait for the
// end of the wake-up that caused them (datagrams read with recvmmsg, a timer tick) and leave
// together with sendmmsg: one system call per batch instead of one per datagram. Under load the
// I/O thread does not wake for each datagram at all but reads once per `batch_window`.
// Asio stays in transport.cpp: this header is all the rest of the program sees.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/stats.hpp"
#include "actors/ua/phone.hpp"
#include "sip/message.hpp"
#include "sip/result.hpp"

namespace sipfleet::actors {

struct transport_options {
  std::vector<std::string> local_ips{"127.0.0.1"};  // one socket per address
  std::uint16_t port = 0;                             // 0: any free port (the same on each address when possible)
  ua::transport_kind kind = ua::transport_kind::udp;
  ua::endpoint proxy{};  // TCP: the connection goes here
  // Under load the I/O thread reads its sockets once per this window instead of waking for
  // each datagram (transport.cpp, run_loop); 0: always wake per datagram.
  std::chrono::microseconds batch_window{1000};
};

// Where a phone's traffic goes: its socket and its route key.
struct phone_route {
  std::string user;
  std::size_t socket = 0;
};

class transport {
 public:
  using deliver_fn = std::function<void(std::size_t phone, std::shared_ptr<const sip::message> message,
                                        ua::endpoint from)>;
  using malformed_fn =
      std::function<void(std::size_t phone, std::string bytes, std::string reason, ua::endpoint from)>;

  // Binds the sockets; an error names the address that could not be bound.
  static sip::result<std::unique_ptr<transport>> open(const transport_options& options, run_stats& stats);
  virtual ~transport() = default;

  virtual std::size_t socket_count() const = 0;
  virtual ua::endpoint local_endpoint(std::size_t socket) const = 0;

  // Phone i is routes[i]; call before start().
  virtual void set_routes(std::vector<phone_route> routes) = 0;
  // Phones added (fleet index, user) and removed (user) while running; returns when the I/O
  // thread routes by the new tables. Never call it from the I/O thread.
  virtual void update_routes(std::vector<std::pair<std::size_t, std::string>> add,
                             std::vector<std::string> remove) = 0;
  // Runs `tick` on the I/O thread at start() and then whenever the time it returns comes
  // (time_point::max(): not until woken), until stop(); call before start(). The fleet's timer
  // wheel is advanced there, so that timers, datagrams and the phones they wake share one
  // thread. wake_ticker() (any thread) runs `tick` again soon, e.g. when an earlier timer was
  // set while the thread slept.
  using tick_fn = std::function<std::chrono::steady_clock::time_point()>;
  virtual void set_ticker(tick_fn tick) = 0;
  virtual void wake_ticker() = 0;
  virtual void start(deliver_fn deliver, malformed_fn malformed) = 0;
  virtual void stop() = 0;

  virtual void send(std::size_t socket, const ua::endpoint& to, std::string_view bytes) = 0;
};

// Route keys: the phone index in base 36, and back.
std::string route_key_of(std::size_t phone);
// The phone index from a branch "z9hG4bK<key>.<random>"; npos when it is not one of ours.
std::size_t phone_from_branch(std::string_view branch);

}  // namespace sipfleet::actors
