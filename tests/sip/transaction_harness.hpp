// Test support for the transaction machines: a fake clock with a timer queue that fires due
// timers in order, the way the phone actor's non-cancellable CAF delayed messages would (stale
// timers are delivered too: the machine must ignore them), and a runner for tables of
// event -> expected actions.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <queue>
#include <string>
#include <vector>

#include "sip/transaction/timers.hpp"

namespace sipfleet::sip::transaction::testing {

using namespace std::chrono_literals;

inline std::string render(const action_list& actions) {
  std::string out;
  for (const auto& a : actions) out += (out.empty() ? "" : ", ") + to_string(a);
  return "[" + out + "]";
}

// One row of a transaction table: an event and the actions it must produce, in order.
struct row {
  const char* what;
  event in;
  std::vector<action> expect;
};

template <class Machine>
void run_table(Machine& m, const std::vector<row>& rows) {
  for (const auto& r : rows) {
    const std::string what = r.what;  // a std::string so doctest prints the text
    CAPTURE(what);
    action_list expect;
    for (const auto& a : r.expect) expect.push(a);
    CHECK(render(m.on(r.in)) == render(expect));
  }
}

// Something that happened at a time on the fake clock.
struct logged {
  duration at;
  action what;
};

template <class Machine>
class fake_clock {
 public:
  explicit fake_clock(Machine& m) : m_(m) {}

  duration now() const { return now_; }
  const std::vector<logged>& log() const { return log_; }

  // Delivers an event now; logs its actions and queues the timers they start.
  action_list feed(const event& e) {
    action_list out = m_.on(e);
    for (const auto& a : out) {
      log_.push_back({now_, a});
      if (const auto* t = std::get_if<start_timer>(&a))
        queue_.push({now_ + t->after, seq_++, timer_fired{t->which, t->generation}});
    }
    return out;
  }

  // Moves the clock forward by `d`, firing every timer due by then in order.
  void advance(duration d) { run_until(now_ + d); }

  // Fires timers until none is left (every machine's timers are finite).
  void run_all() {
    while (!queue_.empty()) run_until(queue_.top().at);
  }

  // The times at which an action of type A (optionally also satisfying `pred`) was logged.
  template <class A, class Pred>
  std::vector<std::int64_t> times(Pred pred) const {
    std::vector<std::int64_t> out;
    for (const auto& l : log_)
      if (const auto* a = std::get_if<A>(&l.what); a && pred(*a)) out.push_back(l.at.count());
    return out;
  }
  template <class A>
  std::vector<std::int64_t> times() const {
    return times<A>([](const A&) { return true; });
  }

 private:
  struct due {
    duration at;
    std::uint64_t seq;
    timer_fired fire;
    bool operator>(const due& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  void run_until(duration until) {
    while (!queue_.empty() && queue_.top().at <= until) {
      const due d = queue_.top();
      queue_.pop();
      now_ = d.at;
      feed(d.fire);
    }
    now_ = until;
  }

  Machine& m_;
  duration now_{0};
  std::uint64_t seq_ = 0;
  std::priority_queue<due, std::vector<due>, std::greater<>> queue_;
  std::vector<logged> log_;
};

inline std::vector<std::int64_t> ms(std::initializer_list<std::int64_t> v) {
  return v;
}

}  // namespace sipfleet::sip::transaction::testing
