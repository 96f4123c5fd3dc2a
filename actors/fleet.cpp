// The fleet (see fleet.hpp): the actor system, the transport, the media engine, the timer
// wheel and the supervisors (actors/supervisors.hpp draws who talks to whom), and what the
// command line and the API ask of them: phones added and removed, calls, campaigns, the call
// table and the event stream.
#include "actors/fleet.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "actors/call_table.hpp"
#include "actors/campaign.hpp"
#include "actors/directory.hpp"
#include "actors/heap.hpp"
#include "actors/inline_unit.hpp"
#include "actors/messages.hpp"
#include "actors/shared_state.hpp"
#include "actors/supervisors.hpp"
#include "actors/timer_wheel.hpp"
#include "actors/ua/user_range.hpp"

namespace sipfleet::actors {
namespace {

// Enqueues to a phone from the I/O thread: with that thread's unit as the sender's
// execution unit, so that a phone this wakes is run by the unit, not by a CAF worker.
void post(const caf::actor& phone, phone_input in, inline_unit& unit) {
  caf::actor_cast<caf::abstract_actor*>(phone)->eq_impl(caf::make_message_id(), nullptr, &unit, std::move(in));
}

constexpr std::size_t k_extra_shards = 1024;   // directory room for shards of phones added later
constexpr std::size_t k_campaign_slots = 64;   // campaigns running at once (each ticks by the wheel)
constexpr auto k_ask_timeout = std::chrono::seconds(10);

bool is_call_event(ua::event_kind k) {
  switch (k) {
    case ua::event_kind::call_created:
    case ua::event_kind::call_ringing:
    case ua::event_kind::call_answered:
    case ua::event_kind::call_held:
    case ua::event_kind::call_resumed:
    case ua::event_kind::call_ended:
      return true;
    default:
      return false;
  }
}

// The fleet's phones by user name, in user order (the API lists phones by user): their
// indices into `names`, sorted by name. 4 bytes per phone; a std::map<std::string, index> was
// ~90 (a node with its own copy of the name), 2% of an idle registered phone.
class user_index {
 public:
  explicit user_index(const std::vector<std::string>& names) : names_(names) {}

  std::size_t size() const { return sorted_.size(); }
  std::optional<std::size_t> find(std::string_view user) const {
    const auto it = lower(user);
    if (it == sorted_.end() || names_[*it] != user) return std::nullopt;
    return *it;
  }
  bool contains(std::string_view user) const { return find(user).has_value(); }
  // Adds phones [first, first + count), whose names are set in `names` and not yet indexed.
  void add(std::size_t first, std::size_t count) {
    const auto mid = static_cast<std::ptrdiff_t>(sorted_.size());
    for (std::size_t i = first; i < first + count; ++i) sorted_.push_back(static_cast<std::uint32_t>(i));
    std::sort(sorted_.begin() + mid, sorted_.end(), by_name());
    std::inplace_merge(sorted_.begin(), sorted_.begin() + mid, sorted_.end(), by_name());
  }
  // Phone `index`, if it is still the one named `user` (before the name is cleared); false if
  // not (a removal that raced with another one and a new phone of the same user).
  bool erase(std::string_view user, std::size_t index) {
    const auto it = lower(user);
    if (it == sorted_.end() || *it != index || names_[*it] != user) return false;
    sorted_.erase(it);
    return true;
  }
  // Calls f(user, index) in user order.
  template <class F>
  void for_each(F&& f) const {
    for (const std::uint32_t i : sorted_) f(names_[i], std::size_t{i});
  }

 private:
  struct name_order {
    const std::vector<std::string>* names;
    bool operator()(std::uint32_t a, std::uint32_t b) const { return (*names)[a] < (*names)[b]; }
  };
  name_order by_name() const { return {&names_}; }
  std::vector<std::uint32_t>::const_iterator lower(std::string_view user) const {
    return std::lower_bound(sorted_.begin(), sorted_.end(), user,
                            [this](std::uint32_t a, std::string_view u) { return names_[a] < u; });
  }
  const std::vector<std::string>& names_;
  std::vector<std::uint32_t> sorted_;
};

class fleet_impl final : public fleet, private phone_event_hook {
 public:
  fleet_impl(fleet_options options, run_stats& stats, std::unique_ptr<transport> net,
             std::unique_ptr<rtp::engine> media)
      : options_(std::move(options)),
        capacity_(std::max(options_.capacity, options_.users.size())),
        max_shards_((capacity_ + shard_size() - 1) / shard_size() + k_extra_shards),
        stats_(stats),
        net_(std::move(net)),
        media_(std::move(media)),
        cfg_(options_.threads),
        shared_(*net_, wheel_, stats_, capacity_),
        directory_(capacity_ + max_shards_ + k_campaign_slots),
        user_of_(capacity_),
        system_(cfg_) {
    shared_.media = media_.get();
    shared_.events = this;
    // A digit heard goes to the phone that owns the stream (tag: fleet index, media key).
    if (media_)
      media_->set_digit_listener([this](std::uint64_t tag, char digit) {
        const auto index = static_cast<std::size_t>(tag >> 32);
        if (index >= capacity_) return;
        if (auto a = directory_.get(index))
          caf::anon_send(a, phone_input{digit_heard{static_cast<std::uint32_t>(tag), digit}});
      });
  }

  ~fleet_impl() override {
    if (media_) media_->set_digit_listener({});
    net_->stop();  // no more deliveries
    {
      std::lock_guard lock(campaigns_mutex_);
      for (auto& [id, c] : campaigns_) caf::anon_send_exit(c.actor, caf::exit_reason::user_shutdown);
    }
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
    prefault_heap(n * 4608);
    stats_.phones_total.store(static_cast<std::int64_t>(n));
    std::vector<phone_route> routes;
    routes.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      routes.push_back({options_.users[i], i % net_->socket_count()});
      user_of_[i] = options_.users[i];
    }
    index_of_.add(0, n);
    // The plan keeps the names for the phones' lives (a restarted phone is made from it): moved
    // there, not copied.
    auto plan = make_plan(options_.prototype, options_.password_template,
                          std::make_shared<const std::vector<std::string>>(std::move(options_.users)), 0);
    options_.users = {};
    next_index_ = n;
    root_ = system_.spawn(root_actor, shard_plan(plan, 0, n), &shards_, options_.register_rate);
    caf::scoped_actor self{system_};
    self->request(root_, caf::infinite, get_atom::value).receive([](bool) {}, [](caf::error&) {});
    // The shards have spawned their phones; CAF's workers now build each phone's state. Wait
    // for that before any phone registers: with the I/O thread already at work, the two
    // threads took turns at malloc's one arena lock (thousands of futex calls for 10,000
    // phones) and the registration burst's freed messages slowed every phone's allocation.
    for (int waited = 0; shared_.phones_made.load(std::memory_order_acquire) < n && waited < 10'000; ++waited)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // Timers are pumped on the I/O thread (transport::set_ticker) and run there with the
    // phones they wake, as datagrams are.
    pump_ = std::make_unique<timer_pump>(
        wheel_,
        [this](std::span<const timer_wheel::expired> due) {
          inputs_ += due.size();
          for (const auto& e : due) {
            auto a = directory_.get(e.target);
            if (!a) continue;
            if (e.target < capacity_) {
              post(a, phone_input{timer_fired{e.payload}}, *io_unit_);
            } else {  // a shard's or a campaign's pacing tick
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

  std::size_t size() const override {
    std::shared_lock lock(users_mutex_);
    return index_of_.size();
  }
  ua::endpoint local_endpoint(std::size_t socket) const override { return net_->local_endpoint(socket); }

  void register_all() override {
    for (auto& s : *shards_.load()) caf::anon_send(s, start_atom::value, options_.register_rate, std::uint64_t{0});
  }

  // ---- phones added and removed while running (the API) ----------------------------------

  sip::result<std::size_t> add_phones(const phone_group& g) override {
    if (g.users.empty()) return sip::error{"users: no phones to create"};
    std::lock_guard add_lock(add_mutex_);  // one group at a time: indices and shards in order
    std::size_t first = 0;
    {
      std::unique_lock lock(users_mutex_);
      for (const auto& u : g.users)
        if (index_of_.contains(u)) return sip::error{"exists: phone " + u + " exists"};
      if (const auto twice = ua::repeated_user(g.users)) return sip::error{"exists: phone " + *twice + " is given twice"};
      if (g.users.size() > capacity_ - next_index_)
        return sip::error{"full: room for " + std::to_string(capacity_ - next_index_) +
                          " more phones (--max-phones " + std::to_string(capacity_) + ")"};
      const std::size_t shards_needed = (g.users.size() + shard_size() - 1) / shard_size();
      if (next_shard_ + shards_needed > max_shards_) return sip::error{"full: too many phone groups"};
      first = next_index_;
      next_index_ += g.users.size();
      for (std::size_t k = 0; k < g.users.size(); ++k) user_of_[first + k] = g.users[k];
      index_of_.add(first, g.users.size());
    }
    auto prototype = options_.prototype;
    if (!g.domain.empty()) prototype.domain = g.domain;
    if (g.proxy) prototype.proxy = *g.proxy;
    auto plan = make_plan(prototype, g.password_template.value_or(options_.password_template),
                          std::make_shared<const std::vector<std::string>>(g.users), first);
    std::vector<std::pair<std::size_t, std::string>> routes;
    for (std::size_t k = 0; k < g.users.size(); ++k) routes.emplace_back(first + k, g.users[k]);
    net_->update_routes(std::move(routes), {});
    stats_.phones_total.fetch_add(static_cast<std::int64_t>(g.users.size()));
    caf::scoped_actor self{system_};
    bool ok = false;
    self->request(root_, k_ask_timeout, add_atom::value,
                  shard_batch{.setups = shard_plan(plan, first, g.users.size()), .start = g.register_now,
                              .rate = options_.register_rate})
        .receive([&](bool) { ok = true; }, [](caf::error&) {});
    if (!ok) return sip::error{"the supervisor did not answer"};
    return g.users.size();
  }

  sip::result<bool> remove_phone(const std::string& user, std::chrono::milliseconds timeout) override {
    std::size_t index = 0;
    {
      std::shared_lock lock(users_mutex_);
      const auto found = index_of_.find(user);
      if (!found) return sip::error{"no phone " + user};
      index = *found;
    }
    caf::scoped_actor self{system_};
    if (auto a = directory_.get(index)) {
      // Hang up and unregister first; a phone that does not manage it in time goes anyway.
      self->request(a, timeout, phone_input{stop_phone{}}).receive([](bool) {}, [](caf::error&) {});
    }
    const auto shards = shards_.load();
    const auto shard = shard_of(index);
    if (shard < shards->size())
      self->request((*shards)[shard], k_ask_timeout, retire_atom::value, static_cast<std::uint64_t>(index))
          .receive([](bool) {}, [](caf::error&) {});
    {
      std::unique_lock lock(users_mutex_);
      if (!index_of_.erase(user, index)) return sip::error{"no phone " + user};
      std::string().swap(user_of_[index]);
    }
    shared_.reg_state[index].store(0);
    shared_.active_calls[index].store(0);
    net_->update_routes({}, {user});
    stats_.phones_total.fetch_sub(1);
    return true;
  }

  bool has_phone(const std::string& user) const override {
    std::shared_lock lock(users_mutex_);
    return index_of_.contains(user);
  }

  std::vector<phone_brief> list_phones(std::optional<ua::registration_state> state, std::size_t offset,
                                       std::size_t limit, std::size_t& total) const override {
    std::vector<phone_brief> out;
    total = 0;
    std::shared_lock lock(users_mutex_);
    index_of_.for_each([&](const std::string& user, std::size_t index) {
      const auto r = static_cast<ua::registration_state>(shared_.reg_state[index].load(std::memory_order_relaxed));
      if (state && r != *state) return;
      if (total++ < offset || out.size() >= limit) return;
      out.push_back({.user = user, .registration = r, .active_calls = shared_.active_calls[index].load()});
    });
    return out;
  }

  sip::result<phone_info> phone(const std::string& user) override {
    return ask<phone_info>(user, phone_input{query_phone{}});
  }

  sip::result<ua::behaviour> update_behaviour(const std::string& user,
                                              std::function<void(ua::behaviour&)> edit) override {
    return ask<ua::behaviour>(user, phone_input{edit_behaviour{std::move(edit)}});
  }

  sip::result<bool> register_phone(const std::string& user) override {
    const auto phone = phone_of(user);
    if (!phone) return phone.err();
    caf::anon_send(*phone, phone_input{start_phone{}});
    return true;
  }

  sip::result<bool> unregister_phone(const std::string& user) override {
    const auto phone = phone_of(user);
    if (!phone) return phone.err();
    caf::anon_send(*phone, phone_input{stop_phone{}});
    return true;
  }

  // ---- campaigns -------------------------------------------------------------------------------

  sip::result<std::string> start_campaign(const campaign_options& o) override {
    campaign_setup setup{.options = o, .directory = &directory_, .registered = &shared_.registered};
    {
      std::shared_lock lock(users_mutex_);
      setup.users = user_of_;
      auto indices = [&](const std::vector<std::string>& names, const char* what,
                         std::vector<std::size_t>& out) -> std::optional<sip::error> {
        for (const auto& u : names) {
          const auto found = index_of_.find(u);
          if (!found) return sip::error{std::string(what) + ": no phone " + u};
          out.push_back(*found);
        }
        return std::nullopt;
      };
      if (auto e = indices(o.callers, "callers", setup.caller_index)) return *e;
      if (auto e = indices(o.fleet_callees, "callees", setup.callee_index)) return *e;
      if (o.callers.empty())
        index_of_.for_each([&](const std::string&, std::size_t index) { setup.caller_index.push_back(index); });
      std::sort(setup.caller_index.begin(), setup.caller_index.end());  // seeded runs repeat
    }
    std::lock_guard lock(campaigns_mutex_);
    const std::size_t number = ++campaign_count_;
    const std::size_t slot = capacity_ + max_shards_ + (number - 1) % k_campaign_slots;
    // The slot's previous campaign must be over (its ticks come to the slot).
    if (number > k_campaign_slots) {
      const auto prev = campaigns_.find(std::to_string(number - k_campaign_slots));
      if (prev != campaigns_.end() && !prev->second.progress->done.load()) {
        --campaign_count_;
        return sip::error{"busy: " + std::to_string(k_campaign_slots) + " campaigns are running"};
      }
    }
    auto progress = std::make_shared<campaign_shared>();
    setup.progress = progress;
    setup.ticks = campaign_setup::wheel_ticks{.directory = &directory_, .slot = slot, .wheel = &wheel_};
    auto actor = system_.spawn(campaign_actor, std::move(setup));
    const std::string id = std::to_string(number);
    campaigns_.emplace(id, campaign_entry{actor, progress});
    latest_ = progress;
    return id;
  }

  void stop_campaign() override {
    std::lock_guard lock(campaigns_mutex_);
    for (auto& [id, c] : campaigns_) caf::anon_send(c.actor, stop_atom::value);
  }

  sip::result<bool> stop_campaign(const std::string& id) override {
    std::lock_guard lock(campaigns_mutex_);
    const auto it = campaigns_.find(id);
    if (it == campaigns_.end()) return sip::error{"no campaign " + id};
    caf::anon_send(it->second.actor, stop_atom::value);
    return true;
  }

  campaign_progress progress() const override {
    std::lock_guard lock(campaigns_mutex_);
    if (!latest_) return {};
    return latest_->snapshot();
  }

  sip::result<campaign_progress> progress(const std::string& id) const override {
    std::lock_guard lock(campaigns_mutex_);
    const auto it = campaigns_.find(id);
    if (it == campaigns_.end()) return sip::error{"no campaign " + id};
    return it->second.progress->snapshot();
  }

  const run_stats* campaign_stats(const std::string& id) const override {
    std::lock_guard lock(campaigns_mutex_);
    const auto it = campaigns_.find(id);
    return it == campaigns_.end() ? nullptr : &it->second.progress->stats;  // campaigns are never erased
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

  // ---- calls -----------------------------------------------------------------------------------

  sip::result<ua::call_record> call_and_wait(const std::string& user, const std::string& target,
                                             std::chrono::milliseconds hold,
                                             std::chrono::milliseconds timeout) override {
    const auto phone = phone_of(user);
    if (!phone) return phone.err();
    caf::scoped_actor self{system_};
    sip::result<ua::call_record> out = sip::error{"timeout"};
    self->request(*phone, timeout, phone_input{place_call{target, static_cast<std::int64_t>(hold.count()), true}})
        .receive([&](call_outcome& o) { out = std::move(o.record); },
                 [&](caf::error& e) { out = sip::error{reason_of(e, user)}; });
    return out;
  }

  sip::result<std::string> dial(const std::string& user, const std::string& target, std::chrono::milliseconds hold,
                                const std::string& dtmf) override {
    return ask<std::string>(user, phone_input{place_call{target, static_cast<std::int64_t>(hold.count()), false, dtmf}});
  }

  sip::result<bool> act(const std::string& user, const std::string& call_id, call_action action,
                        const std::string& arg) override {
    return ask<bool>(user, phone_input{act_on_call{action, call_id, arg}});
  }

  sip::result<std::vector<ua::call_record>> current_calls(const std::string& user) override {
    auto r = ask<call_list>(user, phone_input{actors::list_calls{}});
    if (!r) return r.err();
    return std::move(r.value().calls);
  }

  sip::result<bool> crash_phone(const std::string& user) override {
    const auto phone = phone_of(user);
    if (!phone) return phone.err();
    caf::anon_send(*phone, phone_input{inject_crash{}});
    return true;
  }

  std::vector<ua::call_record> call_records() const override { return shared_.copy_records(); }

  std::optional<call_legs> find_call(const std::string& call_id) const override { return calls_.find(call_id); }
  std::vector<call_legs> list_calls() const override { return calls_.list(); }

  void set_event_listener(std::function<void(const fleet_event&)> listener) override {
    listener_.store(listener ? std::make_shared<const std::function<void(const fleet_event&)>>(std::move(listener))
                             : nullptr);
  }

  std::optional<rtp::engine_totals> media_totals() const override {
    if (!media_) return std::nullopt;
    return media_->totals();
  }

 private:
  struct campaign_entry {
    caf::actor actor;
    std::shared_ptr<campaign_shared> progress;
  };

  std::size_t shard_size() const { return std::max<std::size_t>(1, options_.shard_size); }

  // On the thread that runs the phone (phone_event_hook).
  void on_phone_event(std::string_view user, const ua::phone_event& e) override {
    if (options_.track_calls && e.record != nullptr && is_call_event(e.kind)) calls_.update(user, *e.record);
    if (const auto listener = listener_.load())
      (*listener)(fleet_event{.kind = e.kind, .user = user, .code = e.code, .reason = e.reason, .record = e.record});
  }

  std::shared_ptr<blueprint> make_plan(const ua::phone_config& prototype, const std::string& password_template,
                                       std::shared_ptr<const std::vector<std::string>> users, std::size_t first) {
    auto plan = std::make_shared<blueprint>();
    plan->prototype = prototype;
    plan->users = std::move(users);
    plan->first = first;
    plan->password_template = password_template;
    for (std::size_t k = 0; k < net_->socket_count(); ++k) plan->locals.push_back(net_->local_endpoint(k));
    plan->seed = options_.seed;
    plan->shared = &shared_;
    plan->directory = &directory_;
    return plan;
  }

  // The shards for phones [first, first + n); each takes the next directory slot for shards.
  std::vector<shard_setup> shard_plan(const std::shared_ptr<blueprint>& plan, std::size_t first, std::size_t n) {
    std::vector<shard_setup> setups;
    for (std::size_t k = 0; k < n; k += shard_size()) {
      const std::size_t count = std::min(shard_size(), n - k);
      shard_ranges_.push_back({first + k, count});
      setups.push_back({.plan = plan, .first = first + k, .count = count, .slot = capacity_ + next_shard_++});
    }
    return setups;
  }

  // The shard (its number in the root's table) that holds phone `index`.
  std::size_t shard_of(std::size_t index) const {
    std::lock_guard lock(add_mutex_);
    for (std::size_t j = 0; j < shard_ranges_.size(); ++j)
      if (index >= shard_ranges_[j].first && index < shard_ranges_[j].first + shard_ranges_[j].second) return j;
    return static_cast<std::size_t>(-1);
  }

  sip::result<caf::actor> phone_of(const std::string& user) const {
    std::size_t index = 0;
    {
      std::shared_lock lock(users_mutex_);
      const auto found = index_of_.find(user);
      if (!found) return sip::error{"no phone " + user};
      index = *found;
    }
    auto a = directory_.get(index);
    if (!a) return sip::error{"phone " + user + " is not running"};
    return a;
  }

  // What a phone's refusal says: the phone's own reason ("the call is not connected"), not
  // CAF's rendering of the error around it.
  std::string reason_of(const caf::error& e, const std::string& user) const {
    if (e == caf::sec::request_timeout) return "phone " + user + " did not answer in time";
    const auto& ctx = e.context();
    if (ctx.size() == 1 && ctx.match_element<std::string>(0)) return ctx.get_as<std::string>(0);
    return system_.render(e);
  }

  // Asks phone `user` and waits for its answer (of type T) or its error.
  template <class T>
  sip::result<T> ask(const std::string& user, phone_input in) {
    const auto phone = phone_of(user);
    if (!phone) return phone.err();
    caf::scoped_actor self{system_};
    sip::result<T> out = sip::error{"phone " + user + " did not answer in time"};
    self->request(*phone, k_ask_timeout, std::move(in))
        .receive([&](T& v) { out = std::move(v); }, [&](caf::error& e) { out = sip::error{reason_of(e, user)}; });
    return out;
  }

  fleet_options options_;
  std::size_t capacity_;
  std::size_t max_shards_;
  run_stats& stats_;
  std::unique_ptr<transport> net_;
  std::unique_ptr<rtp::engine> media_;  // outlives system_: phones close their streams as they go
  system_config cfg_;
  timer_wheel wheel_;    // outlives system_: phones set and cancel timers until they are gone
  fleet_shared shared_;  // outlives system_: the actors use it until they are gone
  // The directory holds the phones (capacity_), then the shards (max_shards_), then the
  // campaigns (k_campaign_slots).
  phone_directory directory_;
  call_table calls_;
  std::atomic<std::shared_ptr<const std::function<void(const fleet_event&)>>> listener_;
  // Who is who: fleet index <-> user. Written when phones are added or removed.
  mutable std::shared_mutex users_mutex_;
  std::vector<std::string> user_of_;
  user_index index_of_{user_of_};
  mutable std::mutex add_mutex_;
  std::size_t next_index_ = 0;
  std::size_t next_shard_ = 0;
  std::vector<std::pair<std::size_t, std::size_t>> shard_ranges_;  // by shard number: (first, count)
  caf::actor_system system_;
  // The I/O thread runs the phones it wakes (actors/inline_unit.hpp), for datagrams and for
  // timers; it is stopped (first thing in the destructor) before the unit and the pump go.
  std::unique_ptr<inline_unit> io_unit_ = std::make_unique<inline_unit>(system_);
  std::unique_ptr<timer_pump> pump_;
  std::uint64_t inputs_ = 0;  // datagrams and timers handed to phones (I/O thread only): the trimmer's activity
  std::atomic<std::shared_ptr<const shard_table>> shards_;
  caf::actor root_;
  mutable std::mutex campaigns_mutex_;
  std::map<std::string, campaign_entry> campaigns_;
  std::size_t campaign_count_ = 0;
  std::shared_ptr<campaign_shared> latest_;
};

}  // namespace

sip::result<std::unique_ptr<fleet>> fleet::create(fleet_options options, run_stats& stats) {
  if (options.users.empty() && options.capacity == 0) return sip::error{"--users: no phones to create"};
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
