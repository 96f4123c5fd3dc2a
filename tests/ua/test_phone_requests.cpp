// Requests a phone answers by itself (PHONE-BEHAVIOUR.md responses table, RFC 3261 §8.2, §11,
// §12.2.2): OPTIONS, 405, 481, 416, 420, 415, 404, a malformed request's 400, an out-of-order
// CSeq's 500, retransmissions absorbed by the server transactions.
#include <doctest/doctest.h>

#include "fake_network.hpp"
#include "sip/sip_test_util.hpp"

using namespace sipfleet;
using namespace sipfleet::ua;
using namespace sipfleet::ua::test;
using sipfleet::test::crlf;

namespace {

std::string request(std::string_view method, std::string_view ruri = "sip:1002@10.0.1.1:5101",
                    std::string_view extra = "", std::string_view to_tag = "",
                    std::string_view cseq = "1") {
  std::string r = std::string(method) + " " + std::string(ruri) + " SIP/2.0\n" +
                  "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKtest" + std::string(method) +
                  std::string(cseq) + "\n" + "Max-Forwards: 70\n" +
                  "From: <sip:9000@sipfleet.test>;tag=ft1\n" + "To: <sip:1002@sipfleet.test>" +
                  (to_tag.empty() ? std::string() : ";tag=" + std::string(to_tag)) + "\n" +
                  "Call-ID: test-call-1\n" + "CSeq: " + std::string(cseq) + " " +
                  std::string(method) + "\n" + "Contact: <sip:9000@10.0.0.9>\n" +
                  std::string(extra) + "Content-Length: 0\n\n";
  return crlf(r);
}

struct one_phone {
  network net;
  node& b = net.add("1002");
  one_phone() {
    b->start();
    net.run_for(10ms);
  }
  // The last response the phone sent.
  std::string last_response() const {
    for (auto it = net.log.rbegin(); it != net.log.rend(); ++it)
      if (it->sender == "1002" && it->bytes.rfind("SIP/2.0 ", 0) == 0) return it->bytes;
    return {};
  }
};

}  // namespace

TEST_CASE("OPTIONS is answered 200 with Allow, Accept and Supported") {
  one_phone t;
  t.net.inject("1002", request("OPTIONS"));
  const auto r = t.last_response();
  CHECK(r.rfind("SIP/2.0 200 OK\r\n", 0) == 0);
  CHECK(header_of(r, "Allow").find("INVITE") != std::string::npos);
  CHECK(header_of(r, "Accept") == "application/sdp");
  CHECK(r.find("Accept: application/sdp, message/sipfrag\r\n") != std::string::npos);
  CHECK(r.find("\r\nSupported:") != std::string::npos);
}

TEST_CASE("requests the phone does not handle get the right refusal") {
  struct row {
    const char* name;
    std::string bytes;
    int code;
    const char* header;
    const char* value;
  };
  const row rows[] = {
      {"MESSAGE: 405 with Allow", request("MESSAGE"), 405, "Allow", "INVITE"},
      {"SUBSCRIBE: 405", request("SUBSCRIBE"), 405, "Allow", "BYE"},
      {"PUBLISH: 405", request("PUBLISH"), 405, "Allow", "OPTIONS"},
      {"a REFER outside a dialog: 405 (REFER is taken in a call only)", request("REFER"), 405,
       "Allow", "REFER, NOTIFY"},
      {"an extension method: 405", request("FOOBAR"), 405, "Allow", "CANCEL"},
      {"Require with an unknown option: 420 with Unsupported",
       request("OPTIONS", "sip:1002@10.0.1.1:5101", "Require: foo, bar\n"), 420, "Unsupported",
       "foo, bar"},
      {"a tel: Request-URI: 416", request("OPTIONS", "tel:+15551234"), 416, "", ""},
      {"another user: 404", request("OPTIONS", "sip:4444@10.0.1.1:5101"), 404, "", ""},
      {"an in-dialog BYE for no dialog: 481", request("BYE", "sip:1002@10.0.1.1:5101", "", "xyz"),
       481, "", ""},
      {"an in-dialog INFO for no dialog: 481", request("INFO", "sip:1002@10.0.1.1:5101", "", "xyz"),
       481, "", ""},
      {"a BYE outside any dialog: 481", request("BYE"), 481, "", ""},
      {"an INVITE with a text/plain body: 415 with Accept",
       crlf("INVITE sip:1002@10.0.1.1:5101 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKb1\n"
            "From: <sip:9000@x>;tag=a\nTo: <sip:1002@x>\nCall-ID: c415\nCSeq: 1 INVITE\n"
            "Contact: <sip:9000@10.0.0.9>\nContent-Type: text/plain\nContent-Length: 5\n\nhello"),
       415, "Accept", "application/sdp"},
      {"an INVITE with no codec in common: 488",
       crlf("INVITE sip:1002@10.0.1.1:5101 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKb2\n"
            "From: <sip:9000@x>;tag=a\nTo: <sip:1002@x>\nCall-ID: c488\nCSeq: 1 INVITE\n"
            "Contact: <sip:9000@10.0.0.9>\nContent-Type: application/sdp\nContent-Length: 99\n\n"
            "v=0\no=- 1 1 IN IP4 10.0.0.9\ns=-\nc=IN IP4 10.0.0.9\nt=0 0\n"
            "m=audio 5000 RTP/AVP 18\na=rtpmap:18 G729/8000\n"),
       488, "", ""},
  };
  for (const auto& r : rows) {
    const std::string name = r.name;
    CAPTURE(name);
    one_phone t;
    t.net.inject("1002", r.bytes);
    const auto resp = t.last_response();
    REQUIRE(resp.size() > 12);
    CHECK(resp.substr(8, 3) == std::to_string(r.code));
    if (r.header[0] != 0) {
      const auto line = resp.find("\r\n" + std::string(r.header) + ": ");
      REQUIRE(line != std::string::npos);
      CHECK(resp.find(r.value, line) != std::string::npos);
    }
    CHECK(t.b->active_calls() == 0);
  }
}

TEST_CASE("a retransmitted request is absorbed: the same response is sent again, once") {
  one_phone t;
  t.net.inject("1002", request("MESSAGE"));
  t.net.inject("1002", request("MESSAGE"));
  CHECK(t.net.responses_by("1002", 405).size() == 2);
  CHECK(t.b->counters().retransmissions == 1);
}

TEST_CASE("a malformed request is answered 400 with the parser's reason and counted") {
  one_phone t;
  t.net.inject("1002", crlf("OPTIONS sip:1002@10.0.1.1:5101 SIP/2.0\n"
                            "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKm1\n"
                            "From: <sip:9000@x>;tag=a\nTo: <sip:1002@x>\nCall-ID: bad1\n"
                            "CSeq: 1 INVITE\nMax-Forwards: 70\nContent-Length: 0\n\n"));
  CHECK(t.b->counters().parse_errors == 1);
  const auto r = t.last_response();
  REQUIRE(r.rfind("SIP/2.0 400 ", 0) == 0);
  auto m = sip::message::parse(r);
  REQUIRE(m.ok());
  CHECK(m->call_id() == "bad1");
  CHECK_FALSE(m->to().tag.empty());

  // Garbage that is no request: only counted.
  const auto before = t.net.log.size();
  t.b->on_malformed("\x01\x02garbage", "bad start line", t.net.proxy);
  CHECK(t.b->counters().parse_errors == 2);
  CHECK(t.net.log.size() == before);
}

TEST_CASE("in a call: INFO and UPDATE get 200, NOTIFY 481, a lower CSeq 500, BYE ends the call") {
  network net;
  node& a = net.add("1001");
  node& b = net.add("1002");
  a->start();
  b->start();
  net.run_for(10ms);
  REQUIRE(a->call("1002", 0s).ok());
  net.run_for(10ms);
  REQUIRE(b->current_calls().size() == 1);
  // Requests in B's dialog: From tag = A's tag, To tag = B's tag.
  const auto cseq = sip::message::parse(net.sent_by("1001", "INVITE").at(0))->cseq().number;
  auto in_dialog = [&](std::string_view method, std::uint32_t n) {
    return in_dialog_request(net, "1001", "1002", {.method = method, .cseq = n});
  };
  net.inject("1002", in_dialog("INFO", cseq + 1));
  CHECK(net.responses_by("1002", 200).size() == 2);
  net.inject("1002", in_dialog("UPDATE", cseq + 2));
  CHECK(net.responses_by("1002", 200).size() == 3);
  net.inject("1002", in_dialog("NOTIFY", cseq + 3));
  CHECK(net.responses_by("1002", 481).size() == 1);
  net.inject("1002", in_dialog("INFO", cseq));
  CHECK(net.responses_by("1002", 500).size() == 1);
  net.inject("1002", in_dialog("BYE", cseq + 4));
  CHECK(b->active_calls() == 0);
  const auto rec = b->take_finished_calls();
  REQUIRE(rec.size() == 1);
  CHECK(rec[0].end_reason == "BYE from peer");
}
