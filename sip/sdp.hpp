// SDP session descriptions (RFC 4566), the subset a SIP phone needs: v=, o=, s=, c=, t=, m=,
// a=rtpmap, a=fmtp, a=ptime, a=maxptime and the direction attributes. Everything else is kept
// (other lines and attributes, other media kinds) so that an answer can mirror or reject it
// (RFC 3264 §6). The description owns its strings: it outlives the SIP message it came from and
// is what a call keeps as "last SDP sent/received".
//
// parse_sdp never throws and never reads out of bounds: it returns sip::error with a short
// reason for malformed input. It is lenient where real phones are sloppy: CRLF or LF line ends,
// trailing whitespace, blank lines, a missing s= or t=, unknown type letters (kept).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/result.hpp"

namespace sipfleet::sip {

// Media direction attributes (RFC 4566 §6, RFC 3264 §5.1). Absent means sendrecv.
enum class sdp_direction : std::uint8_t { sendrecv, sendonly, recvonly, inactive };

std::string_view to_string(sdp_direction d);
std::optional<sdp_direction> parse_sdp_direction(std::string_view text);
inline bool sends(sdp_direction d) {
  return d == sdp_direction::sendrecv || d == sdp_direction::sendonly;
}
inline bool receives(sdp_direction d) {
  return d == sdp_direction::sendrecv || d == sdp_direction::recvonly;
}
inline sdp_direction make_direction(bool send, bool receive) {
  if (send) return receive ? sdp_direction::sendrecv : sdp_direction::sendonly;
  return receive ? sdp_direction::recvonly : sdp_direction::inactive;
}

// c=<nettype> <addrtype> <connection-address> (RFC 4566 §5.7). nettype is always "IN".
struct sdp_connection {
  std::string addrtype = "IP4";  // "IP4" or "IP6"
  std::string address{};         // as written; for multicast may carry "/ttl"

  // c=IN IP4 0.0.0.0 is the RFC 2543 way to put a call on hold (RFC 3264 §8.4).
  bool is_null_address() const { return address == "0.0.0.0"; }
};

// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (RFC 4566 §5.2).
struct sdp_origin {
  std::string username = "-";
  std::uint64_t session_id = 0;
  std::uint64_t session_version = 0;
  std::string addrtype = "IP4";
  std::string address{};
};

// a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>] (RFC 4566 §6).
struct sdp_rtpmap {
  std::uint8_t payload_type = 0;
  std::string encoding{};  // as written, e.g. "PCMU", "telephone-event"
  std::uint32_t clock_rate = 0;
  std::string parameters{};  // e.g. channels "2"; empty when absent
};

// a=fmtp:<format> <format specific parameters> (RFC 4566 §6).
struct sdp_fmtp {
  std::uint8_t payload_type = 0;
  std::string parameters{};
};

// Any attribute we do not model (RFC 4566 §5.13): a=<name> or a=<name>:<value>.
struct sdp_attribute {
  std::string name{};
  std::optional<std::string> value{};
};

// A line of a type we keep but do not model (i=, u=, e=, p=, b=, r=, z=, k=, unknown letters,
// extra t= lines): written back as <type>=<value>.
struct sdp_line {
  char type = 'x';
  std::string value{};
};

// m=<media> <port>[/<number of ports>] <proto> <fmt> ... (RFC 4566 §5.14) and its lines.
struct sdp_media {
  std::string media = "audio";   // "audio", "video", "application", ...
  std::uint16_t port = 0;        // 0 = stream rejected or disabled (RFC 3264 §6, §8.2)
  std::uint16_t port_count = 0;  // the "/<number of ports>" part; 0 when absent
  std::string proto = "RTP/AVP";
  std::vector<std::string> formats{};  // as written; payload type numbers for RTP protos
  std::optional<sdp_connection> connection{};
  std::vector<sdp_rtpmap> rtpmaps{};
  std::vector<sdp_fmtp> fmtps{};
  std::optional<std::uint32_t> ptime{};     // a=ptime, milliseconds (RFC 4566 §6)
  std::optional<std::uint32_t> maxptime{};  // a=maxptime, milliseconds (RFC 4566 §6)
  std::optional<sdp_direction> direction{};
  std::vector<sdp_attribute> attributes{};  // others, in order
  std::vector<sdp_line> other_lines{};      // i=, b=, k=, unknown

  bool is_rtp() const { return proto.rfind("RTP/", 0) == 0; }
  // The formats as RTP payload types (only meaningful when is_rtp(); parse_sdp checked them).
  std::vector<std::uint8_t> payload_types() const;
  // The rtpmap of a payload type: the a=rtpmap line, or for static payload types without one
  // the RFC 3551 §6 table entry (e.g. 0 -> PCMU/8000). nullopt when unknown.
  std::optional<sdp_rtpmap> rtpmap_of(std::uint8_t payload_type) const;
  // The a=fmtp parameters of a payload type, nullopt when absent.
  std::optional<std::string_view> fmtp_of(std::uint8_t payload_type) const;
};

struct sdp_session {
  std::uint32_t version = 0;  // v= (RFC 4566 §5.1), always 0
  sdp_origin origin{};
  std::string name = "-";  // s= (RFC 4566 §5.3); "-" when there is nothing to say
  std::optional<sdp_connection> connection{};
  std::uint64_t start_time = 0;  // t=<start> <stop> (RFC 4566 §5.9); 0 0 = unbounded
  std::uint64_t stop_time = 0;
  std::optional<sdp_direction> direction{};
  std::vector<sdp_attribute> attributes{};
  std::vector<sdp_line> other_lines{};
  std::vector<sdp_media> media{};

  // The direction in effect for a stream: media level wins over session level; default
  // sendrecv (RFC 4566 §6, RFC 3264 §5.1).
  sdp_direction direction_of(const sdp_media& m) const;
  // The connection in effect for a stream: media level wins over session level (RFC 4566
  // §5.7). nullptr when neither is present.
  const sdp_connection* connection_of(const sdp_media& m) const;
};

// The RFC 3551 §6 static payload type table entry (audio and video) for 0..34, nullopt for
// unassigned and dynamic (96-127) payload types.
std::optional<sdp_rtpmap> static_payload_type(std::uint8_t payload_type);

// Parses an SDP body (RFC 4566 §5). See the file comment for what is tolerated.
result<sdp_session> parse_sdp(std::string_view text);

// Writes a description with CRLF line ends in RFC 4566 §5 order: v o s (i u e p) c (b) t
// (r z k) a, then per stream m (i) c (b k) a. Per stream the rtpmap/fmtp lines come first (in
// m= format order), then ptime, maxptime, other attributes, the direction attribute last.
std::string build_sdp(const sdp_session& sdp);

}  // namespace sipfleet::sip
