// SDP offer/answer (RFC 3264) for one audio stream. See offer_answer.hpp.
#include "sip/offer_answer.hpp"

#include <algorithm>
#include <bitset>
#include <charconv>
#include <utility>

namespace sipfleet::sip {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

// RFC 4733 §2.4.1 telephone-event/8000 (other rates are for wideband audio we do not send).
bool is_telephone_event(const sdp_rtpmap& r) {
  return iequals(r.encoding, "telephone-event") && r.clock_rate == 8000;
}

// The events we generate: DTMF 0-9 * # A-D (0-15) and flash (16) (RFC 4733 §3.2).
constexpr unsigned max_event = 16;

// RFC 4733 §2.4.1: the answer lists the events both sides support. The offer's list (e.g.
// "0-15,66,70") is intersected with 0-16; no fmtp means 0-15. nullopt when nothing is left.
std::optional<std::string> common_events(std::optional<std::string_view> offered) {
  std::bitset<max_event + 1> events;
  std::string_view list = offered.value_or("0-15");
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    auto dash = item.find('-');
    unsigned lo = 0, hi = 0;
    std::string_view lo_text = item.substr(0, dash);
    std::string_view hi_text = dash == std::string_view::npos ? lo_text : item.substr(dash + 1);
    auto r1 = std::from_chars(lo_text.data(), lo_text.data() + lo_text.size(), lo);
    auto r2 = std::from_chars(hi_text.data(), hi_text.data() + hi_text.size(), hi);
    if (r1.ec != std::errc{} || r2.ec != std::errc{} || lo_text.empty() || hi_text.empty()) {
      continue;  // not an event range (e.g. another parameter): ignore it
    }
    for (unsigned e = lo; e <= std::min(hi, max_event); ++e) events.set(e);
  }
  std::string out;
  for (unsigned e = 0; e <= max_event; ++e) {
    if (!events.test(e)) continue;
    unsigned end = e;
    while (end < max_event && events.test(end + 1)) ++end;
    if (!out.empty()) out += ',';
    out += std::to_string(e);
    if (end != e) out += "-" + std::to_string(end);
    e = end;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

sdp_connection connection_for(const std::string& address) {
  return {.addrtype = address.find(':') == std::string::npos ? "IP4" : "IP6", .address = address};
}

// The session-level lines of an SDP we send: o= with our ids, s=-, c= our address.
sdp_session our_session(const local_media& local) {
  sdp_session s;
  s.origin = {.username = local.username.empty() ? "-" : local.username,
              .session_id = local.session_id,
              .session_version = local.session_version,
              .addrtype = connection_for(local.address).addrtype,
              .address = local.address};
  s.connection = connection_for(local.address);
  return s;
}

void add_format(sdp_media& m, std::uint8_t pt, std::string_view encoding) {
  m.formats.push_back(std::to_string(pt));
  m.rtpmaps.push_back({.payload_type = pt, .encoding = std::string(encoding), .clock_rate = 8000});
}

// The direction the peer declared, with the RFC 2543 hold address folded in: c=0.0.0.0 means
// "do not send to me" (RFC 3264 §8.4).
sdp_direction remote_direction(const sdp_session& s, const sdp_media& m) {
  sdp_direction d = s.direction_of(m);
  const sdp_connection* c = s.connection_of(m);
  if (c && c->is_null_address()) d = make_direction(sends(d), false);
  return d;
}

// RFC 3264 §6.1: we send only if we want to and the other side receives, and the same the other
// way round. With `ours` sendrecv this is exactly the §6.1 table: sendonly -> recvonly,
// recvonly -> sendonly, inactive -> inactive, sendrecv -> sendrecv.
sdp_direction combine(sdp_direction ours, sdp_direction theirs) {
  return make_direction(sends(ours) && receives(theirs), receives(ours) && sends(theirs));
}

answer_result refuse(answer_status status, std::string reason) {
  return {.status = status, .reason = std::move(reason)};
}

}  // namespace

std::string_view to_string(audio_codec c) {
  return c == audio_codec::pcmu ? "PCMU" : "PCMA";
}

std::uint8_t codec_payload_type(audio_codec c) {
  return c == audio_codec::pcmu ? 0 : 8;
}

std::optional<audio_codec> codec_of(const sdp_rtpmap& r) {
  if (r.clock_rate != 8000 || !(r.parameters.empty() || r.parameters == "1")) return std::nullopt;
  if (iequals(r.encoding, "PCMU")) return audio_codec::pcmu;
  if (iequals(r.encoding, "PCMA")) return audio_codec::pcma;
  return std::nullopt;
}

int answer_result::sip_status() const {
  switch (status) {
    case answer_status::accepted:
      return 200;
    case answer_status::malformed_offer:
      return 400;
    case answer_status::no_common_codec:
      return 488;
  }
  return 500;
}

sdp_session build_offer(const local_media& local) {
  sdp_session s = our_session(local);
  sdp_media m{.media = "audio", .port = local.rtp_port, .proto = "RTP/AVP"};
  for (audio_codec c : local.codecs) add_format(m, codec_payload_type(c), to_string(c));
  if (local.telephone_event_pt) {
    add_format(m, *local.telephone_event_pt, "telephone-event");
    m.fmtps.push_back({.payload_type = *local.telephone_event_pt, .parameters = "0-16"});
  }
  m.ptime = local.ptime_ms;
  m.direction = local.direction;
  s.media.push_back(std::move(m));
  return s;
}

answer_result answer_offer(std::string_view offer_body, const local_media& local) {
  auto offer = parse_sdp(offer_body);
  if (!offer) return refuse(answer_status::malformed_offer, offer.err().reason);
  return answer_offer(*offer, local);
}

answer_result answer_offer(const sdp_session& offer, const local_media& local) {
  answer_result r;
  r.sdp = our_session(local);
  r.sdp.start_time = offer.start_time;  // RFC 3264 §6: the answer's t= equals the offer's
  r.sdp.stop_time = offer.stop_time;
  bool accepted = false;
  std::string why = offer.media.empty() ? "offer has no media stream" : "no audio stream";
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    const sdp_media& om = offer.media[i];
    // RFC 3264 §6: a rejected stream keeps its media, proto and formats, with port 0.
    sdp_media am{.media = om.media, .port = 0, .proto = om.proto, .formats = om.formats};
    if (!accepted && om.media == "audio" && om.port != 0) {
      std::optional<std::uint8_t> chosen, te;
      for (std::uint8_t pt : om.is_rtp() ? om.payload_types() : std::vector<std::uint8_t>{}) {
        auto map = om.rtpmap_of(pt);
        if (!map) continue;
        auto codec = codec_of(*map);
        if (!chosen && codec &&
            std::find(local.codecs.begin(), local.codecs.end(), *codec) != local.codecs.end()) {
          chosen = pt;
          r.media.codec = *codec;
        }
        if (!te && is_telephone_event(*map)) te = pt;
      }
      const sdp_connection* c = offer.connection_of(om);
      if (om.proto != "RTP/AVP") {
        why = "audio stream is not RTP/AVP";
      } else if (!chosen) {
        why = "no common codec";
      } else if (!c) {
        return refuse(answer_status::malformed_offer, "no c= line for the audio stream");
      } else {
        accepted = true;
        am = {.media = "audio", .port = local.rtp_port, .proto = om.proto};
        add_format(am, *chosen, to_string(r.media.codec));
        std::optional<std::string> events;
        if (te && local.telephone_event_pt) events = common_events(om.fmtp_of(*te));
        if (events) {
          add_format(am, *te, "telephone-event");
          am.fmtps.push_back({.payload_type = *te, .parameters = *events});
        }
        am.ptime = local.ptime_ms;
        const sdp_direction theirs = remote_direction(offer, om);
        am.direction = combine(local.direction, theirs);
        r.media = {.stream_index = i,
                   .codec = r.media.codec,
                   .payload_type = *chosen,
                   .telephone_event_pt = events ? te : std::nullopt,
                   .remote_address = c->address,
                   .remote_port = om.port,
                   .ptime_ms = om.ptime.value_or(20),
                   .local_direction = *am.direction,
                   .remote_direction = theirs,
                   .remote_hold = !receives(theirs)};
      }
    }
    r.sdp.media.push_back(std::move(am));
  }
  if (!accepted) return refuse(answer_status::no_common_codec, why);
  return r;
}

result<negotiated_media> process_answer(const sdp_session& offer, const sdp_session& answer) {
  // RFC 3264 §6: exactly as many m= lines as the offer, in the same order.
  if (answer.media.size() != offer.media.size()) {
    return error{"answer has " + std::to_string(answer.media.size()) + " m= lines, offer had " +
                 std::to_string(offer.media.size())};
  }
  auto ours = std::find_if(offer.media.begin(), offer.media.end(),
                           [](const sdp_media& m) { return m.media == "audio" && m.port != 0; });
  if (ours == offer.media.end()) return error{"offer has no audio stream"};
  const std::size_t index = static_cast<std::size_t>(ours - offer.media.begin());
  const sdp_media& am = answer.media[index];
  if (am.media != "audio") return error{"answer changed the media type of the audio stream"};
  if (am.port == 0) return error{"answer rejected the audio stream"};

  negotiated_media n{.stream_index = index, .remote_port = am.port};
  std::optional<std::uint8_t> chosen;
  for (std::uint8_t pt : am.is_rtp() ? am.payload_types() : std::vector<std::uint8_t>{}) {
    auto map = am.rtpmap_of(pt);
    if (!map) continue;
    if (auto codec = codec_of(*map); codec && !chosen) {
      // The codec must be one we offered (by name: the answer SHOULD but need not keep our PT).
      for (std::uint8_t offered : ours->payload_types()) {
        auto offered_map = ours->rtpmap_of(offered);
        if (offered_map && codec_of(*offered_map) == codec) chosen = pt;
      }
      if (chosen) n.codec = *codec;
    } else if (is_telephone_event(*map) && !n.telephone_event_pt) {
      bool offered_te = false;
      for (const auto& r : ours->rtpmaps) offered_te = offered_te || is_telephone_event(r);
      if (offered_te) n.telephone_event_pt = pt;
    }
  }
  if (!chosen) return error{"answer has no codec we offered"};
  n.payload_type = *chosen;

  const sdp_connection* c = answer.connection_of(am);
  if (!c) return error{"no c= line for the audio stream"};
  n.remote_address = c->address;
  n.ptime_ms = am.ptime.value_or(20);
  n.remote_direction = remote_direction(answer, am);
  n.local_direction = combine(offer.direction_of(*ours), n.remote_direction);
  n.remote_hold = !receives(n.remote_direction);
  return n;
}

// ---- media_session ------------------------------------------------------------------------

media_session::media_session(local_media local) : local_(std::move(local)) {}

sdp_direction media_session::wanted_direction() const {
  // While holding we send (music on hold) but do not receive (RFC 3264 §8.4).
  return holding_ ? make_direction(sends(local_.direction), false) : local_.direction;
}

std::string media_session::send(sdp_session sdp) {
  // RFC 3264 §8: same o= line except the version, which goes up by one when the SDP changes;
  // an unchanged SDP keeps its version.
  sdp.origin.session_version = local_.session_version;
  std::string text = build_sdp(sdp);
  if (!last_sent_.empty() && text != last_sent_) {
    sdp.origin.session_version = ++local_.session_version;
    text = build_sdp(sdp);
  }
  last_sent_ = text;
  return text;
}

std::string media_session::create_offer() {
  if (!pending_offer_) holding_before_offer_ = holding_;
  local_media l = local_;
  l.direction = wanted_direction();
  pending_offer_ = build_offer(l);
  return send(*pending_offer_);
}

std::string media_session::create_hold_offer() {
  if (!pending_offer_) holding_before_offer_ = holding_;
  holding_ = true;
  local_media l = local_;
  // RFC 3264 §8.4: a stream that was recvonly (the peer holds us) goes on hold as inactive.
  bool peer_holds = negotiated_ && negotiated_->remote_hold;
  l.direction =
      sends(local_.direction) && !peer_holds ? sdp_direction::sendonly : sdp_direction::inactive;
  pending_offer_ = build_offer(l);
  return send(*pending_offer_);
}

std::string media_session::create_resume_offer() {
  if (!pending_offer_) holding_before_offer_ = holding_;
  holding_ = false;
  return create_offer();
}

result<negotiated_media> media_session::receive_answer(std::string_view body) {
  if (!pending_offer_) return error{"no offer is waiting for an answer"};
  auto answer = parse_sdp(body);
  if (!answer) return answer.err();
  auto n = process_answer(*pending_offer_, *answer);
  if (!n) return n.err();
  pending_offer_.reset();
  negotiated_ = *n;
  return n;
}

void media_session::offer_rejected() {
  if (!pending_offer_) return;
  pending_offer_.reset();
  holding_ = holding_before_offer_;
}

answer_result media_session::receive_offer(std::string_view body) {
  local_media l = local_;
  l.direction = wanted_direction();
  answer_result r = answer_offer(body, l);
  if (!r.ok()) return r;
  pending_offer_.reset();
  send(r.sdp);
  r.sdp.origin.session_version = local_.session_version;
  negotiated_ = r.media;
  return r;
}

}  // namespace sipfleet::sip
