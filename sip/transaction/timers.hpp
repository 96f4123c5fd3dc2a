// The SIP transaction timers and the vocabulary the four RFC 3261 §17 machines share.
//
// RFC 3261 Table 4 (with RFC 6026 §8.11 adding L and M):
//
//   Timer    Value             Section          Meaning
//   T1       500 ms default    17.1.1.1         RTT estimate
//   T2       4 s               17.1.2.2         maximum retransmit interval for non-INVITE
//                                               requests and INVITE responses
//   T4       5 s               17.1.2.2         maximum time a message stays in the network
//   Timer A  initially T1      17.1.1.2         INVITE request retransmit interval, UDP only
//   Timer B  64*T1             17.1.1.2         INVITE transaction timeout timer
//   Timer C  > 3 min           16.6 bullet 11   proxy INVITE transaction timeout (unused here)
//   Timer D  > 32 s for UDP,   17.1.1.2         wait time for response retransmits
//            0 s for TCP/SCTP
//   Timer E  initially T1      17.1.2.2         non-INVITE request retransmit interval, UDP only
//   Timer F  64*T1             17.1.2.2         non-INVITE transaction timeout timer
//   Timer G  initially T1      17.2.1           INVITE response retransmit interval
//   Timer H  64*T1             17.2.1           wait time for ACK receipt
//   Timer I  T4 for UDP,       17.2.1           wait time for ACK retransmits
//            0 s for TCP/SCTP
//   Timer J  64*T1 for UDP,    17.2.2           wait time for non-INVITE request retransmits
//            0 s for TCP/SCTP
//   Timer K  T4 for UDP,       17.1.2.2         wait time for response retransmits
//            0 s for TCP/SCTP
//   Timer L  64*T1             17.2.1 (6026)    wait time for accepted INVITE request retransmits
//   Timer M  64*T1             17.1.1 (6026)    wait time for 2xx retransmits and forked 2xx
//
// The machines are pure: `on(event) -> actions`. They never read a clock; a timer is an action
// ("start Timer A in 500 ms, generation 3") that the actor carries out, and comes back as an
// event carrying the same generation. A machine never cancels a timer: it disarms it, and
// ignores a timer whose generation is not the one it armed last, so a stale timer is a no-op
// whether or not the actor managed to cancel it (the phone cancels the ones `timers()` no
// longer holds as armed, actors/ua/phone.cpp).
// A zero-length timer (D, I, J, K on a reliable transport) is never started: the machine goes
// to Terminated at once, which is what a 0 s timer means (§17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2).
//
// These shared types live here, in the timers file, because the timer action and the timer event
// are the heart of them and the four machines need all of them.
#pragma once

#include <array>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

namespace sipfleet::sip::transaction {

using duration = std::chrono::milliseconds;

// The timers, named by their letters. C belongs to proxies and is listed for Table 4's sake.
enum class timer : std::uint8_t { A, B, C, D, E, F, G, H, I, J, K, L, M };
inline constexpr std::size_t timer_count = 13;

constexpr char timer_letter(timer t) {
  return static_cast<char>('A' + static_cast<int>(t));
}

// T1/T2/T4 and the retransmission caps: configuration, never mutable statics. Defaults are the
// RFC's and the simulated phone's (PHONE-BEHAVIOUR.md: T1 500 ms, T2 4 s, 6 INVITE and 10 other
// retransmissions; with these defaults the caps coincide with the 64*T1 timeouts).
struct timer_config {
  duration t1{500};
  duration t2{4000};
  duration t4{5000};
  // Timer D is "> 32 s" for UDP and not derived from T1 (the client cannot know the server's T1).
  duration d{32000};
  // Retransmissions of an INVITE (Timer A), counted after the first transmission.
  int max_invite_retransmits = 6;
  // Retransmissions of any other message: non-INVITE requests (Timer E) and the INVITE server's
  // final response (Timer G), the phone's "retransmissions of SIP messages other than INVITE".
  int max_non_invite_retransmits = 10;
  bool operator==(const timer_config&) const = default;
};

// How each machine is set up.
struct options {
  timer_config timers{};
  // TCP/TLS/SCTP: no retransmission timers (A, E, G) and D, I, J, K are 0 (§17.1.1.2 etc.).
  bool reliable = false;
  // Server INVITE only (§17.2.1): send 100 Trying as soon as the INVITE arrives. The phone sends
  // 100 for every incoming INVITE (PHONE-BEHAVIOUR.md), so rather than waiting 200 ms for the TU
  // the machine sends it at once; set false if the TU always answers within 200 ms itself.
  bool send_100_trying = true;
};

// The initial value of a timer per Table 4 on the given transport. A, E and G are the first
// interval of a doubling sequence. Zero means "do not start it; act as if it fired at once".
constexpr duration timer_value(timer t, const timer_config& c, bool reliable) {
  switch (t) {
    case timer::A:
    case timer::E:
    case timer::G:
      return reliable ? duration{0} : c.t1;
    case timer::B:
    case timer::F:
    case timer::H:
    case timer::L:
    case timer::M:
      return 64 * c.t1;
    case timer::C:
      return duration{180000};
    case timer::D:
      return reliable ? duration{0} : c.d;
    case timer::I:
    case timer::K:
      return reliable ? duration{0} : c.t4;
    case timer::J:
      return reliable ? duration{0} : 64 * c.t1;
  }
  return duration{0};
}

// ---- Events: what the actor tells a machine. -------------------------------------------------

// Client: the TU hands over the request; server: the request that creates the transaction came.
struct start {};
// Client: a response matched the transaction (§17.1.3); only its status code matters here.
struct response_received {
  int status = 0;
};
// Server: a retransmission of the request that created the transaction arrived.
struct request_received {};
// Server INVITE: an ACK matched the transaction (§17.2.3).
struct ack_received {};
// Server: the TU sends a response (provisional, final, or a 2xx retransmission in Accepted).
struct tu_response {
  int status = 0;
};
// A timer started by a start_timer action fired; `generation` is the one that action carried.
struct timer_fired {
  timer which = timer::A;
  std::uint32_t generation = 0;
};
// The transport could not send (ICMP error on UDP, connection failure on TCP): §17.1.1.2,
// §17.1.2.2, §17.2.1, §17.2.2, §18.
struct transport_error {};

using event = std::variant<start, response_received, request_received, ack_received, tu_response,
                           timer_fired, transport_error>;

// ---- Actions: what a machine asks the actor to do, in order. -----------------------------------

// Client: pass the request to the transport (the first time, or again).
struct send_request {
  bool retransmission = false;
  bool operator==(const send_request&) const = default;
};
// Server: pass a response to the transport. retransmission: resend the last response sent.
struct send_response {
  int status = 0;
  bool retransmission = false;
  bool operator==(const send_response&) const = default;
};
// Server INVITE: build a 100 Trying from the request (§8.2.6.1, no To tag: §17.2.1) and send it.
struct send_trying {
  bool operator==(const send_trying&) const = default;
};
// Client INVITE: send the ACK for the non-2xx final response (§17.1.1.3; see ack.hpp).
struct send_ack {
  bool retransmission = false;
  bool operator==(const send_ack&) const = default;
};
// Start a timer; when it fires, deliver timer_fired{which, generation}.
struct start_timer {
  timer which = timer::A;
  duration after{0};
  std::uint32_t generation = 0;
  bool operator==(const start_timer&) const = default;
};
// Pass the message of this event to the TU: a response (client; status) or the request, or in
// the server INVITE's Accepted state the ACK (server; status 0).
struct to_tu {
  int status = 0;
  bool operator==(const to_tu&) const = default;
};
// Timer B or F: the request timed out and the TU sees a 408 (§8.1.3.1); Timer H: no ACK came.
struct report_timeout {
  timer which = timer::B;
  bool operator==(const report_timeout&) const = default;
};
inline constexpr int timeout_status = 408;
// Tell the TU that the transport failed (§8.1.3.1: for a client, treat it as a 503).
struct report_transport_error {
  bool operator==(const report_transport_error&) const = default;
};
// The machine reached Terminated: destroy the transaction now (§17.1.1.2 etc.).
struct terminated {
  bool operator==(const terminated&) const = default;
};

using action = std::variant<send_request, send_response, send_trying, send_ack, start_timer, to_tu,
                            report_timeout, report_transport_error, terminated>;

// A few actions in order, without a heap allocation (no event yields more than four).
class action_list {
 public:
  static constexpr std::size_t capacity = 6;

  void push(action a) {
    assert(size_ < capacity);
    items_[size_++] = a;
  }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const action& operator[](std::size_t i) const { return items_[i]; }
  const action* begin() const { return items_.data(); }
  const action* end() const { return items_.data() + size_; }

 private:
  std::array<action, capacity> items_{};
  std::size_t size_ = 0;
};

// Which timers are armed and with which generation: the stale-timer filter every machine uses.
class timer_set {
 public:
  // Arms `t` and returns the action that starts it.
  start_timer arm(timer t, duration after) {
    const std::uint32_t g = ++last_generation_;
    armed_[static_cast<std::size_t>(t)] = g;
    return start_timer{.which = t, .after = after, .generation = g};
  }
  void disarm(timer t) { armed_[static_cast<std::size_t>(t)] = 0; }
  void disarm_all() { armed_.fill(0); }
  // True (and disarms it) when `e` is the timer armed last; false for a stale or unknown one.
  bool take(const timer_fired& e) {
    auto& g = armed_[static_cast<std::size_t>(e.which)];
    if (e.generation == 0 || g != e.generation) return false;
    g = 0;
    return true;
  }
  bool armed(timer t) const { return armed_[static_cast<std::size_t>(t)] != 0; }
  // True while the timer started with this generation is the live one (the owner of the timer
  // may cancel the others).
  bool armed(timer t, std::uint32_t generation) const {
    return generation != 0 && armed_[static_cast<std::size_t>(t)] == generation;
  }

 private:
  std::array<std::uint32_t, timer_count> armed_{};
  std::uint32_t last_generation_ = 0;
};

// "start_timer(A, 500ms, #1)": for logs and test failure messages.
inline std::string to_string(const action& a) {
  struct printer {
    std::string operator()(const send_request& x) const {
      return x.retransmission ? "send_request(retransmit)" : "send_request";
    }
    std::string operator()(const send_response& x) const {
      return "send_response(" + std::to_string(x.status) +
             (x.retransmission ? ", retransmit)" : ")");
    }
    std::string operator()(const send_trying&) const { return "send_trying"; }
    std::string operator()(const send_ack& x) const {
      return x.retransmission ? "send_ack(retransmit)" : "send_ack";
    }
    std::string operator()(const start_timer& x) const {
      return std::string("start_timer(") + timer_letter(x.which) + ", " +
             std::to_string(x.after.count()) + "ms, #" + std::to_string(x.generation) + ")";
    }
    std::string operator()(const to_tu& x) const {
      return "to_tu(" + std::to_string(x.status) + ")";
    }
    std::string operator()(const report_timeout& x) const {
      return std::string("report_timeout(") + timer_letter(x.which) + ")";
    }
    std::string operator()(const report_transport_error&) const { return "report_transport_error"; }
    std::string operator()(const terminated&) const { return "terminated"; }
  };
  return std::visit(printer{}, a);
}

}  // namespace sipfleet::sip::transaction
