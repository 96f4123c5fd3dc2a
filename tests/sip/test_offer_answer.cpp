// SDP offer/answer (RFC 3264): offers, answers, hold and resume.
#include "sip/offer_answer.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace sipfleet::sip;

namespace {

local_media alice() {
  return {.address = "192.0.2.10",
          .rtp_port = 40000,
          .username = "alice",
          .session_id = 3724,
          .session_version = 1};
}

local_media bob() {
  return {.address = "198.51.100.20",
          .rtp_port = 50000,
          .username = "bob",
          .session_id = 9001,
          .session_version = 1};
}

// An offer with the given m= lines after a standard session part.
std::string offer_with(std::string_view media, std::string_view c = "192.0.2.99") {
  return "v=0\r\no=peer 100 1 IN IP4 192.0.2.99\r\ns=-\r\nc=IN IP4 " + std::string(c) +
         "\r\nt=0 0\r\n" + std::string(media);
}

sdp_session parsed(std::string_view text) {
  auto r = parse_sdp(text);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().reason));
  return std::move(r.value());
}

}  // namespace

TEST_CASE("an offer lists our codecs in preference order, telephone-event, ptime and direction") {
  local_media l = alice();
  l.codecs = {audio_codec::pcma, audio_codec::pcmu};
  const std::string text = build_sdp(build_offer(l));
  CHECK(text ==
        "v=0\r\n"
        "o=alice 3724 1 IN IP4 192.0.2.10\r\n"
        "s=-\r\n"
        "c=IN IP4 192.0.2.10\r\n"
        "t=0 0\r\n"
        "m=audio 40000 RTP/AVP 8 0 101\r\n"
        "a=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n"
        "a=fmtp:101 0-16\r\n"
        "a=ptime:20\r\n"
        "a=sendrecv\r\n");
}

TEST_CASE("an IPv6 address gives IP6 in o= and c=") {
  local_media l = alice();
  l.address = "2001:db8::10";
  const sdp_session s = build_offer(l);
  CHECK(s.origin.addrtype == "IP6");
  CHECK(s.connection->addrtype == "IP6");
}

TEST_CASE("the answer takes the first codec of the offerer's order that we support") {
  // We prefer PCMU, the offerer lists G.729, PCMA, PCMU: RFC 3264 §6.1 recommends keeping the
  // offer's order, so PCMA it is.
  auto r = answer_offer(offer_with("m=audio 6000 RTP/AVP 18 8 0\r\n"), bob());
  REQUIRE(r.ok());
  CHECK(r.sip_status() == 200);
  CHECK(r.media.codec == audio_codec::pcma);
  CHECK(r.media.payload_type == 8);
  CHECK(r.media.remote_address == "192.0.2.99");
  CHECK(r.media.remote_port == 6000);
  CHECK_FALSE(r.media.telephone_event_pt.has_value());
  REQUIRE(r.sdp.media.size() == 1);
  CHECK(r.sdp.media[0].formats == std::vector<std::string>{"8"});
  CHECK(r.sdp.media[0].port == 50000);
  CHECK(r.sdp.connection->address == "198.51.100.20");
  CHECK(r.sdp.origin.session_id == 9001);
}

TEST_CASE("an offer without a codec in common is refused with 488") {
  auto r =
      answer_offer(offer_with("m=audio 6000 RTP/AVP 18 9\r\na=rtpmap:18 G729/8000\r\n"), bob());
  CHECK_FALSE(r.ok());
  CHECK(r.status == answer_status::no_common_codec);
  CHECK(r.sip_status() == 488);
  CHECK(r.reason == "no common codec");

  auto video_only = answer_offer(offer_with("m=video 6000 RTP/AVP 31\r\n"), bob());
  CHECK(video_only.status == answer_status::no_common_codec);
  CHECK(video_only.sip_status() == 488);

  local_media pcma_only = bob();
  pcma_only.codecs = {audio_codec::pcma};
  auto pcmu_offer = answer_offer(offer_with("m=audio 6000 RTP/AVP 0\r\n"), pcma_only);
  CHECK(pcmu_offer.status == answer_status::no_common_codec);
}

TEST_CASE("a malformed offer is refused with 400") {
  auto r =
      answer_offer(std::string_view("v=0\r\no=- 1 1 IN IP4 a\r\nm=audio x RTP/AVP 0\r\n"), bob());
  CHECK(r.status == answer_status::malformed_offer);
  CHECK(r.sip_status() == 400);
  CHECK(r.reason == "m= port is not a number");
}

TEST_CASE("a video stream is rejected with port 0, keeping the number and order of m= lines") {
  auto r = answer_offer(offer_with("m=video 6002 RTP/AVP 31 34\r\na=rtpmap:31 H261/90000\r\n"
                                   "m=audio 6000 RTP/AVP 0\r\n"
                                   "m=application 6004 udp wb\r\n"),
                        bob());
  REQUIRE(r.ok());
  CHECK(r.media.stream_index == 1);
  REQUIRE(r.sdp.media.size() == 3);
  CHECK(r.sdp.media[0].media == "video");
  CHECK(r.sdp.media[0].port == 0);
  CHECK(r.sdp.media[0].formats == std::vector<std::string>{"31", "34"});
  CHECK(r.sdp.media[1].media == "audio");
  CHECK(r.sdp.media[1].port == 50000);
  CHECK(r.sdp.media[2].media == "application");
  CHECK(r.sdp.media[2].port == 0);
  CHECK(r.sdp.media[2].proto == "udp");
  // The text form parses again, with the rejected streams still there.
  auto back = parsed(build_sdp(r.sdp));
  CHECK(back.media.size() == 3);
}

TEST_CASE("a second audio stream is rejected: the phone has one") {
  auto r = answer_offer(offer_with("m=audio 6000 RTP/AVP 0\r\nm=audio 6002 RTP/AVP 0\r\n"), bob());
  REQUIRE(r.ok());
  CHECK(r.sdp.media[0].port == 50000);
  CHECK(r.sdp.media[1].port == 0);
}

TEST_CASE("the offer's telephone-event payload type is kept in the answer") {
  auto r = answer_offer(offer_with("m=audio 6000 RTP/AVP 0 96\r\n"
                                   "a=rtpmap:96 telephone-event/8000\r\n"
                                   "a=fmtp:96 0-15,66,70\r\n"),
                        bob());
  REQUIRE(r.ok());
  CHECK(r.media.telephone_event_pt == std::optional<std::uint8_t>(96));
  const sdp_media& m = r.sdp.media[0];
  CHECK(m.formats == std::vector<std::string>{"0", "96"});
  CHECK(m.rtpmap_of(96)->encoding == "telephone-event");
  CHECK(m.fmtp_of(96) == "0-15");  // events we both support (RFC 4733 §2.4.1)
  CHECK(build_sdp(r.sdp).find("a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-15\r\n") !=
        std::string::npos);
}

TEST_CASE("telephone-event without fmtp means events 0-15; a phone without DTMF leaves it out") {
  const std::string offer = offer_with(
      "m=audio 6000 RTP/AVP 8 101\r\n"
      "a=rtpmap:101 TELEPHONE-EVENT/8000\r\n");
  auto r = answer_offer(offer, bob());
  REQUIRE(r.ok());
  CHECK(r.sdp.media[0].fmtp_of(101) == "0-15");
  local_media no_dtmf = bob();
  no_dtmf.telephone_event_pt = std::nullopt;
  auto without = answer_offer(offer, no_dtmf);
  REQUIRE(without.ok());
  CHECK(without.sdp.media[0].formats == std::vector<std::string>{"8"});
  CHECK_FALSE(without.media.telephone_event_pt.has_value());
}

TEST_CASE("the answer direction follows the RFC 3264 §6.1 table") {
  struct row {
    std::string_view offered;
    sdp_direction answered;
  };
  const row table[] = {
      {"sendrecv", sdp_direction::sendrecv},
      {"sendonly", sdp_direction::recvonly},
      {"recvonly", sdp_direction::sendonly},
      {"inactive", sdp_direction::inactive},
  };
  for (const auto& t : table) {
    CAPTURE(t.offered);
    auto r = answer_offer(
        offer_with("m=audio 6000 RTP/AVP 0\r\na=" + std::string(t.offered) + "\r\n"), bob());
    REQUIRE(r.ok());
    CHECK(r.sdp.media[0].direction == t.answered);
    CHECK(r.media.local_direction == t.answered);
    CHECK(r.media.remote_direction == parse_sdp_direction(t.offered));
  }
  // Offered sendrecv: the answer is our own direction.
  local_media listener = bob();
  listener.direction = sdp_direction::recvonly;
  auto r = answer_offer(offer_with("m=audio 6000 RTP/AVP 0\r\n"), listener);
  REQUIRE(r.ok());
  CHECK(r.sdp.media[0].direction == sdp_direction::recvonly);
}

TEST_CASE("an offer with c=0.0.0.0 is taken as hold (RFC 2543 style)") {
  auto r = answer_offer(offer_with("m=audio 6000 RTP/AVP 0\r\n", "0.0.0.0"), bob());
  REQUIRE(r.ok());
  CHECK(r.media.remote_hold);
  CHECK(r.media.remote_direction == sdp_direction::sendonly);
  CHECK(r.sdp.media[0].direction == sdp_direction::recvonly);
  CHECK(r.sdp.connection->address == "198.51.100.20");  // our own address stays real

  auto normal = answer_offer(offer_with("m=audio 6000 RTP/AVP 0\r\n"), bob());
  CHECK_FALSE(normal.media.remote_hold);
}

TEST_CASE("processing the answer to our offer gives codec, address, direction, DTMF and ptime") {
  const sdp_session offer = build_offer(alice());
  const sdp_session answer = parsed(
      "v=0\r\no=bob 9001 1 IN IP4 198.51.100.20\r\ns=-\r\nt=0 0\r\n"
      "m=audio 50000 RTP/AVP 8 101\r\nc=IN IP4 198.51.100.21\r\n"
      "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:30\r\na=recvonly\r\n");
  auto n = process_answer(offer, answer);
  REQUIRE(n.ok());
  CHECK(n->codec == audio_codec::pcma);
  CHECK(n->payload_type == 8);
  CHECK(n->remote_address == "198.51.100.21");  // media-level c= wins
  CHECK(n->remote_port == 50000);
  CHECK(n->remote_direction == sdp_direction::recvonly);
  CHECK(n->local_direction == sdp_direction::sendonly);
  CHECK(n->telephone_event_pt == std::optional<std::uint8_t>(101));
  CHECK(n->ptime_ms == 30);
}

TEST_CASE("an answer that breaks RFC 3264 is an error") {
  const sdp_session offer = build_offer(alice());
  const std::string head =
      "v=0\r\no=bob 9001 1 IN IP4 198.51.100.20\r\ns=-\r\n"
      "c=IN IP4 198.51.100.20\r\nt=0 0\r\n";
  auto extra =
      process_answer(offer, parsed(head + "m=audio 5 RTP/AVP 0\r\nm=video 0 RTP/AVP 31\r\n"));
  REQUIRE_FALSE(extra.ok());
  CHECK(extra.err().reason == "answer has 2 m= lines, offer had 1");
  auto rejected = process_answer(offer, parsed(head + "m=audio 0 RTP/AVP 0\r\n"));
  REQUIRE_FALSE(rejected.ok());
  CHECK(rejected.err().reason == "answer rejected the audio stream");
  auto foreign = process_answer(offer, parsed(head + "m=audio 5 RTP/AVP 18\r\n"));
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.err().reason == "answer has no codec we offered");
}

TEST_CASE("hold and resume re-offers move the o= version 1 -> 2 -> 3 with the same session id") {
  media_session a(alice());
  media_session b(bob());
  const std::string offer = a.create_offer();
  auto answered = b.receive_offer(offer);
  REQUIRE(answered.ok());
  REQUIRE(a.receive_answer(b.last_sent_sdp()).ok());
  CHECK(a.negotiated()->codec == audio_codec::pcmu);
  CHECK(a.negotiated()->remote_port == 50000);
  CHECK(parsed(offer).origin.session_version == 1);

  const sdp_session hold = parsed(a.create_hold_offer());
  CHECK(hold.origin.session_version == 2);
  CHECK(hold.origin.session_id == 3724);
  CHECK(hold.media[0].direction == sdp_direction::sendonly);
  CHECK(hold.connection->address == "192.0.2.10");  // not 0.0.0.0 (RFC 3264 §8.4)
  CHECK(a.holding());
  auto held = b.receive_offer(build_sdp(hold));
  REQUIRE(held.ok());
  CHECK(held.media.remote_hold);
  CHECK(parsed(b.last_sent_sdp()).media[0].direction == sdp_direction::recvonly);
  CHECK(parsed(b.last_sent_sdp()).origin.session_version == 2);  // bob's answer changed too
  REQUIRE(a.receive_answer(b.last_sent_sdp()).ok());
  CHECK(a.negotiated()->local_direction == sdp_direction::sendonly);

  const sdp_session resume = parsed(a.create_resume_offer());
  CHECK(resume.origin.session_version == 3);
  CHECK(resume.origin.session_id == 3724);
  CHECK(resume.media[0].direction == sdp_direction::sendrecv);
  CHECK_FALSE(a.holding());
  REQUIRE(b.receive_offer(build_sdp(resume)).ok());
  REQUIRE(a.receive_answer(b.last_sent_sdp()).ok());
  CHECK(a.negotiated()->local_direction == sdp_direction::sendrecv);
  CHECK(a.local_version() == 3);
}

TEST_CASE("an unchanged re-offer keeps its o= version") {
  media_session a(alice());
  const std::string first = a.create_offer();
  const std::string again = a.create_offer();  // e.g. a session refresh re-INVITE
  CHECK(again == first);
  CHECK(a.local_version() == 1);
}

TEST_CASE("holding a peer that already holds us offers inactive") {
  media_session a(alice());
  media_session b(bob());
  REQUIRE(b.receive_offer(a.create_offer()).ok());
  REQUIRE(a.receive_answer(b.last_sent_sdp()).ok());
  // Bob holds Alice: Alice answers recvonly and knows she is held.
  REQUIRE(a.receive_offer(b.create_hold_offer()).ok());
  CHECK(a.negotiated()->remote_hold);
  CHECK(a.negotiated()->local_direction == sdp_direction::recvonly);
  REQUIRE(b.receive_answer(a.last_sent_sdp()).ok());
  // Now Alice holds too: RFC 3264 §8.4 says a recvonly stream goes on hold as inactive.
  const sdp_session hold = parsed(a.create_hold_offer());
  CHECK(hold.media[0].direction == sdp_direction::inactive);
  CHECK(hold.origin.session_version == a.local_version());
}

TEST_CASE("a refused hold re-offer leaves the call unheld, and the next SDP still counts up") {
  media_session a(alice());
  media_session b(bob());
  REQUIRE(b.receive_offer(a.create_offer()).ok());
  REQUIRE(a.receive_answer(b.last_sent_sdp()).ok());
  CHECK(parsed(a.create_hold_offer()).origin.session_version == 2);
  a.offer_rejected();  // e.g. 491 Request Pending
  CHECK_FALSE(a.holding());
  // Version 2 was sent (and refused): the retried hold offer is identical, so it keeps 2.
  CHECK(parsed(a.create_hold_offer()).origin.session_version == 2);
  a.offer_rejected();
  // A different SDP after that moves on to 3, never reusing 2 for other content.
  CHECK(parsed(a.create_offer()).origin.session_version == 3);
}

TEST_CASE("an answer without a pending offer is refused") {
  media_session a(alice());
  auto r = a.receive_answer("v=0\r\no=- 1 1 IN IP4 a\r\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().reason == "no offer is waiting for an answer");
}

TEST_CASE("every byte-flip of an offer is answered or refused, never a crash") {
  // With the sanitizers on, any out-of-bounds read or UB in parse or answer aborts the test.
  const std::string base = offer_with(
      "m=audio 6000 RTP/AVP 0 8 96\r\n"
      "a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-15,66\r\n"
      "m=video 6002 RTP/AVP 31\r\na=sendonly\r\n");
  const char replacements[] = {'\0', ' ', ',', '-', '/', '=', '\n', '0', '9', '\xff'};
  int accepted = 0;
  for (std::size_t i = 0; i < base.size(); ++i) {
    for (char c : replacements) {
      std::string mutated = base;
      mutated[i] = c;
      auto r = answer_offer(std::string_view(mutated), bob());
      if (r.ok()) {
        ++accepted;
        CHECK(parse_sdp(build_sdp(r.sdp)).ok());
      } else {
        CHECK_FALSE(r.reason.empty());
      }
    }
  }
  CHECK(accepted > 0);
}
