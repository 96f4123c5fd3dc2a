// The SDP offer/answer model (RFC 3264) for a phone with one audio stream: build an offer,
// answer an offer, process the answer to our offer, and hold/resume re-offers (RFC 3264 §8.4).
// Pure functions on sdp_session, plus media_session, the per-call state that makes the o=
// version rule of RFC 3264 §8 hard to get wrong.
//
// Codec choice when answering: the first codec in the OFFERER's order that we support. RFC 3264
// §6.1 recommends that the answer keep the offer's relative order unless there is a reason not
// to; answering with just that one codec (plus telephone-event) means both sides send the same
// codec from the first packet. Payload type numbers are the offer's (RFC 3264 §6.1), which
// matters for dynamic ones such as telephone-event.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/result.hpp"
#include "sip/sdp.hpp"

namespace sipfleet::sip {

// The voice codecs a sipfleet phone sends and receives (RFC 3551 §4.5.14, static payload types
// 0 and 8, 8000 Hz). DTMF (telephone-event, RFC 4733) is negotiated beside them.
enum class audio_codec : std::uint8_t { pcmu, pcma };

std::string_view to_string(audio_codec c);                 // "PCMU", "PCMA"
std::uint8_t codec_payload_type(audio_codec c);            // 0, 8
std::optional<audio_codec> codec_of(const sdp_rtpmap& r);  // by name (any case) and rate

inline constexpr std::uint8_t default_telephone_event_pt = 101;

// What this phone offers and accepts.
struct local_media {
  std::string address{};  // RTP address for c= and o= (IPv6 when it contains ':')
  std::uint16_t rtp_port = 0;
  std::vector<audio_codec> codecs{audio_codec::pcmu, audio_codec::pcma};        // preference order
  std::optional<std::uint8_t> telephone_event_pt = default_telephone_event_pt;  // none: no DTMF
  std::uint32_t ptime_ms = 20;  // a=ptime we ask for
  sdp_direction direction = sdp_direction::sendrecv;
  std::string username = "-";         // o= username
  std::uint64_t session_id = 0;       // o= sess-id; the same for the whole call (RFC 3264 §8)
  std::uint64_t session_version = 0;  // o= sess-version of the SDP built
};

// The outcome of one offer/answer exchange for the call's audio stream.
struct negotiated_media {
  std::size_t stream_index = 0;  // the m= line carrying the audio
  audio_codec codec = audio_codec::pcmu;
  std::uint8_t payload_type = 0;                     // to put in the RTP packets we send
  std::optional<std::uint8_t> telephone_event_pt{};  // RFC 4733 DTMF; nullopt: none agreed
  std::string remote_address{};
  std::uint16_t remote_port = 0;
  std::uint32_t ptime_ms = 20;  // packet time the peer asked for (a=ptime), else 20
  sdp_direction local_direction = sdp_direction::sendrecv;   // whether we send / receive
  sdp_direction remote_direction = sdp_direction::sendrecv;  // the peer's, c=0.0.0.0 folded in
  // The peer does not want to receive from us: sendonly or inactive, or the RFC 2543 hold
  // address c=0.0.0.0 (RFC 3264 §8.4).
  bool remote_hold = false;
};

enum class answer_status : std::uint8_t {
  accepted,
  malformed_offer,  // the SDP could not be parsed: answer 400
  no_common_codec,  // no audio stream we can take (no codec in common, no audio): answer 488
};

struct answer_result {
  answer_status status = answer_status::accepted;
  std::string reason{};      // why, when not accepted
  sdp_session sdp{};         // the answer, when accepted
  negotiated_media media{};  // when accepted

  bool ok() const { return status == answer_status::accepted; }
  // The SIP status code for the INVITE/UPDATE that carried the offer (RFC 3261 §21.4.1 400,
  // §21.4.26 488 Not Acceptable Here).
  int sip_status() const;
};

// RFC 3264 §5: an offer with one audio stream: our codecs in preference order, then
// telephone-event (fmtp 0-16), with rtpmap lines for all, a=ptime and the direction.
sdp_session build_offer(const local_media& local);

// RFC 3264 §6: answers an offer. The first audio RTP/AVP stream with a codec in common is
// accepted; every other stream is rejected with port 0, keeping the number and order of m=
// lines. The direction is the §6.1 table combined with local.direction; c=0.0.0.0 in the
// offer counts as the offerer not receiving (hold).
answer_result answer_offer(const sdp_session& offer, const local_media& local);
answer_result answer_offer(std::string_view offer_body, const local_media& local);

// RFC 3264 §7: the answer to our offer, checked against it (same number of m= lines, a codec
// we offered, a connection address).
result<negotiated_media> process_answer(const sdp_session& offer, const sdp_session& answer);

// The per-call SDP state. Every SDP we send goes through it: the o= session id never changes
// and the version moves up by exactly one when, and only when, the SDP differs from the last
// one sent (RFC 3264 §8).
class media_session {
 public:
  // local.session_version is the version of the first SDP sent.
  explicit media_session(local_media local);

  // Offers: the initial offer (or an unchanged refresh), hold and resume (RFC 3264 §8.4).
  // Hold offers sendonly, or inactive when the peer already holds us; resume offers
  // local.direction again.
  std::string create_offer();
  std::string create_hold_offer();
  std::string create_resume_offer();
  // The answer to the last offer created; on success it becomes negotiated().
  result<negotiated_media> receive_answer(std::string_view body);
  // The peer refused our last offer (e.g. 488 or 491 to a re-INVITE): the previous session
  // stays in force (RFC 3264 §8), so does hold state; the version already sent is not reused.
  void offer_rejected();
  // An offer from the peer (initial INVITE, re-INVITE, UPDATE); on success the answer text
  // is last_sent_sdp() and the media is negotiated().
  answer_result receive_offer(std::string_view body);

  std::uint64_t session_id() const { return local_.session_id; }
  std::uint64_t local_version() const { return local_.session_version; }
  const std::string& last_sent_sdp() const { return last_sent_; }
  const std::optional<negotiated_media>& negotiated() const { return negotiated_; }
  bool holding() const { return holding_; }  // we have put the peer on hold

 private:
  sdp_direction wanted_direction() const;
  std::string send(sdp_session sdp);

  local_media local_;
  bool holding_ = false;
  bool holding_before_offer_ = false;  // to undo a refused hold/resume
  std::string last_sent_;
  std::optional<sdp_session> pending_offer_;  // ours, waiting for its answer
  std::optional<negotiated_media> negotiated_;
};

}  // namespace sipfleet::sip
