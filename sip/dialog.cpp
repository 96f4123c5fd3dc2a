// Dialog creation (RFC 3261 §12.1), requests within a dialog (§12.2) and the ACK for a 2xx
// (§13.2.2.4).
#include "sip/dialog.hpp"

#include <algorithm>
#include <array>

#include "sip/scan.hpp"

namespace sipfleet::sip {
namespace {

// Routes written from the stack; a longer route set (never seen in practice) uses the heap.
constexpr std::size_t k_inline_routes = 16;

// From/To of in-dialog requests carry the dialog's URIs (§12.2.1.1); we keep the display name
// too, quoted, as phones show it. Other header parameters are not part of the dialog.
std::string make_address(const name_addr& a) {
  std::string out;
  out.reserve(a.display.size() + a.uri.text.size() + 5);
  if (!a.display.empty()) out.append(1, '"').append(a.display).append("\" ");
  out.append(1, '<').append(a.uri.text).append(1, '>');
  return out;
}

bool is_secure(const message& request) {
  // §12.1.1, §12.1.2: "if the request was sent [arrived] over TLS, and the Request-URI
  // contained a SIPS URI, the secure flag is set to TRUE." The top Via names the transport
  // of the hop the request took.
  return request.request_uri().scheme == uri_scheme::sips &&
         scan::iequals(request.top_via().transport, "TLS");
}

}  // namespace

std::size_t dialog_id_hash::operator()(const dialog_id_view& id) const {
  const std::hash<std::string_view> h;
  std::size_t seed = h(id.call_id);
  for (std::string_view part : {id.local_tag, id.remote_tag})
    seed ^= h(part) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  return seed;
}

dialog_id_view incoming_dialog_id(const message& m) {
  if (m.is_request()) return {m.call_id(), m.to().tag, m.from().tag};  // §12.2.2
  return {m.call_id(), m.from().tag, m.to().tag};                      // §12.2.1.2
}

bool is_target_refresh(method m) {
  // §12.2: re-INVITE; RFC 3311 UPDATE; RFC 6665 §4.1.2.1/§4.1.3: SUBSCRIBE and NOTIFY.
  return m == method::invite || m == method::update || m == method::subscribe ||
         m == method::notify;
}

result<dialog> dialog::from_uac(const message& request, const message& response) {
  if (!request.is_request() || !response.is_response())
    return error{"a dialog needs the request and a response to it"};
  const int status = response.status_code();
  if (status <= 100 || status >= 300) return error{"only a 101-299 response creates a dialog"};
  // §12.1: a provisional response creates an early dialog only when it has a To tag. A 2xx
  // without one comes from an RFC 2543 UA: its tag is null (§12.1.2).
  if (status < 200 && response.to().tag.empty())
    return error{"a provisional response without a To tag creates no dialog"};
  if (request.from().tag.empty()) return error{"the request has no From tag"};
  if (response.call_id() != request.call_id() || response.from().tag != request.from().tag ||
      response.cseq().number != request.cseq().number)
    return error{"the response does not answer the request"};

  dialog d;
  d.is_uac_ = true;
  d.state_ = status < 200 ? dialog_state::early : dialog_state::confirmed;
  // §12.1.2: Call-ID of the request, local tag = From tag, remote tag = To tag of the response,
  // local URI = From URI, remote URI = To URI, local CSeq = the request's, remote CSeq empty.
  d.call_id_ = request.call_id();
  d.local_tag_ = request.from().tag;
  d.remote_tag_ = response.to().tag;
  d.local_uri_ = request.from().uri.text;
  d.remote_uri_ = request.to().uri.text;
  d.local_address_ = make_address(request.from());
  d.remote_address_ = make_address(request.to());
  d.local_cseq_ = request.cseq().number;
  if (request.method() == method::invite) d.invite_cseq_ = request.cseq().number;
  d.secure_ = is_secure(request);
  // Remote target = the response's Contact URI. A provisional response may lack one; until one
  // comes, requests go where the INVITE went.
  d.remote_target_ = request.request_uri().text;
  d.set_remote_target(response);
  // Route set = the response's Record-Route values in reverse order.
  d.set_route_set(response, true);
  return d;
}

result<dialog> dialog::from_uas(const message& request, std::string_view local_tag, int status) {
  if (!request.is_request()) return error{"a UAS dialog is made from a request"};
  if (status <= 100 || status >= 300) return error{"only a 101-299 response creates a dialog"};
  if (local_tag.empty()) return error{"a dialog-creating response needs a To tag"};
  if (request.count(header_id::contact) == 0)
    return error{"the request has no Contact to be the remote target"};

  dialog d;
  d.is_uac_ = false;
  d.state_ = status < 200 ? dialog_state::early : dialog_state::confirmed;
  // §12.1.1: local tag = the To tag of our response, remote tag = From tag (null when absent),
  // local URI = To URI, remote URI = From URI, remote CSeq = the request's, local CSeq empty.
  d.call_id_ = request.call_id();
  d.local_tag_ = local_tag;
  d.remote_tag_ = request.from().tag;
  d.local_uri_ = request.to().uri.text;
  d.remote_uri_ = request.from().uri.text;
  d.local_address_ = make_address(request.to());
  d.remote_address_ = make_address(request.from());
  d.remote_cseq_ = request.cseq().number;
  d.secure_ = is_secure(request);
  d.set_remote_target(request);
  if (d.remote_target_.empty()) return error{"the request's Contact has no URI"};
  // Route set = the request's Record-Route values, in order.
  d.set_route_set(request, false);
  return d;
}

void dialog::set_route_set(const message& m, bool reverse) {
  route_set_.clear();
  m.for_each(header_id::record_route, [&](std::string_view v) { route_set_.emplace_back(v); });
  if (reverse) std::reverse(route_set_.begin(), route_set_.end());
  loose_route_ = true;
  first_route_uri_.clear();
  if (route_set_.empty()) return;
  // §12.2.1.1: the first route decides: ";lr" means a loose router (§16.12.1.1).
  const auto first = parse_name_addr(route_set_.front());
  if (!first) return;  // message::parse checked it; keep loose routing if not
  loose_route_ = first->uri.has_param("lr");
  // A strict router's URI becomes the Request-URI, "stripping any parameters that are not
  // allowed in a Request-URI": the headers component (§19.1.1).
  std::string_view uri = first->uri.text;
  if (!first->uri.headers.empty()) uri = uri.substr(0, uri.find('?'));
  first_route_uri_ = uri;
}

void dialog::set_remote_target(const message& m) {
  if (m.count(header_id::contact) == 0) return;
  const auto contact = parse_name_addr(m.header(header_id::contact));
  if (!contact || contact->wildcard || contact->uri.text.empty()) return;
  remote_target_ = contact->uri.text;
}

dialog_state dialog::on_response(const message& response) {
  if (state_ == dialog_state::terminated) return state_;
  const int status = response.status_code();
  const method m = response.cseq().method;
  if (status >= 200 && status < 300) {
    if (state_ == dialog_state::early && m == method::invite) {
      // §13.2.2.4: the 2xx confirms the early dialog, and the UAC recomputes the route set
      // from it (§12.2.1.2 procedures); its Contact is the remote target.
      state_ = dialog_state::confirmed;
      if (is_uac_) set_route_set(response, true);
      set_remote_target(response);
    } else if (is_target_refresh(m)) {
      // §12.2.1.2: a 2xx to a target refresh replaces the remote target.
      set_remote_target(response);
    }
  } else if (status > 100 && status < 200) {
    // A later provisional response of the same early dialog may carry a newer Contact.
    if (state_ == dialog_state::early && m == method::invite) set_remote_target(response);
  } else if (status >= 300) {
    // §12.2.1.2: 481 or 408 to a request in the dialog ends it. §13.2.2.3: a non-2xx final
    // response to the INVITE ends its early dialogs.
    if (status == 481 || status == 408) {
      state_ = dialog_state::terminated;
    } else if (state_ == dialog_state::early && m == method::invite &&
               invite_cseq_ == response.cseq().number) {
      state_ = dialog_state::terminated;
    }
  }
  return state_;
}

dialog_state dialog::on_response_sent(int status) {
  if (state_ != dialog_state::early) return state_;
  if (status >= 200 && status < 300) state_ = dialog_state::confirmed;
  if (status >= 300) state_ = dialog_state::terminated;
  return state_;
}

request_verdict dialog::on_request(const message& request) {
  const method m = request.method();
  if (m != method::ack && m != method::cancel) {
    // §12.2.2: empty remote CSeq -> take the request's; lower -> out of order (500); else
    // the remote CSeq becomes the request's.
    const std::uint32_t n = request.cseq().number;
    if (remote_cseq_ && n < *remote_cseq_) return request_verdict::out_of_order;
    remote_cseq_ = n;
  }
  // §12.2.2: a target refresh request replaces the remote target with its Contact.
  if (is_target_refresh(m)) set_remote_target(request);
  return request_verdict::accept;
}

void dialog::write(std::string& out, request_options o) const {
  // §12.2.1.1: To = remote URI + remote tag, From = local URI + local tag, the dialog's Call-ID.
  o.from = local_address_;
  o.from_tag = local_tag_;
  o.to = remote_address_;
  o.to_tag = remote_tag_;
  o.call_id = call_id_;

  const std::size_t n = route_set_.size();
  std::array<std::string_view, k_inline_routes> inline_routes;
  std::vector<std::string_view> heap_routes;
  std::span<std::string_view> routes(inline_routes.data(), std::min(n, k_inline_routes));
  if (n > k_inline_routes) {
    heap_routes.resize(n);
    routes = heap_routes;
  }
  if (loose_route_) {
    // Empty route set, or a loose router first: Request-URI = remote target, Route = the
    // route set in order.
    o.request_uri = remote_target_;
    std::copy(route_set_.begin(), route_set_.end(), routes.begin());
  } else {
    // A strict router first: Request-URI = its URI, Route = the rest of the route set, then
    // the remote target as the last Route.
    o.request_uri = first_route_uri_;
    std::copy(route_set_.begin() + 1, route_set_.end(), routes.begin());
    routes[n - 1] = remote_target_;
  }
  o.routes = routes;
  sip::write_request(out, o);
}

void dialog::write_request(std::string& out, const in_dialog_request& r) {
  // §12.2.1.1: the local CSeq goes up by one per request (an empty one starts at 1, §8.1.1.5);
  // ACK and CANCEL reuse the number of the request they go with.
  if (r.method != method::ack && r.method != method::cancel)
    local_cseq_ = local_cseq_ ? *local_cseq_ + 1 : 1;
  const std::uint32_t cseq = local_cseq_.value_or(1);
  if (r.method == method::invite) invite_cseq_ = cseq;
  write(out, {.method = r.method,
              .method_text = r.method_text,
              .via = r.via,
              .cseq = cseq,
              .max_forwards = r.max_forwards,
              .contact = r.contact,
              .headers = r.headers,
              .content_type = r.content_type,
              .body = r.body});
}

std::string dialog::build_request(const in_dialog_request& r) {
  std::string out;
  write_request(out, r);
  return out;
}

std::string dialog::build_ack(const dialog_ack& a) const {
  // §13.2.2.4: built like any in-dialog request except CSeq: the INVITE's number, method ACK.
  const std::uint32_t cseq = a.invite_cseq.value_or(invite_cseq_.value_or(local_cseq_.value_or(1)));
  std::string out;
  write(out, {.method = method::ack,
              .via = a.via,
              .cseq = cseq,
              .headers = a.headers,
              .content_type = a.content_type,
              .body = a.body});
  return out;
}

}  // namespace sipfleet::sip
