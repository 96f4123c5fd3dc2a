// SDP parse and build (RFC 4566).
#include "sip/sdp.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace sipfleet::sip;

namespace {

// An offer as a Cisco CUCM trunk sends it through Kamailio with rtpengine (written by hand after
// such traces): session-level b= and a=, G.729 with fmtp, telephone-event 101, rtcp attribute.
constexpr std::string_view cisco_offer =
    "v=0\r\n"
    "o=CiscoSystemsCCM-SIP 2000 1 IN IP4 10.10.1.20\r\n"
    "s=SIP Call\r\n"
    "c=IN IP4 10.10.1.55\r\n"
    "b=AS:64\r\n"
    "t=0 0\r\n"
    "a=nortpproxy:yes\r\n"
    "m=audio 24580 RTP/AVP 18 0 8 101\r\n"
    "b=TIAS:64000\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=fmtp:18 annexb=no\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=ptime:20\r\n"
    "a=maxptime:40\r\n"
    "a=rtcp:24581\r\n"
    "a=sendrecv\r\n";

// The body of an RFC 4475 message file (after the first empty line).
std::string rfc4475_body(const std::string& name) {
  std::ifstream in(std::string(SIPFLEET_TEST_DATA_DIR) + "/rfc4475/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string msg = ss.str();
  auto sep = msg.find("\r\n\r\n");
  return sep == std::string::npos ? std::string() : msg.substr(sep + 4);
}

}  // namespace

TEST_CASE("a real-world Cisco offer parses with every field in place") {
  auto sdp = parse_sdp(cisco_offer);
  REQUIRE(sdp.ok());
  CHECK(sdp->origin.username == "CiscoSystemsCCM-SIP");
  CHECK(sdp->origin.session_id == 2000);
  CHECK(sdp->origin.session_version == 1);
  CHECK(sdp->origin.address == "10.10.1.20");
  CHECK(sdp->name == "SIP Call");
  REQUIRE(sdp->connection);
  CHECK(sdp->connection->address == "10.10.1.55");
  CHECK(sdp->connection->addrtype == "IP4");
  REQUIRE(sdp->attributes.size() == 1);
  CHECK(sdp->attributes[0].name == "nortpproxy");
  CHECK(sdp->attributes[0].value == "yes");

  REQUIRE(sdp->media.size() == 1);
  const sdp_media& m = sdp->media[0];
  CHECK(m.media == "audio");
  CHECK(m.port == 24580);
  CHECK(m.proto == "RTP/AVP");
  CHECK(m.payload_types() == std::vector<std::uint8_t>{18, 0, 8, 101});
  CHECK(m.rtpmap_of(101)->encoding == "telephone-event");
  CHECK(m.rtpmap_of(101)->clock_rate == 8000);
  CHECK(m.fmtp_of(101) == "0-15");
  CHECK(m.fmtp_of(18) == "annexb=no");
  CHECK(m.ptime == 20u);
  CHECK(m.maxptime == 40u);
  CHECK(m.direction == sdp_direction::sendrecv);
  REQUIRE(m.attributes.size() == 1);
  CHECK(m.attributes[0].name == "rtcp");
  REQUIRE(m.other_lines.size() == 1);
  CHECK(m.other_lines[0].type == 'b');
  CHECK(sdp->connection_of(m)->address == "10.10.1.55");
}

TEST_CASE("static payload types are known without an rtpmap line") {
  auto sdp = parse_sdp(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 8 0 96\r\n");
  REQUIRE(sdp.ok());
  const sdp_media& m = sdp->media[0];
  CHECK(m.rtpmap_of(0)->encoding == "PCMU");
  CHECK(m.rtpmap_of(8)->encoding == "PCMA");
  CHECK(m.rtpmap_of(8)->clock_rate == 8000);
  CHECK_FALSE(m.rtpmap_of(96).has_value());  // dynamic without rtpmap: unknown
}

TEST_CASE("the RFC 4475 sdp01 body parses into an audio and a video stream") {
  // RFC 4475 §3.3.14: the message is about the Accept header (the UAS answers 406); its SDP is
  // well formed and has two streams, the video one with an rtpmap for a static type.
  auto sdp = parse_sdp(rfc4475_body("sdp01.dat"));
  REQUIRE_MESSAGE(sdp.ok(), (sdp.ok() ? "" : sdp.err().reason));
  CHECK(sdp->origin.username == "mhandley");
  CHECK(sdp->origin.session_id == 29739);
  CHECK(sdp->origin.session_version == 7272939);
  REQUIRE(sdp->media.size() == 2);
  CHECK(sdp->media[0].media == "audio");
  CHECK(sdp->media[0].port == 49217);
  CHECK(sdp->media[0].payload_types() == std::vector<std::uint8_t>{0, 12});
  CHECK(sdp->media[0].rtpmap_of(12)->encoding == "QCELP");
  CHECK(sdp->media[1].media == "video");
  CHECK(sdp->media[1].port == 3227);
  // "a=rtpmap:31 LPC" has no clock rate; the line still beats the table (31 is H261/90000).
  CHECK(sdp->media[1].rtpmap_of(31)->encoding == "LPC");
  CHECK(sdp->media[1].rtpmap_of(31)->clock_rate == 90000);
}

TEST_CASE("every SDP body in the RFC 4475 messages parses") {
  int parsed = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(SIPFLEET_TEST_DATA_DIR) + "/rfc4475")) {
    if (entry.path().extension() != ".dat") continue;
    std::string body = rfc4475_body(entry.path().filename().string());
    if (body.rfind("v=0", 0) != 0) continue;
    CAPTURE(entry.path().filename().string());
    auto sdp = parse_sdp(body);
    CHECK_MESSAGE(sdp.ok(), (sdp.ok() ? "" : sdp.err().reason));
    ++parsed;
  }
  CHECK(parsed >= 15);
}

TEST_CASE("LF line ends, trailing blanks and unknown lines are accepted and kept") {
  auto sdp = parse_sdp(
      "v=0\no=alice 7 9 IN IP6 2001:db8::1 \ns=-\nx=vendor thing\n"
      "c=IN IP6 2001:db8::1\nt=0 0\nm=audio 5004 RTP/AVP 0\ny=media thing\n\n");
  REQUIRE(sdp.ok());
  CHECK(sdp->origin.addrtype == "IP6");
  CHECK(sdp->origin.address == "2001:db8::1");
  REQUIRE(sdp->other_lines.size() == 1);
  CHECK(sdp->other_lines[0].type == 'x');
  REQUIRE(sdp->media[0].other_lines.size() == 1);
  CHECK(sdp->media[0].other_lines[0].value == "media thing");
  std::string text = build_sdp(*sdp);
  CHECK(text.find("x=vendor thing\r\n") != std::string::npos);
  CHECK(text.find("y=media thing\r\n") != std::string::npos);
}

TEST_CASE("the media-level direction wins over the session level, default is sendrecv") {
  auto sdp = parse_sdp(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "a=sendonly\r\nm=audio 4000 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 0\r\n"
      "a=inactive\r\n");
  REQUIRE(sdp.ok());
  CHECK(sdp->direction_of(sdp->media[0]) == sdp_direction::sendonly);
  CHECK(sdp->direction_of(sdp->media[1]) == sdp_direction::inactive);
  auto plain = parse_sdp("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n");
  REQUIRE(plain.ok());
  CHECK(plain->direction_of(plain->media[0]) == sdp_direction::sendrecv);
  CHECK(plain->connection_of(plain->media[0]) == nullptr);
}

TEST_CASE("malformed SDP is an error with a reason") {
  struct bad_case {
    std::string_view sdp;
    std::string_view reason;
  };
  const std::string_view head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n";
  const std::string m_head = std::string(head);
  const bad_case cases[] = {
      {"", "missing v= line"},
      {"\r\n\r\n", "missing v= line"},
      {"o=- 1 1 IN IP4 192.0.2.1\r\n", "SDP does not start with v="},
      {"v=1\r\n", "v= is not 0"},
      {"v=0\r\ns=-\r\n", "missing o= line"},
      {"v=0\r\nm=audio 4000 RTP/AVP 0\r\n", "missing o= line"},
      {"v=0\r\no=- x 1 IN IP4 192.0.2.1\r\n", "o= sess-id is not a number"},
      {"v=0\r\no=- 1 99999999999999999999 IN IP4 a\r\n", "o= sess-version is not a number"},
      {"v=0\r\no=- 1 1 IN IP4\r\n", "o= needs six fields"},
      {"v=0\r\no=- 1 1 ATM IP4 a\r\n", "o= nettype is not IN"},
      {"v=0\r\nv=0\r\n", "duplicate v= line"},
      {"v=0\r\nhello\r\n", "SDP line is not <type>=<value>"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.sdp);
    auto r = parse_sdp(c.sdp);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().reason == c.reason);
  }
  const bad_case media_cases[] = {
      {"m=audio abc RTP/AVP 0\r\n", "m= port is not a number"},
      {"m=audio 70000 RTP/AVP 0\r\n", "m= port is not a number"},
      {"m=audio 4000 RTP/AVP\r\n", "m= line has no formats"},
      {"m=audio 4000\r\n", "m= needs media, port and proto"},
      {"m=audio 4000 RTP/AVP PCMU\r\n", "m= payload type is not a number"},
      {"m=audio 4000 RTP/AVP 128\r\n", "m= payload type is not a number"},
      {"m=audio 4000 RTP/AVP 0\r\na=rtpmap:96\r\n", "malformed a=rtpmap"},
      {"m=audio 4000 RTP/AVP 0\r\na=rtpmap:96 /8000\r\n", "malformed a=rtpmap"},
      {"m=audio 4000 RTP/AVP 0\r\na=rtpmap:96 opus/fast\r\n",
       "a=rtpmap clock rate is not a positive number"},
      {"m=audio 4000 RTP/AVP 0\r\na=ptime:twenty\r\n", "a=ptime is not a number"},
      {"c=IN IP4\r\n", "c= needs nettype, addrtype and address"},
      {"c=IN IPX 1.2.3.4\r\n", "c= addrtype is not IP4 or IP6"},
      {"t=now\r\n", "t= needs start and stop times"},
  };
  for (const auto& c : media_cases) {
    std::string text = c.sdp.rfind("t=", 0) == 0
                           ? "v=0\r\no=- 1 1 IN IP4 a\r\n" + std::string(c.sdp)
                           : m_head + std::string(c.sdp);
    CAPTURE(text);
    auto r = parse_sdp(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().reason == c.reason);
  }
}

TEST_CASE("a built SDP has CRLF line ends in RFC 4566 order and parses back the same") {
  sdp_session s;
  s.origin = {.username = "sipfleet",
              .session_id = 42,
              .session_version = 7,
              .addrtype = "IP4",
              .address = "198.51.100.7"};
  s.connection = sdp_connection{.addrtype = "IP4", .address = "198.51.100.7"};
  s.other_lines.push_back({.type = 'b', .value = "AS:80"});
  sdp_media audio{.media = "audio", .port = 30000, .proto = "RTP/AVP", .formats = {"8", "101"}};
  audio.rtpmaps = {{.payload_type = 8, .encoding = "PCMA", .clock_rate = 8000},
                   {.payload_type = 101, .encoding = "telephone-event", .clock_rate = 8000}};
  audio.fmtps = {{.payload_type = 101, .parameters = "0-16"}};
  audio.ptime = 20;
  audio.direction = sdp_direction::recvonly;
  s.media.push_back(audio);
  s.media.push_back({.media = "video", .port = 0, .proto = "RTP/AVP", .formats = {"31"}});

  const std::string text = build_sdp(s);
  CHECK(text ==
        "v=0\r\n"
        "o=sipfleet 42 7 IN IP4 198.51.100.7\r\n"
        "s=-\r\n"
        "c=IN IP4 198.51.100.7\r\n"
        "b=AS:80\r\n"
        "t=0 0\r\n"
        "m=audio 30000 RTP/AVP 8 101\r\n"
        "a=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n"
        "a=fmtp:101 0-16\r\n"
        "a=ptime:20\r\n"
        "a=recvonly\r\n"
        "m=video 0 RTP/AVP 31\r\n");

  auto back = parse_sdp(text);
  REQUIRE(back.ok());
  CHECK(back->origin.session_id == 42);
  CHECK(back->media.size() == 2);
  CHECK(back->media[0].direction == sdp_direction::recvonly);
  CHECK(back->media[0].fmtp_of(101) == "0-16");
  CHECK(back->media[1].port == 0);
  CHECK(build_sdp(*back) == text);  // a second trip changes nothing
}

TEST_CASE("the Cisco offer survives a parse-build-parse round trip") {
  auto first = parse_sdp(cisco_offer);
  REQUIRE(first.ok());
  std::string text = build_sdp(*first);
  auto second = parse_sdp(text);
  REQUIRE(second.ok());
  CHECK(build_sdp(*second) == text);
  CHECK(second->media[0].payload_types() == first->media[0].payload_types());
  CHECK(second->media[0].maxptime == 40u);
  CHECK(second->attributes.size() == 1);
}

TEST_CASE("every prefix and byte-flip of an offer parses or fails cleanly") {
  // A poor man's fuzzer: with the sanitizers on, any out-of-bounds read or UB aborts the test.
  const std::string base(cisco_offer);
  for (std::size_t n = 0; n <= base.size(); ++n) {
    auto r = parse_sdp(std::string_view(base).substr(0, n));
    if (r.ok()) CHECK_FALSE(build_sdp(*r).empty());
  }
  const char replacements[] = {'\0', ' ', ':', '/', '=', '\n', '\r', '9', 'a', '\xff'};
  for (std::size_t i = 0; i < base.size(); ++i) {
    for (char c : replacements) {
      std::string mutated = base;
      mutated[i] = c;
      auto r = parse_sdp(mutated);
      if (r.ok()) CHECK_FALSE(build_sdp(*r).empty());
    }
  }
}
