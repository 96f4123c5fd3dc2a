// Method names (RFC 3261 §7.1: case-sensitive).
#include "sip/method.hpp"

#include <array>
#include <utility>

namespace sipfleet::sip {
namespace {

constexpr std::array<std::pair<method, std::string_view>, 14> k_methods{{
    {method::invite, "INVITE"},
    {method::ack, "ACK"},
    {method::bye, "BYE"},
    {method::cancel, "CANCEL"},
    {method::options, "OPTIONS"},
    {method::register_, "REGISTER"},
    {method::refer, "REFER"},
    {method::notify, "NOTIFY"},
    {method::subscribe, "SUBSCRIBE"},
    {method::info, "INFO"},
    {method::update, "UPDATE"},
    {method::message, "MESSAGE"},
    {method::prack, "PRACK"},
    {method::publish, "PUBLISH"},
}};

}  // namespace

method method_from_name(std::string_view name) {
  for (const auto& [m, text] : k_methods)
    if (text == name) return m;
  return method::unknown;
}

std::string_view method_name(method m) {
  for (const auto& [mm, text] : k_methods)
    if (mm == m) return text;
  return {};
}

}  // namespace sipfleet::sip
