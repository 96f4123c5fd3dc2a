// Fleets of phones registered through the per-test Kamailio (kamailio_fixture.hpp), shared by
// the fleet tests (test_fleet_kamailio.cpp) and the media tests (test_media_kamailio.cpp).
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "actors/fleet.hpp"
#include "kamailio_fixture.hpp"

namespace sipfleet::test {

// Phones FIRST..FIRST+COUNT-1 of the deploy/kamailio users (password pw{user}), registering
// through Kamailio `k` at 1,000/s.
inline actors::fleet_options phones(const test::kamailio& k, int first, int count, std::string password = "pw{user}") {
  actors::fleet_options o;
  o.prototype.proxy = {"127.0.0.1", k.port()};
  o.prototype.domain = "sipfleet.test";
  o.prototype.expires = 300;
  for (int u = first; u < first + count; ++u) o.users.push_back(std::to_string(u));
  o.password_template = std::move(password);
  o.register_rate = 1000;
  o.shard_size = 64;
  o.threads = 2;
  return o;
}

inline std::unique_ptr<actors::fleet> make_fleet(const actors::fleet_options& o, actors::run_stats& stats) {
  auto f = actors::fleet::create(o, stats);
  REQUIRE_MESSAGE(f.ok(), (f.ok() ? "" : f.err().reason));
  return std::move(f).value();
}

inline bool all_registered(const actors::run_stats& s) {
  return s.phones_registered.load() == s.phones_total.load();
}

// A fleet whose phones have all registered (the test stops if they do not within 10 s).
inline std::unique_ptr<actors::fleet> registered_fleet(const actors::fleet_options& o, actors::run_stats& stats) {
  auto f = make_fleet(o, stats);
  f->register_all();
  REQUIRE(wait_until([&] { return all_registered(stats); }, std::chrono::seconds(10)));
  return f;
}

}  // namespace sipfleet::test
