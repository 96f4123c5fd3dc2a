// The fleet's actors and how they talk:
//
//                      +-----------------+
//      fleet (C++) --> |      root       |  spawns shards, linked, trapping their exits (a
//                      +-----------------+  shard that dies is respawned, its phones re-register)
//                        |   links    |
//                  +-----------+ +-----------+
//  transport ----> |  shard 0  | |  shard 1  | ...  forward SIP to their phones, spawn and
//   (sip_atom,     +-----------+ +-----------+      monitor them (a phone that fails is
//    index, msg)     |  |  |       |  |  |          restarted and re-registers; its
//                  phone actors   phone actors      neighbours are untouched). Telling the root
//                                                   to exit takes shards and phones with it.
//                        ^
//      campaign ---------+  (call_atom via the phone's shard; the reply comes when the call ends)
//
// The transport's I/O thread sends to shards with anon_send; the shard table it reads is
// swapped atomically when the root respawns a shard.
#include "actors/fleet.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <cstdlib>
#include <random>
#include <unordered_map>

#include "actors/campaign.hpp"
#include "actors/messages.hpp"
#include "actors/phone_actor.hpp"
#include "actors/shared_state.hpp"

namespace sipfleet::actors {
namespace {

using shard_table = std::vector<caf::actor>;

struct shard_setup {
  std::vector<phone_setup> phones;
  std::size_t first = 0;  // fleet index of phones[0]
};

}  // namespace
}  // namespace sipfleet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sipfleet::actors::shard_setup)

namespace sipfleet::actors {
namespace {

caf::behavior shard_actor(caf::event_based_actor* self, shard_setup setup) {
  struct state_t {
    shard_setup setup;
    std::vector<caf::actor> phones;
    std::unordered_map<caf::actor_addr, std::size_t> by_addr;
    bool stopping = false;
  };
  auto st = std::make_shared<state_t>();
  st->setup = std::move(setup);
  // Phones are linked to their shard: when the shard is told to exit, they go with it. The
  // shard traps its phones' exits to restart the ones that failed.
  auto spawn_phone = [self, st](std::size_t k) {
    auto p = self->spawn<caf::linked>(phone_actor, st->setup.phones[k]);
    st->by_addr[p.address()] = k;
    if (k < st->phones.size()) {
      st->phones[k] = p;
    } else {
      st->phones.push_back(p);
    }
    return p;
  };
  for (std::size_t k = 0; k < st->setup.phones.size(); ++k) spawn_phone(k);

  self->set_exit_handler([self, st, spawn_phone](caf::exit_msg& em) {
    const auto it = st->by_addr.find(em.source);
    if (it == st->by_addr.end()) {  // from the root: shut down, and the phones with us
      self->quit(em.reason);
      return;
    }
    const std::size_t k = it->second;
    st->by_addr.erase(it);
    if (!em.reason || st->stopping) return;
    // A phone that failed is restarted with the same settings and registers again. Its
    // registration died with it: take it out of the gauge (the new phone adds itself back).
    auto& shared = *st->setup.phones[k].shared;
    const std::size_t index = st->setup.first + k;
    if (shared.registered[index].exchange(false)) shared.stats.phones_registered.fetch_sub(1);
    shared.stats.phone_restarts.fetch_add(1, std::memory_order_relaxed);
    st->setup.phones[k].seed += 0x9e3779b97f4a7c15ULL;
    auto p = spawn_phone(k);
    self->send(p, start_atom::value);
  });

  return {
      [st](sip_atom, std::size_t index, const inbound& in) {
        const std::size_t k = index - st->setup.first;
        if (k < st->phones.size()) caf::anon_send(st->phones[k], sip_atom::value, in);
      },
      [st](malformed_atom, std::size_t index, const inbound_malformed& in) {
        const std::size_t k = index - st->setup.first;
        if (k < st->phones.size()) caf::anon_send(st->phones[k], malformed_atom::value, in);
      },
      [self, st](start_atom, double rate) {
        // Phone i of the fleet starts at i / rate seconds.
        for (std::size_t k = 0; k < st->phones.size(); ++k) {
          if (rate <= 0) {
            self->send(st->phones[k], start_atom::value);
          } else {
            const double at = static_cast<double>(st->setup.first + k) / rate;
            self->delayed_send(st->phones[k], std::chrono::microseconds(static_cast<std::int64_t>(at * 1e6)),
                               start_atom::value);
          }
        }
      },
      [self, st](call_atom, std::size_t index, const std::string& target, std::int64_t hold_ms) {
        const std::size_t k = index - st->setup.first;
        return self->delegate(st->phones.at(k), call_atom::value, target, hold_ms);
      },
      [self, st](dial_atom, std::size_t index, const std::string& target, std::int64_t hold_ms) {
        const std::size_t k = index - st->setup.first;
        return self->delegate(st->phones.at(k), dial_atom::value, target, hold_ms);
      },
      [self, st](action_atom, std::size_t index, std::uint8_t action, const std::string& call_id) {
        const std::size_t k = index - st->setup.first;
        return self->delegate(st->phones.at(k), action_atom::value, action, call_id);
      },
      [self, st](crash_atom, std::size_t index) {
        const std::size_t k = index - st->setup.first;
        self->send(st->phones.at(k), crash_atom::value);
        return true;
      },
      [self, st](calls_atom, std::size_t index) {
        const std::size_t k = index - st->setup.first;
        return self->delegate(st->phones.at(k), calls_atom::value);
      },
      [self, st](stop_atom) {
        st->stopping = true;
        auto promise = self->make_response_promise();
        auto remaining = std::make_shared<std::size_t>(st->phones.size());
        if (*remaining == 0) promise.deliver(true);
        for (auto& p : st->phones) {
          self->request(p, caf::infinite, stop_atom::value)
              .then([promise, remaining](bool) mutable {
                if (--*remaining == 0) promise.deliver(true);
              },
                    [promise, remaining](caf::error&) mutable {
                      if (--*remaining == 0) promise.deliver(true);
                    });
        }
        return promise;
      },
  };
}

// The CAF configuration: one scheduler thread per core by default (TOOLCHAIN.md: CAF's default
// of 4 on 2 cores costs throughput), and the work-sharing scheduler: its idle workers block on
// a condition variable where work-stealing ones poll. Measured with the demo load (1,000
// phones, 300 calls at 30/s): 2.1 s of CPU instead of 5.2 s, setup p50 2.4 ms instead of 3.8.
// SIPFLEET_CAF_POLICY=stealing brings work stealing back.
struct system_config : caf::actor_system_config {
  explicit system_config(std::size_t threads) {
    const std::size_t n = threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : threads;
    set("scheduler.max-threads", n);
    const char* policy = std::getenv("SIPFLEET_CAF_POLICY");
    set("scheduler.policy", caf::atom_from_string(policy != nullptr ? policy : "sharing"));
  }
};

using shard_table_ptr = std::shared_ptr<const shard_table>;
using get_atom = caf::atom_constant<caf::atom("get")>;

// The root supervisor: spawns the shards, monitors them, respawns one that dies (its phones
// start again and re-register) and publishes the shard table the transport reads.
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
    self->send((*next)[j], start_atom::value, register_rate);
  });
  return {
      [](get_atom) { return true; },
      [=](stop_atom) { *stopping = true; },
  };
}

class fleet_impl final : public fleet {
 public:
  fleet_impl(fleet_options options, run_stats& stats, std::unique_ptr<transport> net)
      : options_(std::move(options)),
        stats_(stats),
        net_(std::move(net)),
        cfg_(options_.threads),
        shared_(*net_, stats_, options_.users.size()),
        system_(cfg_) {}

  ~fleet_impl() override {
    net_->stop();  // no more deliveries
    if (campaign_) caf::anon_send_exit(campaign_, caf::exit_reason::user_shutdown);
    caf::anon_send(root_, stop_atom::value);
    caf::anon_send_exit(root_, caf::exit_reason::user_shutdown);
    // system_ is destroyed before shared_ and net_ (member order): it waits for every actor.
  }

  void spawn() {
    const std::size_t n = options_.users.size();
    stats_.phones_total.store(static_cast<std::int64_t>(n));
    std::vector<phone_route> routes;
    routes.reserve(n);
    std::vector<shard_setup> setups;
    const std::size_t per_shard = std::max<std::size_t>(1, options_.shard_size);
    std::mt19937_64 seeds(options_.seed);
    for (std::size_t first = 0; first < n; first += per_shard) {
      shard_setup setup;
      setup.first = first;
      for (std::size_t i = first; i < std::min(n, first + per_shard); ++i) {
        const std::size_t socket = i % net_->socket_count();
        phone_setup p{.config = options_.prototype, .index = i, .socket = socket, .seed = seeds(),
                      .shared = &shared_};
        p.config.user = options_.users[i];
        p.config.password = expand(options_.password_template, options_.users[i]);
        p.config.local = net_->local_endpoint(socket);
        p.config.route_key = route_key_of(i);
        routes.push_back({options_.users[i], socket});
        setup.phones.push_back(std::move(p));
      }
      setups.push_back(std::move(setup));
    }
    root_ = system_.spawn(root_actor, std::move(setups), &shards_, options_.register_rate);
    caf::scoped_actor self{system_};
    self->request(root_, caf::infinite, get_atom::value).receive([](bool) {}, [](caf::error&) {});
    net_->set_routes(std::move(routes));
    net_->start(
        [this](std::size_t phone, std::shared_ptr<const sip::message> m, ua::endpoint from) {
          caf::anon_send(shard_of(phone), sip_atom::value, phone, inbound{std::move(m), std::move(from)});
        },
        [this](std::size_t phone, std::string bytes, std::string reason, ua::endpoint from) {
          caf::anon_send(shard_of(phone), malformed_atom::value, phone,
                         inbound_malformed{std::move(bytes), std::move(reason), std::move(from)});
        });
  }

  std::size_t size() const override { return options_.users.size(); }
  ua::endpoint local_endpoint(std::size_t socket) const override { return net_->local_endpoint(socket); }

  void register_all() override {
    for (auto& s : *shards_.load()) caf::anon_send(s, start_atom::value, options_.register_rate);
  }

  void start_campaign(const campaign_options& o) override {
    progress_ = std::make_shared<campaign_shared>();
    campaign_ = system_.spawn(campaign_actor,
                              campaign_setup{.options = o, .users = options_.users,
                                             .shard_size = std::max<std::size_t>(1, options_.shard_size),
                                             .shards = shards_.load(), .registered = &shared_.registered,
                                             .progress = progress_});
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
    for (auto& s : *shards) handles.push_back(self->request(s, timeout, stop_atom::value));
    for (auto& h : handles) h.receive([](bool) {}, [&ok](caf::error&) { ok = false; });
    return ok;
  }

  sip::result<ua::call_record> call_and_wait(const std::string& user, const std::string& target,
                                             std::chrono::milliseconds hold,
                                             std::chrono::milliseconds timeout) override {
    const auto found = index_of(user);
    if (!found) return found.err();
    const std::size_t index = *found;
    caf::scoped_actor self{system_};
    sip::result<ua::call_record> out = sip::error{"timeout"};
    self->request(shard_of(index), timeout, call_atom::value, index, target,
                  static_cast<std::int64_t>(hold.count()))
        .receive([&](call_outcome& o) { out = std::move(o.record); },
                 [&](caf::error& e) { out = sip::error{system_.render(e)}; });
    return out;
  }

  sip::result<std::string> dial(const std::string& user, const std::string& target,
                                std::chrono::milliseconds hold) override {
    const auto index = index_of(user);
    if (!index) return index.err();
    caf::scoped_actor self{system_};
    sip::result<std::string> out = sip::error{"timeout"};
    self->request(shard_of(*index), std::chrono::seconds(10), dial_atom::value, *index, target,
                  static_cast<std::int64_t>(hold.count()))
        .receive([&](std::string& id) { out = std::move(id); },
                 [&](caf::error& e) { out = sip::error{system_.render(e)}; });
    return out;
  }

  sip::result<bool> act(const std::string& user, const std::string& call_id, call_action action) override {
    const auto index = index_of(user);
    if (!index) return index.err();
    caf::scoped_actor self{system_};
    sip::result<bool> out = sip::error{"timeout"};
    self->request(shard_of(*index), std::chrono::seconds(10), action_atom::value, *index,
                  static_cast<std::uint8_t>(action), call_id)
        .receive([&](bool) { out = true; }, [&](caf::error& e) { out = sip::error{system_.render(e)}; });
    return out;
  }

  sip::result<std::vector<ua::call_record>> current_calls(const std::string& user) override {
    const auto index = index_of(user);
    if (!index) return index.err();
    caf::scoped_actor self{system_};
    sip::result<std::vector<ua::call_record>> out = sip::error{"timeout"};
    self->request(shard_of(*index), std::chrono::seconds(10), calls_atom::value, *index)
        .receive([&](call_list& l) { out = std::move(l.calls); },
                 [&](caf::error& e) { out = sip::error{system_.render(e)}; });
    return out;
  }

  sip::result<bool> crash_phone(const std::string& user) override {
    const auto index = index_of(user);
    if (!index) return index.err();
    caf::scoped_actor self{system_};
    sip::result<bool> out = sip::error{"timeout"};
    self->request(shard_of(*index), std::chrono::seconds(10), crash_atom::value, *index)
        .receive([&](bool) { out = true; }, [&](caf::error& e) { out = sip::error{system_.render(e)}; });
    return out;
  }

  std::vector<ua::call_record> call_records() const override { return shared_.copy_records(); }

 private:
  static std::string expand(const std::string& tmpl, const std::string& user) {
    std::string out = tmpl;
    for (auto pos = out.find("{user}"); pos != std::string::npos; pos = out.find("{user}", pos + user.size()))
      out.replace(pos, 6, user);
    return out;
  }

  sip::result<std::size_t> index_of(const std::string& user) const {
    const auto it = std::find(options_.users.begin(), options_.users.end(), user);
    if (it == options_.users.end()) return sip::error{"no phone " + user};
    return static_cast<std::size_t>(it - options_.users.begin());
  }

  caf::actor shard_of(std::size_t phone) const {
    return (*shards_.load())[phone / std::max<std::size_t>(1, options_.shard_size)];
  }

  fleet_options options_;
  run_stats& stats_;
  std::unique_ptr<transport> net_;
  system_config cfg_;
  fleet_shared shared_;  // outlives system_: the actors use it until they are gone
  caf::actor_system system_;
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
  auto f = std::make_unique<fleet_impl>(std::move(options), stats, std::move(net).value());
  f->spawn();
  return std::unique_ptr<fleet>(std::move(f));
}

}  // namespace sipfleet::actors
