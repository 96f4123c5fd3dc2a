// The control API over the fleet (see api_backend.hpp). The fleet answers in sip::result
// reasons; here they become the API's statuses: an unknown phone or call 404, an action that
// does not fit the call's state 409, a bad target 400, no RTP port or a phone that did not
// answer 503.
#include "app/api_backend.hpp"

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>

#include <boost/json.hpp>

#include "app/metrics.hpp"
#include "app/report.hpp"
#include "control_api/json_views.hpp"

namespace sipfleet::app {
namespace {

using control_api::api_error;
using control_api::error_kind;
using control_api::outcome;

bool starts_with(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }
bool contains(const std::string& s, std::string_view p) { return s.find(p) != std::string::npos; }

api_error not_found(std::string message) {
  return {.kind = error_kind::not_found, .code = "not_found", .message = std::move(message)};
}

// A phone's refusal, as the API says it.
api_error from_phone(const std::string& reason) {
  if (starts_with(reason, "no phone")) return not_found(reason);
  if (contains(reason, "did not answer") || contains(reason, "not running") || contains(reason, "RTP port"))
    return {.kind = error_kind::unavailable, .code = "unavailable", .message = reason};
  if (contains(reason, "target") || contains(reason, "DTMF digits"))
    return {.kind = error_kind::bad_request, .code = "bad_field", .message = reason};
  return {.kind = error_kind::conflict, .code = "wrong_state", .message = reason};
}

const char* event_type(ua::event_kind k) {
  switch (k) {
    case ua::event_kind::registered: return "phone.registered";
    case ua::event_kind::registration_failed: return "phone.registration_failed";
    case ua::event_kind::unregistered: return "phone.unregistered";
    case ua::event_kind::call_created: return "call.created";
    case ua::event_kind::call_ringing: return "call.ringing";
    case ua::event_kind::call_answered: return "call.answered";
    case ua::event_kind::call_held: return "call.held";
    case ua::event_kind::call_resumed: return "call.resumed";
    case ua::event_kind::call_ended: return "call.ended";
    case ua::event_kind::call_transferred: return "call.transferred";
    case ua::event_kind::dtmf_received: return "call.dtmf";
    case ua::event_kind::retransmission: return nullptr;
  }
  return nullptr;
}

double epoch_ms_now() {
  return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string event_json(const char* type, std::string_view user, const boost::json::object& extra) {
  boost::json::object o{{"type", type}, {"ts", epoch_ms_now()}, {"user", user}};
  for (const auto& [k, v] : extra) o[k] = v;
  return boost::json::serialize(o);
}

// The fleet's events as the API's (made only when a WebSocket client listens).
void publish_fleet_event(control_api::server& s, const actors::fleet_event& e) {
  const char* type = event_type(e.kind);
  if (type == nullptr) return;
  boost::json::object extra;
  if (e.record != nullptr) {
    const auto& r = *e.record;
    extra["call_id"] = r.call_id;
    extra["direction"] = r.outgoing ? "outgoing" : "incoming";
    extra["peer"] = r.peer;
  }
  switch (e.kind) {
    case ua::event_kind::registered:
      extra["expires"] = std::atoi(std::string(e.reason).c_str());
      break;
    case ua::event_kind::registration_failed:
      extra["code"] = e.code;
      extra["reason"] = e.reason;
      break;
    case ua::event_kind::call_transferred:
      extra["to"] = e.reason;
      break;
    case ua::event_kind::dtmf_received:
      extra["digit"] = e.reason;
      extra["direction"] = "in";
      break;
    case ua::event_kind::call_ended:
      if (e.record != nullptr) {
        const auto& r = *e.record;
        extra["code"] = r.end_code;
        extra["reason"] = r.end_reason;
        extra["ended_by_us"] = r.ended_by_us;
        extra["duration_ms"] = r.answered && r.ended ? ms_between(*r.answered, *r.ended) : 0.0;
        if (r.media.started) extra["media"] = control_api::to_json(r.media);
      }
      break;
    default:
      break;
  }
  s.publish({.type = type, .user = std::string(e.user), .json = event_json(type, e.user, extra)});
}

class fleet_backend final : public api_backend {
 public:
  fleet_backend(actors::fleet& f, actors::run_stats& stats, api_backend_options o)
      : fleet_(f), stats_(stats), options_(o) {}

  ~fleet_backend() override { attach(nullptr); }

  void attach(control_api::server* s) override {
    server_.store(s);
    if (s == nullptr) {
      fleet_.set_event_listener({});
      return;
    }
    fleet_.set_event_listener([s](const actors::fleet_event& e) {
      if (s->has_subscribers()) publish_fleet_event(*s, e);
    });
  }

  // ---- phones --------------------------------------------------------------------------------

  outcome<std::size_t> create_phones(const control_api::phones_request& r) override {
    for (const auto& u : r.users)
      if (fleet_.has_phone(u))
        return api_error{.kind = error_kind::conflict, .code = "exists", .message = "phone " + u + " exists"};
    auto added = fleet_.add_phones({.users = r.users, .domain = r.domain, .password_template = r.password,
                                    .proxy = r.proxy, .register_now = r.register_now});
    if (!added) {
      const auto& reason = added.err().reason;
      if (starts_with(reason, "exists: "))
        return api_error{.kind = error_kind::conflict, .code = "exists", .message = reason.substr(8)};
      if (starts_with(reason, "full: "))
        return api_error{.kind = error_kind::conflict, .code = "full", .message = reason.substr(6)};
      return api_error{.kind = error_kind::unavailable, .code = "unavailable", .message = reason};
    }
    return *added;
  }

  std::vector<control_api::phone_summary> list_phones(std::optional<ua::registration_state> state,
                                                      std::size_t offset, std::size_t limit,
                                                      std::size_t& total) override {
    std::vector<control_api::phone_summary> out;
    for (auto& p : fleet_.list_phones(state, offset, limit, total))
      out.push_back({.user = std::move(p.user), .registration = p.registration, .active_calls = p.active_calls});
    return out;
  }

  outcome<control_api::phone_view> phone(const std::string& user) override {
    auto p = fleet_.phone(user);
    if (!p) return from_phone(p.err().reason);
    return view(std::move(p.value()));
  }

  outcome<control_api::phone_view> patch_phone(const std::string& user, const control_api::behaviour_patch& patch) override {
    auto b = fleet_.update_behaviour(user, [patch](ua::behaviour& x) {
      if (patch.answer) x.answer = *patch.answer;
      if (patch.answer_delay_ms) x.answer_delay = std::chrono::milliseconds(*patch.answer_delay_ms);
      if (patch.reject_code) x.reject_code = *patch.reject_code;
      if (patch.dnd) x.dnd = *patch.dnd;
      if (patch.forward_to) x.forward_to = *patch.forward_to;
    });
    if (!b) return from_phone(b.err().reason);
    return phone(user);
  }

  outcome<control_api::done> register_phone(const std::string& user) override {
    return done_or(fleet_.register_phone(user));
  }
  outcome<control_api::done> unregister_phone(const std::string& user) override {
    return done_or(fleet_.unregister_phone(user));
  }
  outcome<control_api::done> delete_phone(const std::string& user) override {
    return done_or(fleet_.remove_phone(user, options_.remove_timeout));
  }

  // ---- calls ---------------------------------------------------------------------------------

  outcome<std::string> place_call(const std::string& user, const std::string& to, std::int64_t hold_ms,
                                  const std::string& dtmf) override {
    if (!fleet_.has_phone(user)) return not_found("no phone " + user);
    auto id = fleet_.dial(user, to, std::chrono::milliseconds(hold_ms), dtmf);
    if (!id) return from_phone(id.err().reason);
    return id.value();
  }

  std::vector<control_api::call_view> list_calls(std::optional<ua::call_state> state, const std::string& user) override {
    std::vector<control_api::call_view> out;
    for (auto& c : fleet_.list_calls()) {
      const bool match = std::any_of(c.legs.begin(), c.legs.end(), [&](const auto& leg) {
        return (user.empty() || leg.first == user) && (!state || leg.second.state == *state);
      });
      if (match) out.push_back(view(std::move(c)));
    }
    return out;
  }

  outcome<control_api::call_view> call(const std::string& call_id) override {
    auto c = fleet_.find_call(call_id);
    if (!c) return not_found("no call " + call_id);
    // The table has each leg as of its last event; a leg in progress is asked afresh (a BYE
    // sent, a re-INVITE under way).
    for (auto& [user, record] : c->legs) {
      if (record.state == ua::call_state::ended) continue;
      if (auto now = fleet_.current_calls(user)) {
        for (auto& r : now.value())
          if (r.call_id == call_id && r.outgoing == record.outgoing) record = std::move(r);
      }
    }
    return view(std::move(*c));
  }

  outcome<control_api::done> act_on_call(const std::string& call_id, control_api::call_op op, const std::string& arg,
                                         const std::string& user) override {
    const auto c = fleet_.find_call(call_id);
    if (!c) return not_found("no call " + call_id);
    const auto leg = pick_leg(*c, op, user);
    if (!leg) return not_found("phone " + user + " has no leg of call " + call_id);
    const auto& [leg_user, record] = *leg;
    if (record.state == ua::call_state::ended)
      return api_error{.kind = error_kind::conflict, .code = "wrong_state", .message = "the call has ended"};
    auto r = fleet_.act(leg_user, call_id, action_of(op), arg);
    if (!r) {
      if (r.err().reason == "no such call")
        return api_error{.kind = error_kind::conflict, .code = "wrong_state", .message = "the call has ended"};
      return from_phone(r.err().reason);
    }
    if (op == control_api::call_op::dtmf) publish_sent_digits(leg_user, call_id, arg);
    return control_api::done{};
  }

  // ---- campaigns -----------------------------------------------------------------------------

  outcome<std::string> start_campaign(const control_api::campaign_request& r) override {
    actors::campaign_options o{
        .total = r.total == 0 ? std::numeric_limits<std::uint64_t>::max() : r.total,
        .rate = r.rate,
        .max_concurrent = r.max_concurrent,
        .hold = std::chrono::milliseconds(std::max<std::int64_t>(1, r.hold_ms)),
        .duration = std::chrono::milliseconds(static_cast<std::int64_t>(r.duration_s) * 1000),
        .seed = ++seed_};
    o.callers = r.callers;
    // Callees of this simulator are tracked as busy; the others are called through the proxy.
    std::vector<std::string> outside;
    for (const auto& u : r.callees) (fleet_.has_phone(u) ? o.fleet_callees : outside).push_back(u);
    if (!outside.empty() && !o.fleet_callees.empty())
      return api_error{.kind = error_kind::bad_request, .code = "bad_field",
                       .message = "callees: either all phones of this simulator or none (" + outside.front() +
                                  " is not one)"};
    o.callees = std::move(outside);
    auto id = fleet_.start_campaign(o);
    if (!id) {
      const auto& reason = id.err().reason;
      if (starts_with(reason, "busy: "))
        return api_error{.kind = error_kind::unavailable, .code = "busy", .message = reason.substr(6)};
      return api_error{.kind = error_kind::bad_request, .code = "bad_field", .message = reason};
    }
    return id.value();
  }

  outcome<control_api::campaign_view> campaign(const std::string& id) override {
    const auto p = fleet_.progress(id);
    if (!p) return not_found("no campaign " + id);
    const auto* s = fleet_.campaign_stats(id);
    control_api::campaign_view v{.id = id, .started = p->started, .finished = p->finished,
                                 .no_idle_phone = p->no_idle_phone, .placing = p->placing, .done = p->done,
                                 .stats_json = {}};
    if (s != nullptr) {
      const auto doc = boost::json::parse(report_json({.stats = s, .media = fleet_.media_totals()})).as_object();
      boost::json::object out{{"calls", doc.at("calls")}, {"media", doc.at("media")}};
      v.stats_json = boost::json::serialize(out);
    }
    return v;
  }

  outcome<control_api::done> stop_campaign(const std::string& id) override {
    auto r = fleet_.stop_campaign(id);
    if (!r) return not_found(r.err().reason);
    return control_api::done{};
  }

  // ---- figures -------------------------------------------------------------------------------

  std::string stats_json() override {
    return report_json({.stats = &stats_,
                        .phones_registered = stats_.phones_registered.load(),
                        .duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - options_.t0).count(),
                        .media = fleet_.media_totals()});
  }

  std::string metrics_text() override {
    const auto* s = server_.load();
    return app::metrics_text(stats_, fleet_.media_totals(),
                             s != nullptr ? std::optional(s->counters()) : std::nullopt);
  }

 private:
  static outcome<control_api::done> done_or(const sip::result<bool>& r) {
    if (!r) return from_phone(r.err().reason);
    return control_api::done{};
  }

  static actors::call_action action_of(control_api::call_op op) {
    switch (op) {
      case control_api::call_op::answer: return actors::call_action::answer;
      case control_api::call_op::hangup: return actors::call_action::hangup;
      case control_api::call_op::hold: return actors::call_action::hold;
      case control_api::call_op::resume: return actors::call_action::resume;
      case control_api::call_op::dtmf: return actors::call_action::dtmf;
      case control_api::call_op::transfer: return actors::call_action::transfer;
    }
    return actors::call_action::hangup;
  }

  // Which leg an action is for: the one `user` holds; else answer takes the ringing incoming
  // leg, the rest the first leg still up (the caller's, when it is ours).
  static std::optional<std::pair<std::string, ua::call_record>> pick_leg(const actors::call_legs& c,
                                                                         control_api::call_op op,
                                                                         const std::string& user) {
    const auto& legs = c.legs;
    auto find = [&](auto pred) -> std::optional<std::pair<std::string, ua::call_record>> {
      const auto it = std::find_if(legs.begin(), legs.end(), pred);
      if (it == legs.end()) return std::nullopt;
      return *it;
    };
    if (!user.empty()) return find([&](const auto& l) { return l.first == user; });
    if (op == control_api::call_op::answer) {
      if (auto l = find([](const auto& x) { return !x.second.outgoing && !x.second.answered; })) return l;
    }
    if (auto l = find([](const auto& x) { return x.second.state != ua::call_state::ended; })) return l;
    return legs.empty() ? std::nullopt : std::optional(legs.front());
  }

  void publish_sent_digits(const std::string& user, const std::string& call_id, const std::string& digits) {
    auto* s = server_.load();
    if (s == nullptr || !s->has_subscribers()) return;
    for (const char d : digits) {
      boost::json::object dx{{"call_id", call_id}, {"digit", std::string(1, d)}, {"direction", "out"}};
      s->publish({.type = "call.dtmf", .user = user, .json = event_json("call.dtmf", user, dx)});
    }
  }

  static control_api::phone_view view(actors::phone_info p) {
    return {.user = std::move(p.user), .domain = std::move(p.domain), .registration = p.registration,
            .expires = p.expires, .behaviour = std::move(p.behaviour), .counters = p.counters,
            .calls = std::move(p.calls)};
  }

  static control_api::call_view view(actors::call_legs c) {
    control_api::call_view v{.call_id = std::move(c.call_id), .legs = {}};
    for (auto& [user, record] : c.legs) v.legs.push_back({.user = std::move(user), .record = std::move(record)});
    return v;
  }

  actors::fleet& fleet_;
  actors::run_stats& stats_;
  api_backend_options options_;
  std::atomic<control_api::server*> server_{nullptr};
  std::atomic<std::uint64_t> seed_{1000};
};

}  // namespace

std::unique_ptr<api_backend> make_api_backend(actors::fleet& f, actors::run_stats& stats, api_backend_options options) {
  return std::make_unique<fleet_backend>(f, stats, options);
}

sip::result<std::unique_ptr<api_service>> serve_api(const api_settings& settings, actors::fleet& f,
                                                    actors::run_stats& stats) {
  auto backend = make_api_backend(f, stats);
  auto server = control_api::server::start({.host = settings.host, .port = settings.port, .token = settings.token,
                                            .event_queue = settings.event_queue},
                                           *backend);
  if (!server) return sip::error{server.err().message};
  return std::make_unique<api_service>(std::move(backend), std::move(server.value()));
}

}  // namespace sipfleet::app
