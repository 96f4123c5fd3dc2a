// Sample messages for the benchmarks: what a phone sees in a call through Kamailio.
#pragma once

#include <string>

namespace sipfleet::bench {

inline std::string with_crlf(const char* text) {
  std::string out;
  for (const char* p = text; *p != 0; ++p) {
    if (*p == '\n') out.push_back('\r');
    out.push_back(*p);
  }
  return out;
}

inline const char* k_sdp =
    "v=0\n"
    "o=1001 8000 8000 IN IP4 127.0.0.2\n"
    "s=sipfleet\n"
    "c=IN IP4 127.0.0.2\n"
    "t=0 0\n"
    "m=audio 16384 RTP/AVP 0 8 101\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:8 PCMA/8000\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-16\n"
    "a=ptime:20\n"
    "a=sendrecv\n";

inline std::string typical_invite() {
  const std::string sdp = with_crlf(k_sdp);
  return with_crlf(
             "INVITE sip:1002@127.0.0.3:5060 SIP/2.0\n"
             "Record-Route: <sip:127.0.0.1:5060;lr>\n"
             "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK0e44.c7b4b2c4000000000000000000000000.0\n"
             "Via: SIP/2.0/UDP 127.0.0.2:5060;received=127.0.0.2;rport=5060;branch=z9hG4bK1f2e3d4c5b6a\n"
             "Max-Forwards: 69\n"
             "From: \"1001\" <sip:1001@sipfleet.test>;tag=a73kszlfl\n"
             "To: <sip:1002@sipfleet.test>\n"
             "Call-ID: 9f8e7d6c5b4a39281706f5e4d3c2b1a0@127.0.0.2\n"
             "CSeq: 2 INVITE\n"
             "Contact: <sip:1001@127.0.0.2:5060;transport=udp>\n"
             "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO, UPDATE\n"
             "Supported: replaces, timer\n"
             "User-Agent: sipfleet/0.1\n"
             "Content-Type: application/sdp\n"
             "Content-Length: ") +
         std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
}

inline std::string typical_200_ok() {
  const std::string sdp = with_crlf(k_sdp);
  return with_crlf(
             "SIP/2.0 200 OK\n"
             "Via: SIP/2.0/UDP 127.0.0.2:5060;received=127.0.0.2;rport=5060;branch=z9hG4bK1f2e3d4c5b6a\n"
             "Record-Route: <sip:127.0.0.1:5060;lr>\n"
             "From: \"1001\" <sip:1001@sipfleet.test>;tag=a73kszlfl\n"
             "To: <sip:1002@sipfleet.test>;tag=8f7a6b5c\n"
             "Call-ID: 9f8e7d6c5b4a39281706f5e4d3c2b1a0@127.0.0.2\n"
             "CSeq: 2 INVITE\n"
             "Contact: <sip:1002@127.0.0.3:5060;transport=udp>\n"
             "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO, UPDATE\n"
             "Supported: replaces, timer\n"
             "Server: sipfleet/0.1\n"
             "Content-Type: application/sdp\n"
             "Content-Length: ") +
         std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
}

inline std::string typical_register_200_ok() {
  return with_crlf(
      "SIP/2.0 200 OK\n"
      "Via: SIP/2.0/UDP 127.0.0.2:5060;received=127.0.0.2;rport=5060;branch=z9hG4bK7a6b5c4d3e2f\n"
      "From: <sip:1001@sipfleet.test>;tag=b81kdiwo2\n"
      "To: <sip:1001@sipfleet.test>;tag=1b2a3c4d5e6f7a8b9c0d1e2f3a4b5c6d.7e8f\n"
      "Call-ID: 0a1b2c3d4e5f60718293a4b5c6d7e8f9@127.0.0.2\n"
      "CSeq: 3 REGISTER\n"
      "Contact: <sip:1001@127.0.0.2:5060;transport=udp>;expires=3600\n"
      "Server: kamailio (5.6.3 (x86_64/linux))\n"
      "Content-Length: 0\n"
      "\n");
}

}  // namespace sipfleet::bench
