// The control API's JSON shapes (see json_views.hpp). Field names follow
// control_api/openapi.json; a field the schema calls optional is left out rather than sent as
// 0 or null when the value is not known yet (a call not answered has no answered_at).
#include "control_api/json_views.hpp"

#include <array>
#include <string>

namespace sipfleet::control_api {

namespace json = boost::json;
using namespace std::chrono;

namespace {

// Names indexed by the enum's value, so that adding an enumerator without a name fails to
// compile (the array sizes are checked below).
constexpr std::array<std::string_view, 5> registration_names{
    "unregistered", "registering", "registered", "failed", "unregistering"};
constexpr std::array<std::string_view, 6> call_state_names{"calling", "ringing", "connected",
                                                           "held",    "ending",  "ended"};
constexpr std::array<std::string_view, 3> answer_names{"auto", "manual", "reject"};
constexpr std::array<std::string_view, 6> call_op_names{"answer", "hangup", "hold",
                                                        "resume", "dtmf",   "transfer"};
static_assert(static_cast<std::size_t>(ua::registration_state::unregistering) + 1 ==
              registration_names.size());
static_assert(static_cast<std::size_t>(ua::call_state::ended) + 1 == call_state_names.size());
static_assert(static_cast<std::size_t>(ua::answer_mode::reject) + 1 == answer_names.size());
static_assert(static_cast<std::size_t>(call_op::transfer) + 1 == call_op_names.size());

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::string_view, N>& names, E e) {
  const auto i = static_cast<std::size_t>(e);
  return i < N ? names[i] : std::string_view("unknown");
}

template <class E, std::size_t N>
std::optional<E> value_of(const std::array<std::string_view, N>& names, std::string_view s) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == s) return static_cast<E>(i);
  return std::nullopt;
}

std::int64_t ms_between(ua::clock::time_point from, ua::clock::time_point to) {
  return duration_cast<milliseconds>(to - from).count();
}

}  // namespace

std::string_view to_string(ua::registration_state s) {
  return name_of(registration_names, s);
}
std::string_view to_string(ua::call_state s) {
  return name_of(call_state_names, s);
}
std::string_view to_string(ua::answer_mode m) {
  return name_of(answer_names, m);
}
std::string_view to_string(call_op op) {
  return name_of(call_op_names, op);
}
std::optional<ua::registration_state> parse_registration_state(std::string_view s) {
  return value_of<ua::registration_state>(registration_names, s);
}
std::optional<ua::call_state> parse_call_state(std::string_view s) {
  return value_of<ua::call_state>(call_state_names, s);
}
std::optional<ua::answer_mode> parse_answer_mode(std::string_view s) {
  return value_of<ua::answer_mode>(answer_names, s);
}

// system_clock::now() + (t - steady_clock::now()), with both "now"s taken once per response.
std::int64_t clock_anchor::epoch_ms(ua::clock::time_point t) const {
  const auto wall = system + duration_cast<system_clock::duration>(t - steady);
  return duration_cast<milliseconds>(wall.time_since_epoch()).count();
}

json::object to_json(const phone_summary& p) {
  return {{"user", p.user},
          {"registration", to_string(p.registration)},
          {"active_calls", p.active_calls}};
}

json::object to_json(const phone_view& p, const clock_anchor& at) {
  const auto& b = p.behaviour;
  const auto& c = p.counters;
  json::array calls;
  for (const auto& r : p.calls) calls.push_back(leg_json(p.user, r, at));
  return {
      {"user", p.user},
      {"domain", p.domain},
      {"registration", to_string(p.registration)},
      {"expires", p.expires},
      {"behaviour",
       {{"answer", to_string(b.answer)},
        {"answer_delay_ms", b.answer_delay.count()},
        {"reject_code", b.reject_code},
        {"dnd", b.dnd},
        {"forward_to", b.forward_to}}},
      {"counters",
       {{"registrations_succeeded", c.registrations_succeeded},
        {"registrations_failed", c.registrations_failed},
        {"calls_attempted", c.calls_attempted},
        {"calls_answered", c.calls_answered},
        {"calls_failed", c.calls_failed},
        {"calls_received", c.calls_received},
        {"retransmissions", c.retransmissions},
        {"parse_errors", c.parse_errors}}},
      {"calls", std::move(calls)},
  };
}

json::object to_json(const ua::media_stats& m) {
  json::object o{
      {"packets_sent", m.packets_sent},
      {"packets_received", m.packets_received},
      {"lost", m.lost},
      {"expected", m.expected},
      {"loss_pct", m.loss_pct()},
      {"duplicates", m.duplicates},
      {"reordered", m.reordered},
      {"jitter_ms", m.jitter_ms},
      {"mos", m.mos},
      {"rtcp_sent", m.rtcp_sent},
      {"rtcp_received", m.rtcp_received},
      {"malformed", m.malformed},
      {"dtmf_sent", m.digits_sent},
      {"dtmf_received", m.digits_received},
  };
  if (m.rtt_ms) o["rtt_ms"] = *m.rtt_ms;
  return o;
}

json::object leg_json(const std::string& user, const ua::call_record& r, const clock_anchor& at) {
  json::object o{
      {"call_id", r.call_id},
      {"user", user},
      {"direction", r.outgoing ? "outgoing" : "incoming"},
      {"peer", r.peer},
      {"state", to_string(r.state)},
      {"started_at", at.epoch_ms(r.started)},
      {"retransmissions", r.retransmissions},
  };
  if (r.ringing) o["ringing_at"] = at.epoch_ms(*r.ringing);
  if (r.answered) {
    o["answered_at"] = at.epoch_ms(*r.answered);
    o["setup_ms"] = ms_between(r.started, *r.answered);
  }
  if (r.ended) {
    o["ended_at"] = at.epoch_ms(*r.ended);
    if (r.answered) o["duration_ms"] = ms_between(*r.answered, *r.ended);
    o["end_code"] = r.end_code;
    o["end_reason"] = r.end_reason;
    o["ended_by_us"] = r.ended_by_us;
  }
  if (r.media.started) o["media"] = to_json(r.media);
  return o;
}

json::object to_json(const call_view& c, const clock_anchor& at) {
  json::array legs;
  for (const auto& l : c.legs) legs.push_back(leg_json(l.user, l.record, at));
  // A call is listed while one of its legs exists; one without any left is over.
  const auto state = c.legs.empty() ? ua::call_state::ended : c.legs.front().record.state;
  return {{"call_id", c.call_id}, {"state", to_string(state)}, {"legs", std::move(legs)}};
}

outcome<json::object> to_json(const campaign_view& c) {
  json::value stats = json::object{};
  if (!c.stats_json.empty()) {
    boost::system::error_code ec;
    stats = json::parse(c.stats_json, ec);
    if (ec || !stats.is_object())
      return api_error{
          .kind = error_kind::internal,
          .code = "internal",
          .message = "campaign " + c.id + ": the simulator's statistics are not a JSON object"};
  }
  return json::object{
      {"id", c.id},
      {"started", c.started},
      {"finished", c.finished},
      {"no_idle_phone", c.no_idle_phone},
      {"placing", c.placing},
      {"done", c.done},
      {"stats", std::move(stats)},
  };
}

}  // namespace sipfleet::control_api
