// SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966), parsed into views of the text they came
// from: the text must outlive the uri. Escapes (%XX) are kept as written; compare with
// uri_equal, which follows RFC 3261 §19.1.4.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/result.hpp"

namespace sipfleet::sip {

enum class uri_scheme : std::uint8_t { sip, sips, tel, other };

struct uri {
  uri_scheme scheme = uri_scheme::sip;
  std::string_view scheme_text;  // as written, e.g. "sip"
  std::string_view user;         // may be empty; for tel: the number
  std::string_view password;
  std::string_view host;         // without brackets for IPv6 references
  bool host_is_ipv6 = false;
  std::uint16_t port = 0;        // 0 when absent
  std::string_view params;       // ";a=b;c" as written (leading ';' included), may be empty
  std::string_view headers;      // "a=b&c=d" after '?', may be empty
  std::string_view text;         // the whole URI as written

  // The value of a URI parameter (case-insensitive name); std::nullopt when absent,
  // an empty view when present without a value (e.g. ";lr").
  std::optional<std::string_view> param(std::string_view name) const;
  bool has_param(std::string_view name) const { return param(name).has_value(); }
};

// Parses a whole string as one URI. Other schemes (e.g. http:, im:) parse as uri_scheme::other
// with only scheme_text and text set.
result<uri> parse_uri(std::string_view text);

// RFC 3261 §19.1.4 URI comparison (sip/sips only; others compare as case-sensitive text).
bool uri_equal(const uri& a, const uri& b);

// Undoes %XX escapes (invalid escapes are copied as they are).
std::string unescape(std::string_view text);

// Finds a parameter in a ";name=value;name2" list (case-insensitive names, LWS around '=' and
// ';' allowed). Used for URI, Via, and name-addr parameters.
std::optional<std::string_view> find_param(std::string_view params, std::string_view name);

}  // namespace sipfleet::sip
