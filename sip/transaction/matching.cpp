// Transaction matching: RFC 3261 §17.1.3 (client), §17.2.3 (server), §9.2 (CANCEL).
#include "sip/transaction/matching.hpp"

#include <functional>

namespace sipfleet::sip::transaction {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Extension methods are told apart by their text (§7.1: method names are case-sensitive).
std::string extension_text(sip::method m, std::string_view text) {
  return m == sip::method::unknown ? std::string(text) : std::string();
}

void mix(std::size_t& seed, std::size_t h) {
  seed ^= h + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
}

}  // namespace

client_key client_key_for_request(std::string_view branch, sip::method method,
                                  std::string_view method_text) {
  if (method == sip::method::ack) method = sip::method::invite;
  return client_key{.branch = std::string(branch),
                    .method = method,
                    .method_text = extension_text(method, method_text)};
}

client_key client_key_for_response(std::string_view top_via_branch, const sip::cseq& cseq) {
  return client_key_for_request(top_via_branch, cseq.method, cseq.method_text);
}

client_key client_key_for_response(const message& response) {
  return client_key_for_response(response.top_via().branch, response.cseq());
}

request_identity identity_of(const message& request) {
  return request_identity{.method = request.method(),
                          .method_text = request.method_text(),
                          .top_via = request.top_via(),
                          .request_uri = request.request_uri().text,
                          .from_tag = request.from().tag,
                          .to_tag = request.to().tag,
                          .call_id = request.call_id(),
                          .cseq_number = request.cseq().number};
}

server_key server_key_for(const request_identity& r) {
  const sip::method m = r.method == sip::method::ack ? sip::method::invite : r.method;
  server_key k{.rfc3261 = r.top_via.rfc3261_branch(),
               .branch = std::string(r.top_via.branch),
               .sent_by_host = lower(r.top_via.host),
               .sent_by_port = r.top_via.port,
               .method = m,
               .method_text = extension_text(m, r.method_text)};
  if (!k.rfc3261) {
    // §17.2.3, RFC 2543 compatibility: "the Request-URI, To tag, From tag, Call-ID, CSeq, and
    // top Via header field match those of the INVITE request which created the transaction".
    // For ACK the CSeq method differs (ACK vs INVITE) and is stored as INVITE above.
    k.request_uri = std::string(r.request_uri);
    k.from_tag = std::string(r.from_tag);
    k.call_id = std::string(r.call_id);
    k.cseq_number = r.cseq_number;
  }
  return k;
}

server_key server_key_for(const message& request) {
  return server_key_for(identity_of(request));
}

server_key cancelled_invite_key(const request_identity& cancel) {
  // §9.2: "the transaction ... using the procedures described in Section 17.2.3 ... the CANCEL
  // request [matches] the INVITE transaction" with the method taken as INVITE.
  request_identity as_invite = cancel;
  as_invite.method = sip::method::invite;
  as_invite.method_text = {};
  return server_key_for(as_invite);
}

server_key cancelled_invite_key(const message& cancel) {
  return cancelled_invite_key(identity_of(cancel));
}

bool rfc2543_to_tag_matches(const request_identity& incoming, std::string_view creating_to_tag,
                            std::string_view response_to_tag) {
  if (incoming.method == sip::method::ack) return incoming.to_tag == response_to_tag;
  return incoming.to_tag == creating_to_tag;
}

std::size_t client_key_hash::operator()(const client_key& k) const {
  std::size_t seed = std::hash<std::string>{}(k.branch);
  mix(seed, static_cast<std::size_t>(k.method));
  mix(seed, std::hash<std::string>{}(k.method_text));
  return seed;
}

std::size_t server_key_hash::operator()(const server_key& k) const {
  const std::hash<std::string> h;
  std::size_t seed = h(k.branch);
  mix(seed, h(k.sent_by_host));
  mix(seed, k.sent_by_port);
  mix(seed, static_cast<std::size_t>(k.method));
  mix(seed, h(k.method_text));
  if (!k.rfc3261) {
    mix(seed, h(k.request_uri));
    mix(seed, h(k.from_tag));
    mix(seed, h(k.call_id));
    mix(seed, k.cseq_number);
  }
  return seed;
}

}  // namespace sipfleet::sip::transaction
