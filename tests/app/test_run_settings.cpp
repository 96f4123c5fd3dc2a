// `sipfleet run` settings: flags and YAML as a user writes them, and the errors that name the
// option to fix.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "app/run_settings.hpp"

using namespace sipfleet::app;
using namespace std::chrono_literals;

TEST_CASE("durations accept ms, s, m, h and plain seconds") {
  CHECK(*parse_duration("500ms") == 500ms);
  CHECK(*parse_duration("5s") == 5000ms);
  CHECK(*parse_duration("2m") == 120000ms);
  CHECK(*parse_duration("1h") == 3600000ms);
  CHECK(*parse_duration("3") == 3000ms);
  CHECK(*parse_duration("1.5s") == 1500ms);
  CHECK_FALSE(parse_duration("").ok());
  CHECK_FALSE(parse_duration("5 s").ok());
  CHECK_FALSE(parse_duration("5d").ok());
  CHECK_FALSE(parse_duration("-1s").ok());
  CHECK_FALSE(parse_duration("500us").ok());  // a call's hold or answer delay is whole milliseconds
}

TEST_CASE("--sip-batch: 1ms by default, in us or ms, 0 turns it off, at most 10ms") {
  CHECK(*parse_duration_us("500us") == 500us);
  CHECK(*parse_duration_us("0.25ms") == 250us);
  CHECK(*parse_duration_us("2ms") == 2000us);
  const auto defaults = make_run_plan({});
  REQUIRE(defaults.ok());
  CHECK(defaults->fleet.transport.batch_window == 1000us);
  const auto off = make_run_plan({{"sip-batch", "0"}});
  REQUIRE(off.ok());
  CHECK(off->fleet.transport.batch_window == 0us);
  const auto given = make_run_plan({{"sip-batch", "250us"}});
  REQUIRE(given.ok());
  CHECK(given->fleet.transport.batch_window == 250us);
  const auto longest = make_run_plan({{"sip-batch", "10ms"}});
  REQUIRE(longest.ok());
  CHECK(longest->fleet.transport.batch_window == 10000us);
}

TEST_CASE("user ranges expand in order and keep zero padding") {
  const auto users = parse_user_range("1000-1002,2000");
  REQUIRE(users.ok());
  CHECK(*users == std::vector<std::string>{"1000", "1001", "1002", "2000"});
  const auto padded = parse_user_range("0098-0100");
  REQUIRE(padded.ok());
  CHECK(padded->front() == "0098");
  CHECK(padded->back() == "0100");
  CHECK_FALSE(parse_user_range("1999-1000").ok());
  CHECK_FALSE(parse_user_range("abc").ok());
  CHECK_FALSE(parse_user_range("1-").ok());
}

TEST_CASE("the defaults make a runnable plan for the demo") {
  const auto plan = make_run_plan({});
  REQUIRE(plan.ok());
  CHECK(plan->fleet.users.size() == 1000);
  CHECK(plan->fleet.prototype.proxy.host == "127.0.0.1");
  CHECK(plan->fleet.prototype.proxy.port == 5060);
  CHECK(plan->fleet.prototype.domain == "sipfleet.test");
  CHECK(plan->fleet.password_template == "pw{user}");
  CHECK(plan->campaign.total == 0);
}

TEST_CASE("flags become typed settings") {
  const auto plan = make_run_plan({{"proxy", "127.0.0.1:15060"}, {"users", "100-109"}, {"calls", "50"},
                                   {"call-rate", "2.5"}, {"hold", "250ms"}, {"max-concurrent", "7"},
                                   {"max-failed-pct", "1.5"}, {"local-ip", "127.0.0.2,127.0.0.3"}});
  REQUIRE_MESSAGE(plan.ok(), (plan.ok() ? "" : plan.err().reason));
  CHECK(plan->fleet.prototype.proxy.port == 15060);
  CHECK(plan->fleet.users.size() == 10);
  CHECK(plan->campaign.total == 50);
  CHECK(plan->campaign.rate == doctest::Approx(2.5));
  CHECK(plan->campaign.hold == 250ms);
  CHECK(plan->campaign.max_concurrent == 7);
  CHECK(plan->max_failed_pct == doctest::Approx(1.5));
  CHECK(plan->fleet.transport.local_ips == std::vector<std::string>{"127.0.0.2", "127.0.0.3"});
}

TEST_CASE("media flags: on by default, codec, ports, DTMF, threads and an audio file") {
  const auto defaults = make_run_plan({});
  REQUIRE(defaults.ok());
  CHECK(defaults->fleet.media);
  CHECK(defaults->fleet.prototype.codec == sipfleet::sip::audio_codec::pcmu);
  CHECK(defaults->fleet.media_engine.first_port == 16384);
  CHECK(defaults->fleet.media_engine.last_port == 32767);
  CHECK(defaults->fleet.media_engine.audio.empty());  // the generated speech-like signal

  // a headerless file: 16-bit little-endian samples
  const std::string raw_path = "test_run_settings_audio.raw";
  {
    std::ofstream out(raw_path, std::ios::binary);
    const unsigned char bytes[] = {0x10, 0x00, 0xf0, 0xff, 0x00, 0x40};
    out.write(reinterpret_cast<const char*>(bytes), sizeof bytes);
  }
  const auto plan = make_run_plan({{"media", "on"}, {"codec", "PCMA"}, {"rtp-ports", "20000-20999"},
                                   {"dtmf", "12*#"}, {"media-threads", "3"}, {"media-nice", "7"},
                                   {"media-rt-priority", "10"}, {"audio", raw_path}});
  std::remove(raw_path.c_str());
  REQUIRE_MESSAGE(plan.ok(), (plan.ok() ? "" : plan.err().reason));
  CHECK(plan->fleet.prototype.codec == sipfleet::sip::audio_codec::pcma);
  CHECK(plan->fleet.media_engine.first_port == 20000);
  CHECK(plan->fleet.media_engine.last_port == 20999);
  CHECK(plan->fleet.prototype.dtmf_after_answer == "12*#");
  CHECK(plan->fleet.media_engine.threads == 3);
  CHECK(plan->fleet.media_engine.worker_nice == 7);
  CHECK(plan->fleet.media_engine.worker_rt_priority == 10);
  CHECK(plan->fleet.media_engine.audio == std::vector<std::int16_t>{16, -16, 0x4000});
  const auto off = make_run_plan({{"media", "off"}});
  REQUIRE(off.ok());
  CHECK_FALSE(off->fleet.media);
  CHECK(off->fleet.media_engine.worker_nice == -5);  // the default
  CHECK(off->fleet.media_engine.worker_rt_priority == 0);  // off unless asked for
}

TEST_CASE("a bad value is an error that names the option") {
  const std::pair<const char*, const char*> cases[] = {
      {"proxy", "127.0.0.1:0"},  {"proxy", "127.0.0.1:99999"}, {"transport", "sctp"},
      {"users", "9-1"},          {"call-rate", "0"},           {"call-rate", "fast"},
      {"hold", "forever"},       {"max-concurrent", "0"},      {"max-failed-pct", "101"},
      {"expires", "0"},          {"sip-port", "70000"},        {"quiet", "maybe"},
      {"media", "yes"},          {"codec", "G729"},            {"rtp-ports", "20000"},
      {"rtp-ports", "30000-20000"}, {"rtp-ports", "80-200"},   {"rtp-ports", "20001-20002"},
      {"dtmf", "12x"},           {"media-threads", "many"},    {"audio", "/nonexistent/file.wav"},
      {"media-nice", "-21"},     {"media-nice", "20"},         {"media-nice", "high"},
      {"media-rt-priority", "-1"}, {"media-rt-priority", "100"}, {"media-rt-priority", "fifo"},
      {"users", "1000-1999,1500-1599"}, {"sip-batch", "11ms"},   {"sip-batch", "soon"},
      {"sip-batch", "-1ms"},     {"sip-batch", "0.4us"},       {"sip-batch", "1"},
  };
  for (const auto& [name, value] : cases) {
    INFO(name << " = " << value);
    const auto plan = make_run_plan({{name, value}});
    REQUIRE_FALSE(plan.ok());
    CHECK(plan.err().reason.find(std::string("--") + name) == 0);
  }
}

TEST_CASE("a YAML config file gives the same settings, and unknown keys are refused") {
  const std::string path = "test_run_settings_config.yaml";
  {
    std::ofstream out(path);
    out << "proxy: 127.0.0.1:25060\nusers: 200-219\ncalls: 10\nhold: 1s\n";
  }
  const auto raw = read_yaml_settings(path);
  REQUIRE(raw.ok());
  const auto plan = make_run_plan(*raw);
  REQUIRE(plan.ok());
  CHECK(plan->fleet.prototype.proxy.port == 25060);
  CHECK(plan->fleet.users.size() == 20);
  CHECK(plan->campaign.hold == 1000ms);
  {
    std::ofstream out(path);
    out << "proxy: 127.0.0.1:25060\ncals: 10\n";
  }
  const auto bad = read_yaml_settings(path);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().reason.find("unknown option 'cals'") != std::string::npos);
  {
    std::ofstream out(path);
    out << "proxy: [unclosed\n";
  }
  CHECK_FALSE(read_yaml_settings(path).ok());
  CHECK_FALSE(read_yaml_settings("/nonexistent/sipfleet.yaml").ok());
  std::remove(path.c_str());
}
