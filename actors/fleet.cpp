// The fleet's actors and how they talk:
//
//                      +-----------------+
//      fleet (C++) --> |      root       |  spawns shards, linked, trapping their exits (a
//                      +-----------------+  shard that dies is respawned, its phones re-register)
//                        |   links    |
//                  +-----------+ +-----------+
//                  |  shard 0  | |  shard 1  | ...  spawn their phones and supervise them (a
//                  +-----------+ +-----------+      phone that fails is restarted and
//                    |  |  |       |  |  |          re-registers; its neighbours are
//                  phone actors   phone actors      untouched), write them into the phone
//                    ^    ^                         directory, start and stop them. Telling the
//                    |    |                         root to exit takes shards and phones with it.
//   transport -------+    +------- timer wheel (pumped on the I/O thread)
//   campaign, fleet API --+   (each looks the phone up in the directory and sends to it directly)
//
// The transport's I/O thread also pumps the timer wheel; for a datagram or a due timer it
// enqueues to the phone with its own execution unit (actors/inline_unit.hpp) and runs the
// phone right there. It never waits on an actor.
#include "actors/fleet.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <cstdlib>
#include <unordered_map>

#include "actors/campaign.hpp"
#include "actors/directory.hpp"
#include "actors/heap.hpp"
#include "actors/inline_unit.hpp"
#include "actors/messages.hpp"
#include "actors/phone_actor.hpp"
#include "actors/shared_state.hpp"
#include "actors/timer_wheel.hpp"

namespace sipfleet::actors {
namespace {

// How to make phone i: shared by every shard, read-only. A phone's settings are made when it
// is spawned (and again when it is restarted), not kept per phone beside the phone's own.
struct blueprint {
  ua::phone_config prototype;
  const std::vector<std::string>* users = nullptr;  // the fleet's options: not copied
  std::string password_template;
  std::vector<ua::endpoint> locals;  // per transport socket
  std::uint64_t seed = 1;
  fleet_shared* shared = nullptr;
  phone_directory* directory = nullptr;

  static std::string expand(const std::string& tmpl, const std::string& user) {
    std::string out = tmpl;
    for (auto pos = out.find("{user}"); pos != std::string::npos; pos = out.find("{user}", pos + user.size()))
      out.replace(pos, 6, user);
    return out;
  }

  // splitmix64 of (seed, index, incarnation): every phone and every restart its own stream.
  std::uint64_t phone_seed(std::size_t index, std::uint8_t incarnation) const {
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (index + 1) + (std::uint64_t{incarnation} << 40);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  phone_setup make(std::size_t index, std::uint8_t incarnation) const {
    const std::size_t socket = index % locals.size();
    phone_setup p{.config = prototype, .index = index, .socket = socket,
                  .seed = phone_seed(index, incarnation), .incarnation = incarnation, .shared = shared};
    p.config.user = (*users)[index];
    p.config.password = expand(password_template, (*users)[index]);
    p.config.local = locals[socket];
    p.config.route_key = route_key_of(index);
    return p;
  }
};

using shard_table = std::vector<caf::actor>;
using shard_table_ptr = std::shared_ptr<const shard_table>;

struct shard_setup {
  std::shared_ptr<const blueprint> plan;
  std::size_t first = 0;  // fleet index of the shard's first phone
  std::size_t count = 0;
  std::size_t slot = 0;  // the shard's directory entry: its pacing ticks come by the timer wheel
};

}  // namespace
}  // namespace sipfleet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sipfleet::actors::shard_setup)

namespace sipfleet::actors {
namespace {

// Starting or stopping a shard's phones at a rate: phone i is due (i - base) / rate seconds
// after t0; `sent` phones have been told so far.
struct shard_pacer {
  bool active = false;
  double rate = 0;
  timer_wheel::clock::time_point t0{};
  std::uint64_t base = 0;
  std::size_t sent = 0;

  double due(std::size_t index) const {
    return rate > 0 ? static_cast<double>(index - std::min<std::uint64_t>(index, base)) / rate : 0;
  }
  double elapsed(timer_wheel::clock::time_point now) const {
    return std::chrono::duration<double>(now - t0).count();
  }
};

struct shard_state {
    shard_setup setup;
    std::unordered_map<caf::actor_addr, std::uint32_t> by_addr;  // phone -> fleet index
    bool stopping = false;
    shard_pacer starts;
    shard_pacer stops;
    caf::response_promise stop_promise;
    std::size_t stops_pending = 0;
    std::uint64_t tick_generation = 0;  // only the latest tick chain goes on
};

// Calls tell(index) for each of the shard's phones due by now; returns the seconds until the
// next one is due, or -1 when none is left.
template <class Tell>
double advance(shard_pacer& p, const shard_setup& setup, timer_wheel::clock::time_point now, Tell tell) {
  if (!p.active) return -1;
  const double elapsed = p.elapsed(now);
  while (p.sent < setup.count) {
    const std::size_t index = setup.first + p.sent;
    if (p.due(index) > elapsed) return p.due(index) - elapsed;
    ++p.sent;
    tell(index);
  }
  p.active = false;
  return -1;
}

// Tells the phones that are due to start or stop, and sleeps until the next one is due (one
// delayed message per shard, not one timer per phone).
void pace(caf::event_based_actor* self, const std::shared_ptr<shard_state>& st) {
  const auto now = timer_wheel::clock::now();
  const phone_directory& directory = *st->setup.plan->directory;
  const double next_start = advance(st->starts, st->setup, now, [&](std::size_t index) {
    self->send(directory.get(index), phone_input{start_phone{}});
  });
  const double next_stop = advance(st->stops, st->setup, now, [&](std::size_t index) {
    auto done = [st] {
      if (--st->stops_pending == 0) st->stop_promise.deliver(true);
    };
    self->request(directory.get(index), caf::infinite, phone_input{stop_phone{}})
        .then([done](bool) { done(); }, [done](caf::error&) { done(); });
  });
  const double next = next_start < 0 ? next_stop : next_stop < 0 ? next_start : std::min(next_start, next_stop);
  if (next >= 0) {
    const auto wait = std::max<std::chrono::microseconds>(
        std::chrono::microseconds(static_cast<std::int64_t>(next * 1e6)), std::chrono::milliseconds(5));
    // By the timer wheel, not delayed_send: the tick then arrives on the I/O thread, which
    // runs this shard and the phones it starts right there (actors/inline_unit.hpp).
    st->setup.plan->shared->timers.schedule(now + wait, static_cast<std::uint32_t>(st->setup.slot),
                                            ++st->tick_generation);
  }
}

caf::behavior shard_actor(caf::event_based_actor* self, shard_setup setup) {
  auto st = std::make_shared<shard_state>();
  st->setup = std::move(setup);
  st->by_addr.reserve(st->setup.count);
  // Phones are linked to their shard: when the shard is told to exit, they go with it. The
  // shard traps its phones' exits to restart the ones that failed. A phone spawned by a
  // respawned shard is a new incarnation too: its predecessor's timers must not reach it.
  auto spawn_phone = [self, st](std::size_t index) {
    const blueprint& plan = *st->setup.plan;
    const std::uint8_t incarnation = ++plan.shared->incarnation[index];
    auto p = actors::spawn_phone(self, plan.make(index, incarnation));
    st->by_addr[p.address()] = static_cast<std::uint32_t>(index);
    plan.directory->set(index, p);
    return p;
  };
  for (std::size_t k = 0; k < st->setup.count; ++k) spawn_phone(st->setup.first + k);
  st->setup.plan->directory->set(st->setup.slot, caf::actor_cast<caf::actor>(self));

  self->set_exit_handler([self, st, spawn_phone](caf::exit_msg& em) {
    const auto it = st->by_addr.find(em.source);
    if (it == st->by_addr.end()) {  // from the root: shut down, and the phones with us
      self->quit(em.reason);
      return;
    }
    const std::size_t index = it->second;
    st->by_addr.erase(it);
    if (!em.reason || st->stopping) return;
    // A phone that failed is restarted with the same settings and registers again. Its
    // registration died with it: take it out of the gauge (the new phone adds itself back).
    auto& shared = *st->setup.plan->shared;
    if (shared.registered[index].exchange(false)) shared.stats.phones_registered.fetch_sub(1);
    shared.stats.phone_restarts.fetch_add(1, std::memory_order_relaxed);
    auto p = spawn_phone(index);
    self->send(p, phone_input{start_phone{}});
  });

  return {
      // Register every phone, paced: phone i of the fleet starts (i - base) / rate seconds from
      // now (rate 0: all at once). base 0 paces the whole fleet across its shards; a respawned
      // shard passes its first index and paces only itself.
      [self, st](start_atom, double rate, std::uint64_t base) {
        st->starts = {.active = true, .rate = rate, .t0 = timer_wheel::clock::now(), .base = base, .sent = 0};
        pace(self, st);
      },
      // Hang up and unregister every phone, paced like the start (from index 0), so that the
      // registrar is not hit by the whole fleet in one burst. Phones not started yet are not
      // started any more. The answer comes when every phone has answered.
      [self, st](stop_atom, double rate) {
        st->stopping = true;
        st->starts.active = false;
        st->stop_promise = self->make_response_promise();
        st->stops = {.active = true, .rate = rate, .t0 = timer_wheel::clock::now(), .base = 0, .sent = 0};
        st->stops_pending = st->setup.count;
        if (st->stops_pending == 0) st->stop_promise.deliver(true);
        pace(self, st);
        return st->stop_promise;
      },
      [self, st](tick_atom, std::uint64_t generation) {
        if (generation == st->tick_generation) pace(self, st);
      },
  };
}

// The CAF configuration: by default one scheduler thread per core but the one the transport's
// I/O thread takes (it runs the phones for every datagram and timer, inline_unit.hpp), at
// least one (TOOLCHAIN.md: CAF's default of 4 on 2 cores costs throughput). The workers run
// the shards, the campaign and what the API asks. With one worker on 2 cores, starting 10,000
// phones took 0.21 s of CPU instead of 0.24-0.29 s: two workers spawning at once fought over
// malloc's lock. The work-sharing scheduler: its idle workers block on a condition variable
// where work-stealing ones poll. Measured with the demo load (1,000 phones, 300 calls at
// 30/s): 2.1 s of CPU instead of 5.2 s, setup p50 2.4 ms instead of 3.8.
// SIPFLEET_CAF_POLICY=stealing brings work stealing back.
struct system_config : caf::actor_system_config {
  explicit system_config(std::size_t threads) {
    const std::size_t n = threads == 0 ? std::max(2u, std::thread::hardware_concurrency()) - 1 : threads;
    set("scheduler.max-threads", n);
    const char* policy = std::getenv("SIPFLEET_CAF_POLICY");
    set("scheduler.policy", caf::atom_from_string(policy != nullptr ? policy : "sharing"));
  }
};

using get_atom = caf::atom_constant<caf::atom("get")>;

// The root supervisor: spawns the shards, monitors them, respawns one that dies (its phones
// start again and re-register) and publishes the shard table the fleet's API reads.
caf::behavior root_actor(caf::event_based_actor* self, std::vector<shard_setup> setups,
                         std::atomic<shard_table_ptr>* table, double register_rate) {
  auto current = std::make_shared<shard_table>();
  auto by_addr = std::make_shared<std::unordered_map<caf::actor_addr, std::size_t>>();
  auto stopping = std::make_shared<bool>(false);
  for (std::size_t j = 0; j < setups.size(); ++j) {
    current->push_back(self->spawn<caf::linked>(shard_actor, setups[j]));
    (*by_addr)[current->back().address()] = j;
  }
  table->store(current);
  self->set_exit_handler([=](caf::exit_msg& em) {
    const auto it = by_addr->find(em.source);
    if (it == by_addr->end()) {  // from the fleet: shut everything down
      self->quit(em.reason);
      return;
    }
    const std::size_t j = it->second;
    by_addr->erase(it);
    if (!em.reason || *stopping) return;
    auto next = std::make_shared<shard_table>(*table->load());
    (*next)[j] = self->spawn<caf::linked>(shard_actor, setups[j]);
    (*by_addr)[(*next)[j].address()] = j;
    table->store(next);
    self->send((*next)[j], start_atom::value, register_rate, static_cast<std::uint64_t>(setups[j].first));
  });
  return {
      [](get_atom) { return true; },
      [=](stop_atom) { *stopping = true; },
  };
}

// Enqueues to a phone from the I/O thread: with that thread's unit as the sender's
// execution unit, so that a phone this wakes is run by the unit, not by a CAF worker.
void post(const caf::actor& phone, phone_input in, inline_unit& unit) {
  caf::actor_cast<caf::abstract_actor*>(phone)->eq_impl(caf::make_message_id(), nullptr, &unit, std::move(in));
}

class fleet_impl final : public fleet {
 public:
  fleet_impl(fleet_options options, run_stats& stats, std::unique_ptr<transport> net,
             std::unique_ptr<rtp::engine> media)
      : options_(std::move(options)),
        stats_(stats),
        net_(std::move(net)),
        media_(std::move(media)),
        cfg_(options_.threads),
        shared_(*net_, wheel_, stats_, options_.users.size()),
        directory_(options_.users.size() + shard_count(options_) + 1),
        system_(cfg_) {
    shared_.media = media_.get();
  }

  ~fleet_impl() override {
    net_->stop();  // no more deliveries
    if (campaign_) caf::anon_send_exit(campaign_, caf::exit_reason::user_shutdown);
    caf::anon_send(root_, stop_atom::value);
    caf::anon_send_exit(root_, caf::exit_reason::user_shutdown);
    system_.await_all_actors_done();
    // The directory's references go before the actor system does.
    for (std::size_t i = 0; i < directory_.size(); ++i) directory_.set(i, caf::actor{});
  }

  void spawn() {
    const std::size_t n = options_.users.size();
    // What the phones will hold, populated at once rather than a page fault at a time (10,000
    // phones add ~26 MB of resident memory when made; an underestimate only leaves some faults
    // to happen, an overestimate would be resident memory no phone uses).
    prefault_heap(n * 2560);
    stats_.phones_total.store(static_cast<std::int64_t>(n));
    auto plan = std::make_shared<blueprint>();
    plan->prototype = options_.prototype;
    plan->users = &options_.users;
    plan->password_template = options_.password_template;
    for (std::size_t k = 0; k < net_->socket_count(); ++k) plan->locals.push_back(net_->local_endpoint(k));
    plan->seed = options_.seed;
    plan->shared = &shared_;
    plan->directory = &directory_;
    std::vector<phone_route> routes;
    routes.reserve(n);
    for (std::size_t i = 0; i < n; ++i) routes.push_back({options_.users[i], i % net_->socket_count()});
    std::vector<shard_setup> setups;
    const std::size_t per_shard = std::max<std::size_t>(1, options_.shard_size);
    for (std::size_t first = 0; first < n; first += per_shard)
      setups.push_back({.plan = plan, .first = first, .count = std::min(per_shard, n - first),
                        .slot = n + setups.size()});
    root_ = system_.spawn(root_actor, std::move(setups), &shards_, options_.register_rate);
    caf::scoped_actor self{system_};
    self->request(root_, caf::infinite, get_atom::value).receive([](bool) {}, [](caf::error&) {});
    // Timers are pumped on the I/O thread (transport::set_ticker) and run there with the
    // phones they wake, as datagrams are.
    pump_ = std::make_unique<timer_pump>(
        wheel_,
        [this](std::span<const timer_wheel::expired> due) {
          const std::size_t phones = options_.users.size();
          inputs_ += due.size();
          for (const auto& e : due) {
            auto a = directory_.get(e.target);
            if (!a) continue;
            if (e.target < phones) {
              post(a, phone_input{timer_fired{e.payload}}, *io_unit_);
            } else {  // a shard's or the campaign's pacing tick
              caf::actor_cast<caf::abstract_actor*>(a)->eq_impl(caf::make_message_id(), nullptr, io_unit_.get(),
                                                                tick_atom::value, e.payload);
            }
          }
          io_unit_->run();
        },
        [this, trim = heap_trimmer{}]() mutable { (void)trim(inputs_); });
    net_->set_ticker([this] { return (*pump_)(timer_wheel::clock::now()); });
    wheel_.set_wake([this] { net_->wake_ticker(); });
    net_->set_routes(std::move(routes));
    net_->start(
        [this](std::size_t phone, std::shared_ptr<const sip::message> m, ua::endpoint from) {
          ++inputs_;
          if (auto a = directory_.get(phone)) {
            post(a, phone_input{inbound{std::move(m), std::move(from)}}, *io_unit_);
            io_unit_->run();
          }
        },
        [this](std::size_t phone, std::string bytes, std::string reason, ua::endpoint from) {
          if (auto a = directory_.get(phone)) {
            post(a, phone_input{inbound_malformed{std::move(bytes), std::move(reason), std::move(from)}}, *io_unit_);
            io_unit_->run();
          }
        });
  }

  std::size_t size() const override { return options_.users.size(); }
  ua::endpoint local_endpoint(std::size_t socket) const override { return net_->local_endpoint(socket); }

  void register_all() override {
    for (auto& s : *shards_.load()) caf::anon_send(s, start_atom::value, options_.register_rate, std::uint64_t{0});
  }

  void start_campaign(const campaign_options& o) override {
    progress_ = std::make_shared<campaign_shared>();
    campaign_ = system_.spawn(campaign_actor,
                              campaign_setup{.options = o, .users = options_.users, .directory = &directory_,
                                             .registered = &shared_.registered, .progress = progress_,
                                             .ticks = campaign_setup::wheel_ticks{.directory = &directory_,
                                                                                  .slot = directory_.size() - 1,
                                                                                  .wheel = &wheel_}});
  }

  void stop_campaign() override {
    if (campaign_) caf::anon_send(campaign_, stop_atom::value);
  }

  campaign_progress progress() const override {
    if (!progress_) return {};
    return progress_->snapshot();
  }

  bool shutdown(std::chrono::milliseconds timeout) override {
    stop_campaign();
    caf::scoped_actor self{system_};
    const auto shards = shards_.load();
    bool ok = true;
    // All shards stop at once; then wait for each answer, each request bounded by `timeout`.
    using handle_t = decltype(self->request(caf::actor{}, timeout, stop_atom::value));
    std::vector<handle_t> handles;
    for (auto& s : *shards) handles.push_back(self->request(s, timeout, stop_atom::value, options_.register_rate));
    for (auto& h : handles) h.receive([](bool) {}, [&ok](caf::error&) { ok = false; });
    return ok;
  }

  sip::result<ua::call_record> call_and_wait(const std::string& user, const std::string& target,
                                             std::chrono::milliseconds hold,
                                             std::chrono::milliseconds timeout) override {
    const auto phone = phone_of(user);
    if (!phone) return phone.err();
    caf::scoped_actor self{system_};
    sip::result<ua::call_record> out = sip::error{"timeout"};
    self->request(*phone, timeout, phone_input{place_call{target, static_cast<std::int64_t>(hold.count()), true}})
        .receive([&](call_outcome& o) { out = std::move(o.record); },
                 [&](caf::error& e) { out = sip::error{system_.render(e)}; });
    return out;
  }

  sip::result<std::string> dial(const std::string& user, const std::string& target,
                                std::chrono::milliseconds hold) override {
    const auto phone = phone_of(user);
    if (!phone) return phone.err();
    caf::scoped_actor self{system_};
    sip::result<std::string> out = sip::error{"timeout"};
    self->request(*phone, std::chrono::seconds(10), phone_input{place_call{target, static_cast<std::int64_t>(hold.count()), false}})
        .receive([&](std::string& id) { out = std::move(id); },
                 [&](caf::error& e) { out = sip::error{system_.render(e)}; });
    return out;
  }

  sip::result<bool> act(const std::string& user, const std::string& call_id, call_action action) override {
    const auto phone = phone_of(user);
    if (!phone) return phone.err();
    caf::scoped_actor self{system_};
    sip::result<bool> out = sip::error{"timeout"};
    self->request(*phone, std::chrono::seconds(10), phone_input{act_on_call{action, call_id}})
        .receive([&](bool) { out = true; }, [&](caf::error& e) { out = sip::error{system_.render(e)}; });
    return out;
  }

  sip::result<std::vector<ua::call_record>> current_calls(const std::string& user) override {
    const auto phone = phone_of(user);
    if (!phone) return phone.err();
    caf::scoped_actor self{system_};
    sip::result<std::vector<ua::call_record>> out = sip::error{"timeout"};
    self->request(*phone, std::chrono::seconds(10), phone_input{list_calls{}})
        .receive([&](call_list& l) { out = std::move(l.calls); },
                 [&](caf::error& e) { out = sip::error{system_.render(e)}; });
    return out;
  }

  sip::result<bool> crash_phone(const std::string& user) override {
    const auto phone = phone_of(user);
    if (!phone) return phone.err();
    caf::anon_send(*phone, phone_input{inject_crash{}});
    return true;
  }

  std::vector<ua::call_record> call_records() const override { return shared_.copy_records(); }

  std::optional<rtp::engine_totals> media_totals() const override {
    if (!media_) return std::nullopt;
    return media_->totals();
  }

 private:
  // The directory holds the phones, then one entry per shard, then the campaign's.
  static std::size_t shard_count(const fleet_options& o) {
    const std::size_t per_shard = std::max<std::size_t>(1, o.shard_size);
    return (o.users.size() + per_shard - 1) / per_shard;
  }

  sip::result<caf::actor> phone_of(const std::string& user) const {
    const auto it = std::find(options_.users.begin(), options_.users.end(), user);
    if (it == options_.users.end()) return sip::error{"no phone " + user};
    auto a = directory_.get(static_cast<std::size_t>(it - options_.users.begin()));
    if (!a) return sip::error{"phone " + user + " is not running"};
    return a;
  }

  fleet_options options_;
  run_stats& stats_;
  std::unique_ptr<transport> net_;
  std::unique_ptr<rtp::engine> media_;  // outlives system_: phones close their streams as they go
  system_config cfg_;
  timer_wheel wheel_;    // outlives system_: phones set and cancel timers until they are gone
  fleet_shared shared_;  // outlives system_: the actors use it until they are gone
  phone_directory directory_;
  caf::actor_system system_;
  // The I/O thread runs the phones it wakes (actors/inline_unit.hpp), for datagrams and for
  // timers; it is stopped (first thing in the destructor) before the unit and the pump go.
  std::unique_ptr<inline_unit> io_unit_ = std::make_unique<inline_unit>(system_);
  std::unique_ptr<timer_pump> pump_;
  std::uint64_t inputs_ = 0;  // datagrams and timers handed to phones (I/O thread only): the trimmer's activity
  std::atomic<std::shared_ptr<const shard_table>> shards_;
  caf::actor root_;
  caf::actor campaign_;
  std::shared_ptr<campaign_shared> progress_;
};

}  // namespace

sip::result<std::unique_ptr<fleet>> fleet::create(fleet_options options, run_stats& stats) {
  if (options.users.empty()) return sip::error{"--users: no phones to create"};
  options.transport.proxy = options.prototype.proxy;
  auto net = transport::open(options.transport, stats);
  if (!net) return net.err();
  options.prototype.transport = options.transport.kind;
  std::unique_ptr<rtp::engine> media;
  if (options.media) {
    try {
      media = std::make_unique<rtp::engine>(options.media_engine);
    } catch (const std::exception& e) {
      return sip::error{std::string("--media: cannot start the media engine: ") + e.what()};
    }
  }
  auto f = std::make_unique<fleet_impl>(std::move(options), stats, std::move(net).value(), std::move(media));
  f->spawn();
  return std::unique_ptr<fleet>(std::move(f));
}

}  // namespace sipfleet::actors
