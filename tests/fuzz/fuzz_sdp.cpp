// libFuzzer target for SDP and offer/answer: any body must be answered or refused cleanly,
// and what we build from a parsed SDP must parse again to the same text (a round trip).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sip/offer_answer.hpp"

using namespace sipfleet::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto s = parse_sdp(text)) {
    auto again = parse_sdp(build_sdp(*s));
    if (!again.ok()) __builtin_trap();
    if (build_sdp(*again) != build_sdp(*s)) __builtin_trap();
  }
  const local_media local{.address = "127.0.0.2", .rtp_port = 16384, .session_id = 1,
                          .session_version = 1};
  if (auto a = answer_offer(text, local); a.ok() && !parse_sdp(build_sdp(a.sdp)).ok())
    __builtin_trap();
  media_session session(local);
  (void)session.create_offer();
  (void)session.receive_answer(text);
  return 0;
}
