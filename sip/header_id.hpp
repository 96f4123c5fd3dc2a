// The header table: one row per header sipfleet knows, with its canonical name, its compact
// form (RFC 3261 §7.3.3 and later RFCs) and the RFC that defines it. Parsing folds the compact
// and long forms, in any letter case, to the same header_id.
#pragma once

#include <cstdint>
#include <string_view>

namespace sipfleet::sip {

enum class header_id : std::uint8_t {
  unknown,  // an extension header: look it up by name
  accept,
  accept_contact,
  accept_encoding,
  accept_language,
  alert_info,
  allow,
  allow_events,
  authentication_info,
  authorization,
  call_id,
  call_info,
  contact,
  content_disposition,
  content_encoding,
  content_language,
  content_length,
  content_type,
  cseq,
  date,
  error_info,
  event,
  expires,
  from,
  identity,
  in_reply_to,
  max_forwards,
  min_expires,
  mime_version,
  organization,
  priority,
  proxy_authenticate,
  proxy_authorization,
  proxy_require,
  rack,
  reason,
  record_route,
  refer_to,
  referred_by,
  reject_contact,
  reply_to,
  request_disposition,
  require,
  retry_after,
  route,
  rseq,
  server,
  session_expires,
  subject,
  subscription_state,
  supported,
  timestamp,
  to,
  unsupported,
  user_agent,
  via,
  warning,
  www_authenticate,
  count_  // not a header: the number of ids
};

struct header_info {
  header_id id;
  std::string_view name;  // canonical spelling, as sipfleet writes it
  char compact;           // compact form, or 0
  bool multi_value;       // a comma-separated list of values (RFC 3261 §7.3.1)
  std::string_view rfc;   // the RFC that defines it
};

// The row for an id (unknown gives a row with an empty name).
const header_info& header_info_of(header_id id);

// Case-insensitive lookup of a header name or compact form; unknown if not in the table.
header_id header_id_from_name(std::string_view name);

}  // namespace sipfleet::sip
