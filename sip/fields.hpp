// The structured header values the parser decodes at once: name-addr / addr-spec (From, To,
// Contact, Route, Record-Route, Refer-To), Via and CSeq. All views point into the message.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "sip/method.hpp"
#include "sip/result.hpp"
#include "sip/uri.hpp"

namespace sipfleet::sip {

// name-addr or addr-spec followed by header parameters (RFC 3261 §20.10, §20.20, §20.39).
struct name_addr {
  std::string_view display;  // without quotes; quoted-pair escapes kept as written
  sip::uri uri;
  std::string_view params;   // ";tag=x;expires=60" as written, may be empty
  std::string_view tag;      // the tag parameter, empty when absent
  bool wildcard = false;     // Contact: *

  std::optional<std::string_view> param(std::string_view name) const {
    return find_param(params, name);
  }
};

result<name_addr> parse_name_addr(std::string_view text);

// One Via value (RFC 3261 §20.42, RFC 3581 rport).
struct via {
  std::string_view protocol;   // "SIP/2.0"
  std::string_view transport;  // "UDP", "TCP", ... as written
  std::string_view host;       // without brackets for IPv6
  bool host_is_ipv6 = false;
  std::uint16_t port = 0;      // 0 when absent
  std::string_view params;
  std::string_view branch;
  std::string_view received;
  bool rport = false;                     // rport present
  std::optional<std::uint16_t> rport_value;  // rport=N

  // The RFC 3261 magic cookie that says the branch is globally unique (§8.1.1.7).
  bool rfc3261_branch() const { return branch.size() > 7 && branch.substr(0, 7) == "z9hG4bK"; }
  std::optional<std::string_view> param(std::string_view name) const {
    return find_param(params, name);
  }
};

result<via> parse_via(std::string_view text);

// CSeq (RFC 3261 §20.16): a 32-bit sequence number below 2**31 and a method.
struct cseq {
  std::uint32_t number = 0;
  sip::method method = sip::method::unknown;
  std::string_view method_text;
};

result<cseq> parse_cseq(std::string_view text);

}  // namespace sipfleet::sip
