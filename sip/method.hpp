// SIP request methods known to sipfleet (RFC 3261 §7.1 and the extensions a phone meets).
#pragma once

#include <cstdint>
#include <string_view>

namespace sipfleet::sip {

enum class method : std::uint8_t {
  unknown,  // an extension method: its text is kept in the message
  invite,
  ack,
  bye,
  cancel,
  options,
  register_,
  refer,    // RFC 3515
  notify,   // RFC 6665
  subscribe,
  info,     // RFC 6086
  update,   // RFC 3311
  message,  // RFC 3428
  prack,    // RFC 3262
  publish,  // RFC 3903
};

// Case-sensitive, as RFC 3261 §7.1 says method names are.
method method_from_name(std::string_view name);
std::string_view method_name(method m);  // "" for unknown

}  // namespace sipfleet::sip
