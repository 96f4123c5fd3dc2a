// Requests outside a dialog other than INVITE, the checks every incoming request passes, and
// the answer to bytes that did not parse.
//
//   Request-URI scheme not sip/sips          416 Unsupported URI Scheme   (§8.2.2.1)
//   Request-URI user not ours                404 Not Found                (PHONE-BEHAVIOUR.md)
//   Require with an option we lack           420 Bad Extension + Unsupported (§8.2.2.3)
//   INVITE body not application/sdp          415 + Accept                 (§8.2.3)
//   OPTIONS                                  200 + Allow, Accept, Supported (§11.2)
//   BYE/INFO/UPDATE/NOTIFY/PRACK, no dialog  481                          (§12.2.2)
//   anything else (REGISTER, MESSAGE, SUBSCRIBE, PUBLISH, REFER, extensions)  405 + Allow (§8.2.1)
//     (REFER is in Allow: the phone takes it inside a call, for a blind transfer (transfer.cpp),
//     and refuses the out-of-dialog REFER of RFC 3515 §2.4.2 that would open a new dialog)
//   malformed bytes that look like a request 400 with the parser's reason (§8.2.2)
#include <string>
#include <vector>

#include "actors/ua/phone_impl.hpp"

namespace sipfleet::ua {

using namespace detail;

bool detail::iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (std::tolower(x) != std::tolower(y)) return false;
  }
  return true;
}

std::string_view detail::trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string_view detail::value_before_params(std::string_view v) { return trim(v.substr(0, v.find(';'))); }

bool phone::impl::reject_invalid(server_txn& t, const sip::message& m) {
  const auto& ruri = m.request_uri();
  if (ruri.scheme != sip::uri_scheme::sip && ruri.scheme != sip::uri_scheme::sips) {
    respond_simple(t, m, 416);
    return true;
  }
  if (m.to().tag.empty() && !ruri.user.empty() && ruri.user != me_.user) {
    respond_simple(t, m, 404);
    return true;
  }
  // §8.2.2.3: the phone supports no extension that a Require could name.
  std::string unsupported;
  m.for_each(sip::header_id::require, [&](std::string_view v) {
    if (!unsupported.empty()) unsupported += ", ";
    unsupported += trim(v);
  });
  if (!unsupported.empty()) {
    const sip::extra_header h{.name = "Unsupported", .value = unsupported};
    respond_simple(t, m, 420, {}, {&h, 1});
    return true;
  }
  if (m.method() == sip::method::invite && !m.body().empty()) {
    if (!iequals(value_before_params(m.content_type()), "application/sdp")) {
      const sip::extra_header h{.name = "Accept", .value = "application/sdp"};
      respond_simple(t, m, 415, {}, {&h, 1});
      return true;
    }
  }
  return false;
}

void phone::impl::on_out_of_dialog(const sip::message& m, const endpoint& from) {
  server_txn* t = start_server(m, from);
  if (reject_invalid(*t, m)) return;
  switch (m.method()) {
    case sip::method::options:
      answer_options(*t, m);
      return;
    case sip::method::bye:
    case sip::method::info:
    case sip::method::update:
    case sip::method::notify:
    case sip::method::prack:
      respond_simple(*t, m, 481);
      return;
    default: {
      const sip::extra_header allow{.name = "Allow", .value = allowed_methods};
      respond_simple(*t, m, 405, {}, {&allow, 1});
      return;
    }
  }
}

// §11.2: what the phone can do. It supports no option tags, so Supported is empty (allowed by
// the §25.1 grammar: Supported = ... [option-tag *(COMMA option-tag)]).
void phone::impl::answer_options(server_txn& t, const sip::message& m) {
  const std::array<sip::extra_header, 3> h{{{.name = "Allow", .value = allowed_methods},
                                            {.name = "Accept", .value = "application/sdp, message/sipfrag"},
                                            {.name = "Supported", .value = ""}}};
  respond_simple(t, m, 200, {}, h);
}

// A message that did not parse: if it is a request (not an ACK) whose Via, From, To, Call-ID
// and CSeq lines can be found by a plain re-scan, answer 400 with the parser's reason
// (§8.2.2, §8.2.6.1: those headers copied); count it in every case.
void phone::impl::malformed(std::string_view bytes, std::string_view reason,
                            const endpoint& from) {
  ++counters_.parse_errors;
  while (!bytes.empty() && (bytes.front() == '\r' || bytes.front() == '\n')) bytes.remove_prefix(1);
  const auto first_end = bytes.find('\n');
  const std::string_view first = trim(bytes.substr(0, first_end));
  if (first.empty() || first.substr(0, 4) == "SIP/" || first.find(' ') == std::string_view::npos ||
      first.substr(0, 4) == "ACK ")
    return;

  std::vector<std::string_view> vias;
  std::string_view from_v, to_v, call_id_v, cseq_v;
  std::size_t pos = first_end == std::string_view::npos ? bytes.size() : first_end + 1;
  while (pos < bytes.size()) {
    const auto end = bytes.find('\n', pos);
    const std::string_view line =
        trim(bytes.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    pos = end == std::string_view::npos ? bytes.size() : end + 1;
    if (line.empty()) break;  // end of the headers
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Via") || iequals(name, "v"))
      vias.push_back(value);
    else if (iequals(name, "From") || iequals(name, "f"))
      from_v = value;
    else if (iequals(name, "To") || iequals(name, "t"))
      to_v = value;
    else if (iequals(name, "Call-ID") || iequals(name, "i"))
      call_id_v = value;
    else if (iequals(name, "CSeq"))
      cseq_v = value;
  }
  if (vias.empty() || from_v.empty() || to_v.empty() || call_id_v.empty() || cseq_v.empty())
    return;

  std::string phrase;  // printable ASCII only: the reason must not break the status line
  for (char ch : reason.substr(0, 120))
    if (ch >= 0x20 && ch < 0x7f) phrase.push_back(ch);
  if (phrase.empty()) phrase = "Bad Request";
  std::string out = "SIP/2.0 400 " + phrase + "\r\n";
  for (auto v : vias) out.append("Via: ").append(v).append("\r\n");
  out.append("From: ").append(from_v).append("\r\n");
  out.append("To: ").append(to_v);
  if (to_v.find("tag=") == std::string_view::npos) out.append(";tag=").append(sip::make_tag(rng_));
  out.append("\r\nCall-ID: ").append(call_id_v).append("\r\n");
  out.append("CSeq: ").append(cseq_v).append("\r\n");
  out.append("Content-Length: 0\r\n\r\n");
  env_.send(from, out);
}

}  // namespace sipfleet::ua
