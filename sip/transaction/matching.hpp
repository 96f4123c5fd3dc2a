// Transaction keys: which transaction a message belongs to (RFC 3261 §17.1.3, §17.2.3, §9.2).
//
// A client transaction is found by a response's top Via branch and CSeq method. A server
// transaction is found by the request's top Via branch, sent-by and method when the branch
// carries the RFC 3261 magic cookie "z9hG4bK"; otherwise by the RFC 2543 rules (Request-URI,
// From tag, Call-ID, CSeq, top Via, and the To tag checked with rfc2543_to_tag_matches).
// Keys own their strings, so they can live in a hash map next to the transaction.
//
// The functions take the few fields they need (request_identity), so they work without a parsed
// message; the message overloads fill those fields from message.hpp's decoded headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sip/fields.hpp"
#include "sip/message.hpp"
#include "sip/method.hpp"

namespace sipfleet::sip::transaction {

// §17.1.3: "the branch parameter in the response [matches] the one in the top Via header field
// of the request that created the transaction [and] the method parameter in the CSeq header
// field matches the method of the request that created the transaction".
struct client_key {
  std::string branch{};
  sip::method method = sip::method::unknown;
  std::string method_text{};  // extension methods only (method::unknown); empty otherwise

  bool operator==(const client_key&) const = default;
};

// The key of the client transaction that sends a request with this top Via branch and method.
// A CANCEL is its own transaction (same branch as its INVITE, method CANCEL). An ACK for a
// non-2xx is part of the INVITE transaction, so ACK maps to INVITE.
client_key client_key_for_request(std::string_view branch, sip::method method,
                                  std::string_view method_text = {});
// The key a response looks for: its top Via branch and its CSeq method. A 487 to an INVITE
// (CSeq INVITE) finds the INVITE transaction; the 200 to the CANCEL (CSeq CANCEL) the CANCEL's.
client_key client_key_for_response(std::string_view top_via_branch, const sip::cseq& cseq);
client_key client_key_for_response(const message& response);

// What a server transaction is matched by, taken from a request.
struct request_identity {
  sip::method method = sip::method::unknown;
  std::string_view method_text;  // needed for extension methods
  sip::via top_via;
  std::string_view request_uri;  // as written (RFC 2543 matching only)
  std::string_view from_tag;
  std::string_view to_tag;
  std::string_view call_id;
  std::uint32_t cseq_number = 0;
};

request_identity identity_of(const message& request);

struct server_key {
  bool rfc3261 = true;  // the branch starts with z9hG4bK
  std::string branch{};
  std::string sent_by_host{};  // lower-case
  std::uint16_t sent_by_port = 0;
  sip::method method = sip::method::unknown;  // ACK is stored as INVITE
  std::string method_text{};                  // extension methods only
  // RFC 2543 fallback only (empty / 0 for RFC 3261 keys):
  std::string request_uri{};
  std::string from_tag{};
  std::string call_id{};
  std::uint32_t cseq_number = 0;

  bool operator==(const server_key&) const = default;
};

// §17.2.3: the key of the server transaction a request belongs to. An ACK gets the key of the
// INVITE transaction it acknowledges ("except for ACK, where the method of the request that
// created the transaction is INVITE"). A CANCEL gets its own key (method CANCEL).
server_key server_key_for(const request_identity& request);
server_key server_key_for(const message& request);

// §9.2: the INVITE server transaction a CANCEL is for: the CANCEL's key with method INVITE.
// The UAS answers the CANCEL (200) in the CANCEL's own transaction and the INVITE with 487.
server_key cancelled_invite_key(const request_identity& cancel);
server_key cancelled_invite_key(const message& cancel);

// RFC 2543 fallback, after a lookup by server_key found a transaction: §17.2.3 also requires the
// To tag to match, which a key cannot carry because an ACK bears the tag of the server's
// response rather than the INVITE's. For an ACK: its To tag equals the To tag of the response
// the transaction sent; for any other request: its To tag equals that of the request that
// created the transaction.
bool rfc2543_to_tag_matches(const request_identity& incoming, std::string_view creating_to_tag,
                            std::string_view response_to_tag);

struct client_key_hash {
  std::size_t operator()(const client_key& k) const;
};
struct server_key_hash {
  std::size_t operator()(const server_key& k) const;
};

}  // namespace sipfleet::sip::transaction
