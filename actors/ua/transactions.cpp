// The glue between the phone (the transaction user) and the four RFC 3261 §17 machines: every
// request the phone sends runs in a client transaction, every request it receives in a server
// transaction. The machines say what to do (send, retransmit, start a timer, tell the TU); this
// file does it. Timers go through the phone's slots (phone.cpp); a transaction is erased as soon
// as its machine reports Terminated.
#include <algorithm>
#include <utility>

#include "actors/ua/phone_impl.hpp"

namespace sipfleet::ua {

using namespace detail;

namespace detail {

namespace {
std::variant<txn::client_invite, txn::client_non_invite> client_machine(sip::method m,
                                                                       const txn::options& o) {
  if (m == sip::method::invite) return txn::client_invite(o);
  return txn::client_non_invite(o);
}
std::variant<txn::server_invite, txn::server_non_invite> server_machine(bool invite,
                                                                       const txn::options& o) {
  if (invite) return txn::server_invite(o);
  return txn::server_non_invite(o);
}
}  // namespace

client_txn::client_txn(std::uint32_t id_, client_purpose purpose_, std::uint32_t call_,
                       sip::message request_, const txn::options& opts)
    : id(id_),
      purpose(purpose_),
      call(call_),
      machine(client_machine(request_.method(), opts)),
      key(txn::client_key_for_request(request_.top_via().branch, request_.method(),
                                      request_.method_text())),
      request(std::make_unique<sip::message>(std::move(request_))) {}

client_txn::client_txn(std::uint32_t id_, client_purpose purpose_, std::uint32_t call_,
                       std::string raw_, txn::client_key key_, const txn::options& opts)
    : id(id_),
      purpose(purpose_),
      call(call_),
      machine(client_machine(key_.method, opts)),
      key(std::move(key_)),
      raw(std::move(raw_)) {}

const sip::message* client_txn::parsed() {
  if (!request && !raw.empty()) {
    auto m = sip::message::parse(raw);
    if (!m) return nullptr;
    request = std::make_unique<sip::message>(std::move(m).value());
    std::string().swap(raw);
  }
  return request.get();
}

server_txn::server_txn(std::uint32_t id_, bool invite, txn::server_key key_, endpoint from_,
                       const txn::options& opts)
    : id(id_), machine(server_machine(invite, opts)), key(std::move(key_)), from(std::move(from_)) {}

}  // namespace detail

// ---- client transactions (§17.1) --------------------------------------------------------------

namespace {
// The key of a request this phone built (sip/builder.cpp): the method opens the request line
// and the first "Via: " line carries the branch. A few finds instead of a parse; nullopt for
// anything else (then the request is parsed).
std::optional<txn::client_key> key_of_built(std::string_view raw) {
  const auto method = sip::method_from_name(raw.substr(0, raw.find(' ')));
  if (method == sip::method::unknown || method == sip::method::invite) return std::nullopt;
  const auto via = raw.find("\r\nVia: ");
  if (via == std::string_view::npos) return std::nullopt;
  const auto line = raw.substr(via + 2, raw.find('\r', via + 2) - (via + 2));
  const auto at = line.find(";branch=");
  if (at == std::string_view::npos) return std::nullopt;
  auto branch = line.substr(at + 8);
  branch = branch.substr(0, branch.find_first_of(";, \t"));
  if (branch.empty()) return std::nullopt;
  return txn::client_key_for_request(branch, method, {});
}
}  // namespace

client_txn* phone::impl::start_client(std::string bytes, client_purpose purpose,
                                      std::uint32_t call_id) {
  if (auto key = key_of_built(bytes)) {
    // Not an INVITE: the bytes are all the transaction needs to run.
    clients_.push_back(std::make_unique<client_txn>(++next_id_, purpose, call_id, std::move(bytes),
                                                    std::move(*key), txn_options()));
  } else {
    // An INVITE parses (the builders guarantee it); the parsed copy gives the ACK, CANCEL and
    // dialog their fields and the transport its bytes.
    auto parsed = sip::message::parse(bytes);
    if (!parsed) return nullptr;  // cannot happen with the builders' output; never crash over it
    clients_.push_back(std::make_unique<client_txn>(++next_id_, purpose, call_id,
                                                    std::move(parsed).value(), txn_options()));
  }
  client_txn& t = *clients_.back();
  auto actions = std::visit([](auto& m) { return m.on(txn::start{}); }, t.machine);
  run_client(t, actions, nullptr);
  return &t;
}

client_txn* phone::impl::find_client(std::uint32_t id) {
  if (id == 0) return nullptr;
  for (auto& t : clients_)
    if (t->id == id && !t->dead) return t.get();
  return nullptr;
}

void phone::impl::on_response(const sip::message& m) {
  // §17.1.3: branch of the top Via and the CSeq method.
  const auto key = txn::client_key_for_response(m);
  for (auto& t : clients_) {
    if (t->dead || !(t->key == key)) continue;
    auto actions = std::visit(
        [&](auto& machine) { return machine.on(txn::response_received{m.status_code()}); },
        t->machine);
    run_client(*t, actions, &m);
    return;
  }
  // No transaction: a stray or late response (e.g. a 2xx after Timer M) is dropped (§18.1.2).
}

void phone::impl::run_client(client_txn& t, const txn::action_list& actions,
                             const sip::message* response) {
  for (const auto& a : actions) {
    if (const auto* s = std::get_if<txn::send_request>(&a)) {
      if (const auto bytes = t.bytes(); !bytes.empty()) send_to_proxy(bytes);
      if (s->retransmission) count_retransmission(t.call);
    } else if (const auto* ack = std::get_if<txn::send_ack>(&a)) {
      // §17.1.1.3: built once from the INVITE and the final response, resent as is.
      if (t.ack.empty() && response != nullptr) t.ack = txn::build_ack(*t.request, *response);
      if (!t.ack.empty()) send_to_proxy(t.ack);
      if (ack->retransmission) count_retransmission(t.call);
    } else if (const auto* st = std::get_if<txn::start_timer>(&a)) {
      arm(timer_target::client, static_cast<std::uint8_t>(st->which), t.id, st->generation,
          st->after);
    } else if (const auto* tu = std::get_if<txn::to_tu>(&a)) {
      if (response != nullptr) on_client_result(t, tu->status, response);
    } else if (std::holds_alternative<txn::report_timeout>(a)) {
      on_client_result(t, txn::timeout_status, nullptr);  // §8.1.3.1: a 408
    } else if (std::holds_alternative<txn::report_transport_error>(a)) {
      on_client_result(t, 503, nullptr);  // §8.1.3.1: a 503
    } else if (std::holds_alternative<txn::terminated>(a)) {
      t.dead = true;
    }
  }
  // A non-INVITE transaction past its final response never sends its request again.
  if (const auto* m = std::get_if<txn::client_non_invite>(&t.machine);
      m != nullptr && m->state() >= txn::client_non_invite_state::completed)
    t.free_request();
}

void phone::impl::on_client_result(client_txn& t, int status, const sip::message* response) {
  switch (t.purpose) {
    case client_purpose::register_:
      on_register_result(t, status, response);
      break;
    case client_purpose::invite:
      on_invite_result(t, status, response);
      break;
    case client_purpose::reinvite:
      on_reinvite_result(t, status, response);
      break;
    case client_purpose::bye:
      on_bye_result(t, status);
      break;
    case client_purpose::cancel:
      break;  // the INVITE's own final response (487) decides the call (§9.1)
    case client_purpose::refer:
      on_refer_result(t, status);
      break;
    case client_purpose::notify:
      on_notify_result(t, status);
      break;
  }
}

void phone::impl::on_timer_client(const timer_slot& s) {
  client_txn* t = find_client(s.owner);
  if (t == nullptr) return;
  const txn::timer_fired e{.which = static_cast<txn::timer>(s.which), .generation = s.owner_gen};
  auto actions = std::visit([&](auto& m) { return m.on(e); }, t->machine);
  run_client(*t, actions, nullptr);
}

// ---- server transactions (§17.2) --------------------------------------------------------------

server_txn* phone::impl::find_server(std::uint32_t id) {
  if (id == 0) return nullptr;
  for (auto& t : servers_)
    if (t->id == id && !t->dead) return t.get();
  return nullptr;
}

bool phone::impl::absorb_retransmission(const sip::message& m) {
  const auto key = txn::server_key_for(m);
  for (auto& t : servers_) {
    if (t->dead || !(t->key == key)) continue;
    if (m.method() == sip::method::ack) {
      // The ACK for a non-2xx (same branch as the INVITE, §17.1.1.3) ends the transaction's
      // retransmissions; in Accepted (RFC 6026) it is the TU's and goes on to the dialog.
      auto actions = std::visit(
          [](auto& machine) -> txn::action_list {
            if constexpr (std::is_same_v<std::decay_t<decltype(machine)>, txn::server_invite>)
              return machine.on(txn::ack_received{});
            else
              return {};
          },
          t->machine);
      const bool to_tu = std::any_of(actions.begin(), actions.end(), [](const txn::action& a) {
        return std::holds_alternative<txn::to_tu>(a);
      });
      run_server(*t, actions);
      return !to_tu;
    }
    auto actions = std::visit([](auto& machine) { return machine.on(txn::request_received{}); },
                              t->machine);
    run_server(*t, actions);
    return true;
  }
  return false;
}

server_txn* phone::impl::start_server(const sip::message& m, const endpoint& from) {
  const bool invite = m.method() == sip::method::invite;
  servers_.push_back(std::make_unique<server_txn>(++next_id_, invite, txn::server_key_for(m), from,
                                                  txn_options()));
  server_txn& t = *servers_.back();
  if (invite) {
    t.request = std::make_unique<sip::message>(m.clone());
    t.last_response = sip::answer(m, 100);  // what send_trying sends (§8.2.6.1, no To tag)
  }
  auto actions = std::visit([](auto& machine) { return machine.on(txn::start{}); }, t.machine);
  run_server(t, actions);
  return &t;
}

void phone::impl::run_server(server_txn& t, const txn::action_list& actions) {
  for (const auto& a : actions) {
    if (std::holds_alternative<txn::send_trying>(a)) {
      if (t.request) t.last_response = sip::answer(*t.request, 100);
      env_.send(t.from, t.last_response);
    } else if (const auto* s = std::get_if<txn::send_response>(&a)) {
      env_.send(t.from, t.last_response);
      if (s->retransmission) count_retransmission(t.call);
    } else if (const auto* st = std::get_if<txn::start_timer>(&a)) {
      arm(timer_target::server, static_cast<std::uint8_t>(st->which), t.id, st->generation,
          st->after);
    } else if (std::holds_alternative<txn::terminated>(a)) {
      t.dead = true;
    }
    // to_tu: the caller handles the request itself; report_timeout (Timer H: no ACK for our
    // non-2xx) and transport errors need nothing more: the call already ended.
  }
}

void phone::impl::respond(server_txn& t, std::string bytes, int status) {
  t.last_response = std::move(bytes);
  auto actions = std::visit([&](auto& machine) { return machine.on(txn::tu_response{status}); },
                            t.machine);
  run_server(t, actions);
  if (status >= 200) t.request.reset();  // the request is no longer needed: free it now
}

void phone::impl::respond_simple(server_txn& t, const sip::message& m, int status,
                                 std::string_view reason,
                                 std::span<const sip::extra_header> headers) {
  // §8.2.6.2: a final response to a request without To tag gets one (a fresh one: no dialog).
  const std::string tag = m.to().tag.empty() && status > 100 ? sip::make_tag(rng_) : std::string();
  respond(t,
          sip::build_response(m, {.status = status,
                                  .reason = reason,
                                  .to_tag = tag,
                                  .contact = {},
                                  .copy_record_route = false,
                                  .headers = headers,
                                  .content_type = {},
                                  .body = {}}),
          status);
}

void phone::impl::on_timer_server(const timer_slot& s) {
  server_txn* t = find_server(s.owner);
  if (t == nullptr) return;
  const txn::timer_fired e{.which = static_cast<txn::timer>(s.which), .generation = s.owner_gen};
  auto actions = std::visit([&](auto& m) { return m.on(e); }, t->machine);
  run_server(*t, actions);
}

}  // namespace sipfleet::ua
