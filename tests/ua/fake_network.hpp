// A deterministic world for ua::phone tests: a fake clock with a timer queue, and an in-memory
// "network" whose proxy delivers requests to a phone by Request-URI user and responses by the
// route key in the top Via branch, plays the registrar (401 then 200, with
// tests/sip/digest_server.hpp), can challenge INVITEs with 407, and can lose messages.
//
// Messages sent while a phone handles something are queued and delivered afterwards, in order,
// at the same instant (no re-entry into a phone); time moves only in run_for().
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/ua/phone.hpp"
#include "sip/builder.hpp"
#include "sip/message.hpp"
#include "sip/digest_server.hpp"

namespace sipfleet::ua::test {

using namespace std::chrono_literals;

struct recorded_event {
  event_kind kind = event_kind::registered;
  int code = 0;
  std::string reason;
  std::optional<call_record> record;
};

struct logged_message {
  std::string sender;  // phone user, or "proxy"
  std::string bytes;
  bool dropped = false;
};

class network;

class phone_env final : public environment {
 public:
  phone_env(network& net, std::string user) : net_(net), user_(std::move(user)) {}
  void send(const endpoint& to, std::string_view bytes) override;
  void start_timer(timer_token token, milliseconds after) override;
  void cancel_timer(timer_token token) override;
  void on_event(const phone_event& e) override {
    events.push_back({e.kind, e.code, std::string(e.reason),
                      e.record != nullptr ? std::optional<call_record>(*e.record) : std::nullopt});
  }
  clock::time_point now() const override;

  std::vector<recorded_event> events;
  std::uint32_t max_slot = 0;  // the highest timer slot ever used
  std::size_t cancelled = 0;   // timers the phone cancelled

  std::size_t count(event_kind k) const {
    std::size_t n = 0;
    for (const auto& e : events) n += e.kind == k ? 1 : 0;
    return n;
  }
  const recorded_event* last(event_kind k) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->kind == k) return &*it;
    return nullptr;
  }

 private:
  network& net_;
  std::string user_;
};

struct node {
  std::string user;
  std::string route_key;
  std::unique_ptr<phone_env> env;
  std::unique_ptr<ua::phone> ph;
  ua::phone& operator*() { return *ph; }
  ua::phone* operator->() { return ph.get(); }
};

struct phone_options {
  std::string password = "secret";        // what the phone uses
  std::string registrar_password = "";   // what the registrar expects; empty: the same
  std::uint32_t expires = 3600;
  transport_kind transport = transport_kind::udp;
  ua::behaviour behaviour{};
};

class network {
 public:
  clock::time_point now = clock::time_point{} + std::chrono::hours(1);
  endpoint proxy{"10.0.0.1", 5060};
  // Registrar behaviour.
  std::uint32_t max_expires = 0;  // > 0: grant at most this
  std::uint32_t min_expires = 0;  // > 0: 423 below this
  bool registrar_silent = false;  // never answers REGISTER (timeouts)
  // Proxy: challenge every new INVITE with 407 until it carries good Proxy-Authorization.
  bool challenge_invites = false;
  // Loss: return true to drop a message at the proxy (sender, parsed message).
  std::function<bool(const std::string&, const sip::message&)> drop;
  std::vector<logged_message> log;

  node& add(const std::string& user, const phone_options& o = {}) {
    auto n = std::make_unique<node>();
    n->user = user;
    n->route_key = "rk" + user;
    n->env = std::make_unique<phone_env>(*this, user);
    const std::uint16_t port = static_cast<std::uint16_t>(5100 + nodes_.size());
    n->ph = std::make_unique<ua::phone>(
        phone_config{.user = user,
                     .domain = "sipfleet.test",
                     .password = o.password,
                     .proxy = proxy,
                     .local = {.host = "10.0.1.1", .port = port},
                     .transport = o.transport,
                     .route_key = n->route_key,
                     .expires = o.expires,
                     .timers = {},
                     .behaviour = o.behaviour,
                     .rtp_address = {},
                     .rtp_port = 0,
                     .user_agent = "sipfleet-test"},
        *n->env, 1000 + nodes_.size());
    const std::string expected = o.registrar_password.empty() ? o.password : o.registrar_password;
    registrar_.emplace(user, sip::test::digest_server({.realm = "sipfleet.test",
                                                        .username = user,
                                                        .password = expected,
                                                        .algorithm = "MD5",
                                                        .qop = true,
                                                        .opaque = {}}));
    proxy_auth_.emplace(user, sip::test::digest_server({.realm = "proxy.sipfleet.test",
                                                          .username = user,
                                                          .password = expected,
                                                          .algorithm = "MD5",
                                                          .qop = true,
                                                          .opaque = {}}));
    nodes_.push_back(std::move(n));
    return *nodes_.back();
  }

  // Queues bytes a phone sent (to the proxy: every phone sends everything there).
  void submit(const std::string& sender, std::string_view bytes) {
    queue_.push_back({sender, std::string(bytes)});
  }

  void add_timer(const std::string& user, timer_token token, milliseconds after) {
    timers_.emplace(std::make_pair(now + after, seq_++), std::make_pair(user, token));
  }

  bool remove_timer(const std::string& user, timer_token token) {
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      const auto& [u, t] = it->second;
      if (u == user && t.slot == token.slot && t.generation == token.generation) {
        timers_.erase(it);
        return true;
      }
    }
    return false;
  }

  // Timers of phone `user` armed and neither fired nor cancelled.
  std::size_t pending_timers(const std::string& user) const {
    return static_cast<std::size_t>(std::count_if(timers_.begin(), timers_.end(),
                                                  [&](const auto& e) { return e.second.first == user; }));
  }

  // Delivers queued messages and fires timers until `d` has passed.
  void run_for(milliseconds d) {
    const auto target = now + d;
    for (;;) {
      drain();
      if (timers_.empty() || timers_.begin()->first.first > target) break;
      auto it = timers_.begin();
      now = it->first.first;
      auto [user, token] = it->second;
      timers_.erase(it);
      if (node* n = find(user)) n->ph->on_timer(token);
    }
    now = target;
  }

  node* find(std::string_view user) {
    for (auto& n : nodes_)
      if (n->user == user) return n.get();
    return nullptr;
  }

  // Requests (by method name) a phone sent, in order, e.g. sent_by("1001", "REGISTER").
  std::vector<std::string> sent_by(std::string_view sender, std::string_view method) const {
    std::vector<std::string> out;
    for (const auto& m : log)
      if (m.sender == sender && m.bytes.rfind(std::string(method) + " ", 0) == 0)
        out.push_back(m.bytes);
    return out;
  }
  // Responses with this status a phone sent.
  std::vector<std::string> responses_by(std::string_view sender, int status) const {
    std::vector<std::string> out;
    const std::string prefix = "SIP/2.0 " + std::to_string(status) + " ";
    for (const auto& m : log)
      if (m.sender == sender && m.bytes.rfind(prefix, 0) == 0) out.push_back(m.bytes);
    return out;
  }
  std::size_t pending_timers() const { return timers_.size(); }

  // Hands a raw message to a phone as if the proxy sent it (for hand-made requests).
  void inject(const std::string& user, std::string_view bytes) {
    node* n = find(user);
    REQUIRE(n != nullptr);
    auto m = sip::message::parse(bytes);
    if (!m) {
      n->ph->on_malformed(bytes, m.err().reason, proxy);
    } else {
      n->ph->on_message(*m, proxy);
    }
    drain();
  }

 private:
  struct queued {
    std::string sender;
    std::string bytes;
  };

  void drain() {
    while (!queue_.empty()) {
      queued q = std::move(queue_.front());
      queue_.pop_front();
      route(q);
    }
  }

  void deliver(node& n, const sip::message& m) { n.ph->on_message(m, proxy); }

  void reply(const std::string& to_user, const sip::message& req, int status,
             std::vector<sip::extra_header> headers = {}, std::string_view contact = {}) {
    std::string bytes = sip::build_response(req, {.status = status,
                                                  .reason = {},
                                                  .to_tag = "proxy" + std::to_string(seq_++),
                                                  .contact = contact,
                                                  .copy_record_route = false,
                                                  .headers = headers,
                                                  .content_type = {},
                                                  .body = {}});
    log.push_back({"proxy", bytes, false});
    auto m = sip::message::parse(bytes);
    REQUIRE(m.ok());
    if (node* n = find(to_user)) deliver(*n, *m);
  }

  void route(const queued& q) {
    auto parsed = sip::message::parse(q.bytes);
    REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? std::string() : parsed.err().reason + "\n" + q.bytes));
    const sip::message& m = *parsed;
    const bool dropped = drop && drop(q.sender, m);
    log.push_back({q.sender, q.bytes, dropped});
    if (dropped) return;
    if (m.is_response()) {
      // The route key sits between the cookie and the '.' of the branch.
      const auto b = m.top_via().branch;
      const auto dot = b.find('.');
      if (b.size() < 8 || dot == std::string_view::npos) return;
      const auto key = b.substr(7, dot - 7);
      for (auto& n : nodes_)
        if (n->route_key == key) deliver(*n, m);
      return;
    }
    if (m.method() == sip::method::register_) {
      registrar(q.sender, m);
      return;
    }
    // ACKs for the proxy's own 407 end here.
    if (m.method() == sip::method::ack && m.to().tag.substr(0, 5) == "proxy") return;
    if (challenge_invites && m.method() == sip::method::invite && m.to().tag.empty()) {
      auto& srv = proxy_auth_.at(q.sender);
      const auto auth = m.header(sip::header_id::proxy_authorization);
      if (auth.empty() ||
          srv.verify(auth, "INVITE", m.request_uri().text) != sip::test::digest_check::ok) {
        const std::string ch = srv.challenge("pnonce" + std::to_string(seq_++));
        reply(q.sender, m, 407, {{.name = "Proxy-Authenticate", .value = ch}});
        return;
      }
    }
    node* target = find(m.request_uri().user);
    if (target == nullptr) {
      if (m.method() != sip::method::ack) reply(q.sender, m, 404);
      return;
    }
    deliver(*target, m);
  }

  void registrar(const std::string& sender, const sip::message& m) {
    ++register_count;
    if (registrar_silent) return;
    auto& srv = registrar_.at(sender);
    const auto auth = m.header(sip::header_id::authorization);
    if (auth.empty()) {
      const std::string ch = srv.challenge("rnonce" + std::to_string(seq_++));
      reply(sender, m, 401, {{.name = "WWW-Authenticate", .value = ch}});
      return;
    }
    if (srv.verify(auth, "REGISTER", m.request_uri().text) != sip::test::digest_check::ok) {
      // The same nonce again: a wrong password (RFC 7616 §3.3).
      std::string nonce(auth.substr(auth.find("nonce=\"") + 7));
      nonce = nonce.substr(0, nonce.find('"'));
      reply(sender, m, 401, {{.name = "WWW-Authenticate", .value = srv.challenge(nonce)}});
      return;
    }
    const std::uint32_t asked =
        static_cast<std::uint32_t>(std::stoul(std::string(m.header(sip::header_id::expires))));
    if (asked > 0 && min_expires > 0 && asked < min_expires) {
      const std::string min = std::to_string(min_expires);
      reply(sender, m, 423, {{.name = "Min-Expires", .value = min}});
      return;
    }
    const std::uint32_t granted = max_expires > 0 && asked > max_expires ? max_expires : asked;
    last_register_expires = asked;
    if (granted == 0) {
      reply(sender, m, 200);
      return;
    }
    const std::string contact =
        std::string(m.header(sip::header_id::contact)) + ";expires=" + std::to_string(granted);
    reply(sender, m, 200, {{.name = "Contact", .value = contact}});
  }

 public:
  int register_count = 0;
  std::uint32_t last_register_expires = 0;

 private:
  std::vector<std::unique_ptr<node>> nodes_;
  std::deque<queued> queue_;
  std::multimap<std::pair<clock::time_point, std::uint64_t>, std::pair<std::string, timer_token>>
      timers_;
  std::uint64_t seq_ = 0;
  std::map<std::string, sip::test::digest_server> registrar_;
  std::map<std::string, sip::test::digest_server> proxy_auth_;
};

inline void phone_env::send(const endpoint& to, std::string_view bytes) {
  CHECK(to == net_.proxy);  // everything goes to the outbound proxy
  net_.submit(user_, bytes);
}
inline void phone_env::start_timer(timer_token token, milliseconds after) {
  if (token.slot > max_slot) max_slot = token.slot;
  net_.add_timer(user_, token, after);
}
inline void phone_env::cancel_timer(timer_token token) {
  // A phone cancels only timers it armed and that have not fired.
  CHECK(net_.remove_timer(user_, token));
  ++cancelled;
}
inline clock::time_point phone_env::now() const { return net_.now; }

// The value of a header line in raw bytes ("Expires" -> "3600"), empty when absent.
inline std::string header_of(std::string_view bytes, std::string_view name) {
  auto m = sip::message::parse(bytes);
  if (!m) return {};
  return std::string(m->header(name));
}

// A hand-made request inside the first call `caller` placed to `callee`, as the dialog of
// the INVITE and the callee's 200 says: from the caller to the callee, or back. `extra` is
// header lines, each ending in "\r\n".
struct hand_request {
  std::string_view method{};
  std::uint32_t cseq = 1;
  bool from_callee = false;
  std::string_view extra{};
  std::string_view content_type{};
  std::string_view body{};
};

inline std::string in_dialog_request(const network& net, std::string_view caller,
                                     std::string_view callee, const hand_request& r) {
  const auto invite = sip::message::parse(net.sent_by(caller, "INVITE").at(0));
  const auto ok = sip::message::parse(net.responses_by(callee, 200).at(0));
  REQUIRE(invite.ok());
  REQUIRE(ok.ok());
  const sip::message& towards = r.from_callee ? *invite : *ok;  // whose Contact is the target
  const auto contact = sip::parse_name_addr(towards.header(sip::header_id::contact));
  REQUIRE(contact.ok());
  const std::string from(r.from_callee ? ok->header(sip::header_id::to)
                                       : invite->header(sip::header_id::from));
  const std::string to(r.from_callee ? invite->header(sip::header_id::from)
                                     : ok->header(sip::header_id::to));
  const std::string method(r.method);
  std::string out = method + " " + std::string(contact->uri.text) + " SIP/2.0\r\n" +
                    "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKhand" + method +
                    std::to_string(r.cseq) + "\r\nMax-Forwards: 70\r\nFrom: " + from +
                    "\r\nTo: " + to + "\r\nCall-ID: " + std::string(invite->call_id()) +
                    "\r\nCSeq: " + std::to_string(r.cseq) + " " + method + "\r\n" +
                    std::string(r.extra);
  if (!r.content_type.empty()) out += "Content-Type: " + std::string(r.content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n" + std::string(r.body);
  return out;
}

}  // namespace sipfleet::ua::test
