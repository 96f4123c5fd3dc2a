// A control_api::backend with tables in memory, for the router's tests: phones, calls and
// campaigns in std::maps, the states a real phone would go through reduced to what the
// router's answers depend on (404 for an unknown object, 409 for an action that does not fit
// the state). It also keeps what the router asked of it, so that tests can check the parsing.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "control_api/backend.hpp"

namespace sipfleet::control_api::testing {

inline api_error fake_not_found(const std::string& what) {
  return {.kind = error_kind::not_found, .code = "not_found", .message = "no " + what};
}
inline api_error fake_wrong_state(const std::string& why) {
  return {.kind = error_kind::conflict, .code = "wrong_state", .message = why};
}

class fake_backend final : public backend {
 public:
  struct fake_phone {
    phone_view view;
    std::string password;  // kept, as the real fleet keeps it: the router must never show it
  };
  struct action {
    std::string call_id;
    call_op op;
    std::string arg;
    std::string user;
  };
  struct placed_call {
    std::string user;
    std::string to;
    std::int64_t hold_ms;
    std::string dtmf;
  };

  std::map<std::string, fake_phone> phones;
  std::map<std::string, call_view> calls;
  std::map<std::string, campaign_view> campaigns;
  std::vector<phones_request> created;
  std::vector<placed_call> placed;
  std::vector<action> actions;
  std::vector<campaign_request> started_campaigns;
  std::string stats = R"({"calls":{"attempted":3,"answered":2}})";
  std::string metrics =
      "# TYPE sipfleet_calls_attempted_total counter\nsipfleet_calls_attempted_total 3\n";
  // The next Call-ID place_call hands out: '@', '/' and '%' to exercise percent-decoding.
  std::string next_call_id = "a1/b%2@host.test";

  outcome<std::size_t> create_phones(const phones_request& r) override {
    created.push_back(r);
    for (const auto& u : r.users)
      if (phones.count(u) > 0)
        return api_error{
            .kind = error_kind::conflict, .code = "exists", .message = "phone " + u + " exists"};
    for (const auto& u : r.users) {
      fake_phone p;
      p.view.user = u;
      p.view.domain = r.domain.empty() ? "sipfleet.test" : r.domain;
      p.view.registration = r.register_now ? ua::registration_state::registering
                                           : ua::registration_state::unregistered;
      p.password = r.password.value_or("");
      if (const auto at = p.password.find("{user}"); at != std::string::npos)
        p.password.replace(at, 6, u);
      phones[u] = std::move(p);
    }
    return r.users.size();
  }

  std::vector<phone_summary> list_phones(std::optional<ua::registration_state> state,
                                         std::size_t offset, std::size_t limit,
                                         std::size_t& total) override {
    std::vector<phone_summary> out;
    total = 0;
    for (const auto& [user, p] : phones) {
      if (state && p.view.registration != *state) continue;
      if (total++ < offset || out.size() >= limit) continue;
      out.push_back(
          {.user = user, .registration = p.view.registration, .active_calls = p.view.calls.size()});
    }
    return out;
  }

  outcome<phone_view> phone(const std::string& user) override {
    const auto it = phones.find(user);
    if (it == phones.end()) return fake_not_found("phone " + user);
    return it->second.view;
  }

  outcome<phone_view> patch_phone(const std::string& user, const behaviour_patch& p) override {
    const auto it = phones.find(user);
    if (it == phones.end()) return fake_not_found("phone " + user);
    auto& b = it->second.view.behaviour;
    if (p.answer) b.answer = *p.answer;
    if (p.answer_delay_ms) b.answer_delay = std::chrono::milliseconds(*p.answer_delay_ms);
    if (p.reject_code) b.reject_code = *p.reject_code;
    if (p.dnd) b.dnd = *p.dnd;
    if (p.forward_to) b.forward_to = *p.forward_to;
    return it->second.view;
  }

  outcome<done> register_phone(const std::string& user) override {
    return set_registration(user, ua::registration_state::registering,
                            ua::registration_state::registering);
  }
  outcome<done> unregister_phone(const std::string& user) override {
    return set_registration(user, ua::registration_state::unregistered,
                            ua::registration_state::unregistering);
  }

  outcome<done> delete_phone(const std::string& user) override {
    if (phones.erase(user) == 0) return fake_not_found("phone " + user);
    return done{};
  }

  outcome<std::string> place_call(const std::string& user, const std::string& to,
                                  std::int64_t hold_ms, const std::string& dtmf) override {
    placed.push_back({.user = user, .to = to, .hold_ms = hold_ms, .dtmf = dtmf});
    const auto it = phones.find(user);
    if (it == phones.end()) return fake_not_found("phone " + user);
    if (to == "no-port")
      return api_error{
          .kind = error_kind::unavailable, .code = "unavailable", .message = "no RTP port"};
    call_view v{.call_id = next_call_id, .legs = {}};
    ua::call_record out{};
    out.call_id = v.call_id;
    out.peer = to;
    out.started = ua::clock::now();
    v.legs.push_back({.user = user, .record = out});
    // A call to one of our own phones rings there: the second leg.
    if (const auto callee = phones.find(to); callee != phones.end()) {
      auto in = out;
      in.outgoing = false;
      in.peer = user;
      in.state = ua::call_state::ringing;
      v.legs.push_back({.user = to, .record = in});
    }
    calls[v.call_id] = v;
    return v.call_id;
  }

  std::vector<call_view> list_calls(std::optional<ua::call_state> state,
                                    const std::string& user) override {
    std::vector<call_view> out;
    for (const auto& [id, c] : calls)
      for (const auto& leg : c.legs)
        if ((!state || leg.record.state == *state) && (user.empty() || leg.user == user)) {
          out.push_back(c);
          break;
        }
    return out;
  }

  outcome<call_view> call(const std::string& call_id) override {
    const auto it = calls.find(call_id);
    if (it == calls.end()) return fake_not_found("call " + call_id);
    return it->second;
  }

  outcome<done> act_on_call(const std::string& call_id, call_op op, const std::string& arg,
                            const std::string& user) override {
    actions.push_back({.call_id = call_id, .op = op, .arg = arg, .user = user});
    const auto it = calls.find(call_id);
    if (it == calls.end()) return fake_not_found("call " + call_id);
    auto& legs = it->second.legs;
    call_leg* leg = &legs.front();
    for (auto& l : legs)
      if (l.user == user || (user.empty() && op == call_op::answer && !l.record.outgoing)) leg = &l;
    auto& state = leg->record.state;
    using enum ua::call_state;
    switch (op) {
      case call_op::answer:
        if (leg->record.outgoing || state != ringing)
          return fake_wrong_state("the call is not ringing here");
        for (auto& l : legs) l.record.state = connected;
        break;
      case call_op::hangup:
        if (state == ended) return fake_wrong_state("the call has ended");
        for (auto& l : legs) l.record.state = ending;
        break;
      case call_op::hold:
        if (state != connected) return fake_wrong_state("the call is not connected");
        state = held;
        break;
      case call_op::resume:
        if (state != held) return fake_wrong_state("the call is not on hold");
        state = connected;
        break;
      case call_op::dtmf:
      case call_op::transfer:
        if (state != connected && state != held)
          return fake_wrong_state("the call is not answered");
        break;
    }
    return done{};
  }

  outcome<std::string> start_campaign(const campaign_request& r) override {
    started_campaigns.push_back(r);
    if (r.callers.front() == "9999")
      return api_error{
          .kind = error_kind::unavailable, .code = "busy", .message = "a campaign is running"};
    const auto id = "c" + std::to_string(campaigns.size() + 1);
    campaigns[id] = {.id = id,
                     .started = 0,
                     .finished = 0,
                     .no_idle_phone = 0,
                     .placing = true,
                     .done = false,
                     .stats_json = R"({"calls":{"attempted":0}})"};
    return id;
  }

  outcome<campaign_view> campaign(const std::string& id) override {
    const auto it = campaigns.find(id);
    if (it == campaigns.end()) return fake_not_found("campaign " + id);
    return it->second;
  }

  outcome<done> stop_campaign(const std::string& id) override {
    const auto it = campaigns.find(id);
    if (it == campaigns.end()) return fake_not_found("campaign " + id);
    if (!it->second.placing) return fake_wrong_state("campaign " + id + " has stopped");
    it->second.placing = false;
    return done{};
  }

  std::string stats_json() override { return stats; }
  std::string metrics_text() override { return metrics; }

 private:
  // `from` is the state the action cannot start from (registering twice, unregistering twice).
  outcome<done> set_registration(const std::string& user, ua::registration_state from,
                                 ua::registration_state to) {
    const auto it = phones.find(user);
    if (it == phones.end()) return fake_not_found("phone " + user);
    if (it->second.view.registration == from)
      return fake_wrong_state(
          "phone " + user + " is " +
          (from == ua::registration_state::registering ? "registering" : "unregistered") +
          " already");
    it->second.view.registration = to;
    return done{};
  }
};

}  // namespace sipfleet::control_api::testing
