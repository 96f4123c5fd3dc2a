// The header table (see header_id.hpp): canonical names, compact forms (RFC 3261 §7.3.3,
// RFC 3515, RFC 3841, RFC 3892, RFC 4028, RFC 6665, RFC 8224), multi-value flags and defining RFCs.
#include <array>

#include "sip/header_id.hpp"
#include "sip/scan.hpp"

namespace sipfleet::sip {
namespace {

using enum header_id;

// Indexed by header_id: keep in the enum's order.
constexpr std::array<header_info, static_cast<std::size_t>(count_)> k_table{{
    {unknown, "", 0, false, ""},
    {accept, "Accept", 0, true, "RFC 3261"},
    {accept_contact, "Accept-Contact", 'a', true, "RFC 3841"},
    {accept_encoding, "Accept-Encoding", 0, true, "RFC 3261"},
    {accept_language, "Accept-Language", 0, true, "RFC 3261"},
    {alert_info, "Alert-Info", 0, true, "RFC 3261"},
    {allow, "Allow", 0, true, "RFC 3261"},
    {allow_events, "Allow-Events", 'u', true, "RFC 6665"},
    {authentication_info, "Authentication-Info", 0, false, "RFC 3261"},
    {authorization, "Authorization", 0, false, "RFC 3261"},
    {call_id, "Call-ID", 'i', false, "RFC 3261"},
    {call_info, "Call-Info", 0, true, "RFC 3261"},
    {contact, "Contact", 'm', true, "RFC 3261"},
    {content_disposition, "Content-Disposition", 0, false, "RFC 3261"},
    {content_encoding, "Content-Encoding", 'e', true, "RFC 3261"},
    {content_language, "Content-Language", 0, true, "RFC 3261"},
    {content_length, "Content-Length", 'l', false, "RFC 3261"},
    {content_type, "Content-Type", 'c', false, "RFC 3261"},
    {cseq, "CSeq", 0, false, "RFC 3261"},
    {date, "Date", 0, false, "RFC 3261"},
    {error_info, "Error-Info", 0, true, "RFC 3261"},
    {event, "Event", 'o', false, "RFC 6665"},
    {expires, "Expires", 0, false, "RFC 3261"},
    {from, "From", 'f', false, "RFC 3261"},
    {identity, "Identity", 'y', false, "RFC 8224"},
    {in_reply_to, "In-Reply-To", 0, true, "RFC 3261"},
    {max_forwards, "Max-Forwards", 0, false, "RFC 3261"},
    {min_expires, "Min-Expires", 0, false, "RFC 3261"},
    {mime_version, "MIME-Version", 0, false, "RFC 3261"},
    {organization, "Organization", 0, false, "RFC 3261"},
    {priority, "Priority", 0, false, "RFC 3261"},
    {proxy_authenticate, "Proxy-Authenticate", 0, false, "RFC 3261"},
    {proxy_authorization, "Proxy-Authorization", 0, false, "RFC 3261"},
    {proxy_require, "Proxy-Require", 0, true, "RFC 3261"},
    {rack, "RAck", 0, false, "RFC 3262"},
    {reason, "Reason", 0, true, "RFC 3326"},
    {record_route, "Record-Route", 0, true, "RFC 3261"},
    {refer_to, "Refer-To", 'r', false, "RFC 3515"},
    {referred_by, "Referred-By", 'b', false, "RFC 3892"},
    {reject_contact, "Reject-Contact", 'j', true, "RFC 3841"},
    {reply_to, "Reply-To", 0, false, "RFC 3261"},
    {request_disposition, "Request-Disposition", 'd', true, "RFC 3841"},
    {require, "Require", 0, true, "RFC 3261"},
    {retry_after, "Retry-After", 0, false, "RFC 3261"},
    {route, "Route", 0, true, "RFC 3261"},
    {rseq, "RSeq", 0, false, "RFC 3262"},
    {server, "Server", 0, false, "RFC 3261"},
    {session_expires, "Session-Expires", 'x', false, "RFC 4028"},
    {subject, "Subject", 's', false, "RFC 3261"},
    {subscription_state, "Subscription-State", 0, false, "RFC 6665"},
    {supported, "Supported", 'k', true, "RFC 3261"},
    {timestamp, "Timestamp", 0, false, "RFC 3261"},
    {to, "To", 't', false, "RFC 3261"},
    {unsupported, "Unsupported", 0, true, "RFC 3261"},
    {user_agent, "User-Agent", 0, false, "RFC 3261"},
    {via, "Via", 'v', true, "RFC 3261"},
    {warning, "Warning", 0, true, "RFC 3261"},
    {www_authenticate, "WWW-Authenticate", 0, false, "RFC 3261"},
}};

static_assert([] {
  for (std::size_t i = 0; i < k_table.size(); ++i)
    if (static_cast<std::size_t>(k_table[i].id) != i) return false;
  return true;
}(), "k_table must be in header_id order");

// Lookup without hashing: compact forms by letter; full names bucketed by (first letter,
// length), which leaves at most a few candidates per bucket.
struct lookup_tables {
  std::array<header_id, 26> compact{};
  std::array<std::array<header_id, 4>, 26 * 24> buckets{};

  constexpr lookup_tables() {
    for (const auto& row : k_table) {
      if (row.id == unknown) continue;
      if (row.compact != 0) compact[static_cast<std::size_t>(row.compact - 'a')] = row.id;
      auto& bucket = buckets[index(row.name)];
      for (auto& slot : bucket) {
        if (slot == unknown) {
          slot = row.id;
          break;
        }
      }
    }
  }

  static constexpr std::size_t index(std::string_view name) {
    const auto letter = static_cast<std::size_t>(scan::to_lower(name.front()) - 'a');
    return letter * 24 + name.size() % 24;
  }
};

constexpr lookup_tables k_lookup{};

}  // namespace

const header_info& header_info_of(header_id id) {
  return k_table[static_cast<std::size_t>(id)];
}

header_id header_id_from_name(std::string_view name) {
  if (name.empty()) return unknown;
  const char first = scan::to_lower(name.front());
  if (first < 'a' || first > 'z') return unknown;
  if (name.size() == 1) return k_lookup.compact[static_cast<std::size_t>(first - 'a')];
  for (header_id id : k_lookup.buckets[lookup_tables::index(name)]) {
    if (id == unknown) break;
    if (scan::iequals(k_table[static_cast<std::size_t>(id)].name, name)) return id;
  }
  return unknown;
}

}  // namespace sipfleet::sip
