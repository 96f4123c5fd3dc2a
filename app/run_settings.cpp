// Settings of `sipfleet run` (see run_settings.hpp).
#include "app/run_settings.hpp"

#include "actors/ua/user_range.hpp"
#include "rtp/audio.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <cmath>
#include <cstdlib>

namespace sipfleet::app {
namespace {

template <class T>
bool to_number(const std::string& s, T& out) {
  const auto* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc{} && p == end;
}

sip::error bad(const std::string& option, const std::string& value, const std::string& why) {
  return sip::error{"--" + option + " '" + value + "': " + why};
}

sip::result<double> positive_rate(const raw_settings& raw, const std::string& name, bool allow_zero) {
  const auto& v = raw.at(name);
  double d = 0;
  if (!to_number(v, d) || !std::isfinite(d) || d < 0 || (!allow_zero && d == 0))
    return bad(name, v, allow_zero ? "must be a number >= 0" : "must be a number > 0");
  return d;
}

sip::result<std::uint64_t> count(const raw_settings& raw, const std::string& name, std::uint64_t max) {
  const auto& v = raw.at(name);
  std::uint64_t n = 0;
  if (!to_number(v, n) || n > max) return bad(name, v, "must be a whole number from 0 to " + std::to_string(max));
  return n;
}

// --audio: a WAV file (PCM 16-bit, G.711 μ-law or A-law, 8 kHz mono), or headerless 16-bit
// little-endian samples at 8 kHz.
sip::result<std::vector<std::int16_t>> read_audio(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return bad("audio", path, "cannot open the file");
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() >= 4 && std::string_view(reinterpret_cast<const char*>(bytes.data()), 4) == "RIFF") {
    auto wav = rtp::audio_source::parse_wav(bytes);
    if (!wav.ok) return bad("audio", path, wav.error);
    if (wav.samples.empty()) return bad("audio", path, "the file has no samples");
    return std::move(wav.samples);
  }
  if (bytes.size() < 2) return bad("audio", path, "the file has no samples");
  std::vector<std::int16_t> samples(bytes.size() / 2);
  for (std::size_t i = 0; i < samples.size(); ++i)
    samples[i] = static_cast<std::int16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8));
  return samples;
}

sip::result<bool> read_media_settings(raw_settings& raw, actors::fleet_options& f) {
  if (raw["media"] != "on" && raw["media"] != "off") return bad("media", raw["media"], "must be on or off");
  f.media = raw["media"] == "on";
  if (raw["codec"] == "PCMU" || raw["codec"] == "pcmu") {
    f.prototype.codec = sip::audio_codec::pcmu;
  } else if (raw["codec"] == "PCMA" || raw["codec"] == "pcma") {
    f.prototype.codec = sip::audio_codec::pcma;
  } else {
    return bad("codec", raw["codec"], "must be PCMU or PCMA");
  }
  if (!raw["audio"].empty() && f.media) {
    auto samples = read_audio(raw["audio"]);
    if (!samples) return samples.err();
    f.media_engine.audio = std::move(samples).value();
  }
  const auto& ports = raw["rtp-ports"];
  const auto dash = ports.find('-');
  std::uint16_t first = 0, last = 0;
  if (dash == std::string::npos || !to_number(ports.substr(0, dash), first) ||
      !to_number(ports.substr(dash + 1), last) || first < 1024 || last <= first)
    return bad("rtp-ports", ports, "expected a range A-B of ports, 1024 <= A < B <= 65535");
  if (first + (first % 2) + 1 > last)
    return bad("rtp-ports", ports, "the range holds no even RTP port with its RTCP port");
  f.media_engine.first_port = first;
  f.media_engine.last_port = last;
  const auto& dtmf = raw["dtmf"];
  if (dtmf.find_first_not_of("0123456789*#ABCDabcd") != std::string::npos)
    return bad("dtmf", dtmf, "DTMF digits are 0-9, *, #, A-D");
  f.prototype.dtmf_after_answer = dtmf;
  auto threads = count(raw, "media-threads", 64);
  if (!threads) return threads.err();
  f.media_engine.threads = static_cast<unsigned>(*threads);
  int nice = 0;
  if (!to_number(raw["media-nice"], nice) || nice < -20 || nice > 19)
    return bad("media-nice", raw["media-nice"], "must be a whole number from -20 to 19");
  f.media_engine.worker_nice = nice;
  int rt = 0;
  if (!to_number(raw["media-rt-priority"], rt) || rt < 0 || rt > 99)
    return bad("media-rt-priority", raw["media-rt-priority"], "must be a whole number from 0 (off) to 99");
  f.media_engine.worker_rt_priority = rt;
  return true;
}

sip::result<ua::endpoint> host_port(const std::string& option, const std::string& v) {
  std::string host = v;
  std::string port_text;
  if (!v.empty() && v.front() == '[') {  // [::1]:5060
    const auto close = v.find(']');
    if (close == std::string::npos) return bad(option, v, "expected HOST:PORT");
    host = v.substr(1, close - 1);
    if (close + 1 < v.size() && v[close + 1] == ':') port_text = v.substr(close + 2);
  } else if (const auto colon = v.rfind(':'); colon != std::string::npos && v.find(':') == colon) {
    host = v.substr(0, colon);
    port_text = v.substr(colon + 1);
  }
  std::uint16_t port = 5060;
  if (!port_text.empty() && (!to_number(port_text, port) || port == 0))
    return bad(option, v, "the port must be 1-65535");
  if (host.empty()) return bad(option, v, "expected HOST:PORT");
  return ua::endpoint{host, port};
}

// --api HOST:PORT | off, --api-token (or SIPFLEET_API_TOKEN).
sip::result<bool> read_api_settings(raw_settings& raw, const raw_settings& given, api_settings& api) {
  api.explicit_address = given.count("api") > 0;
  api.token = raw["api-token"];
  if (api.token.empty())
    if (const char* env = std::getenv("SIPFLEET_API_TOKEN")) api.token = env;
  if (raw["api"] == "off") {
    api.enabled = false;
    return true;
  }
  const auto& v = raw["api"];
  const auto colon = v.rfind(':');
  std::uint16_t port = 0;
  if (colon == std::string::npos || colon == 0 || !to_number(v.substr(colon + 1), port))
    return bad("api", v, "expected HOST:PORT (port 0: any free port) or off");
  api.host = v.substr(0, colon);
  if (api.host.size() > 2 && api.host.front() == '[' && api.host.back() == ']') api.host = api.host.substr(1, api.host.size() - 2);
  api.port = port;
  std::uint64_t queue = 0;
  if (!to_number(raw["api-events-queue"], queue) || queue == 0 || queue > 1'000'000)
    return bad("api-events-queue", raw["api-events-queue"], "must be a whole number from 1 to 1000000");
  api.event_queue = static_cast<std::size_t>(queue);
  return true;
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& run_option_defaults() {
  static const std::vector<std::pair<std::string, std::string>> defaults = {
      {"proxy", "127.0.0.1:5060"}, {"domain", "sipfleet.test"}, {"users", "1000-1999"},
      {"password", "pw{user}"},    {"transport", "udp"},        {"local-ip", "127.0.0.1"},
      {"sip-port", "0"},           {"sip-batch", "1ms"},        {"register-rate", "200"},
      {"expires", "3600"},
      {"calls", "0"},              {"call-rate", "10"},         {"hold", "5s"},
      {"answer-delay", "0s"},      {"max-concurrent", "100"},   {"report", ""},
      {"max-failed-pct", "0"},     {"duration", "0s"},          {"quiet", "false"},
      {"seed", "1"},               {"threads", "0"},            {"callees", ""},
      {"media", "on"},             {"codec", "PCMU"},           {"audio", ""},
      {"rtp-ports", "16384-32767"}, {"dtmf", ""},               {"media-threads", "0"},
      {"media-nice", "-5"},         {"media-rt-priority", "0"},
      {"call-records", ""},        {"api", "127.0.0.1:8080"},   {"api-token", ""},
      {"max-phones", "0"},         {"api-events-queue", "4096"},
  };
  return defaults;
}

// What --help says of each option (run and serve share them).
const std::map<std::string, std::string>& option_help() {
  static const std::map<std::string, std::string> help = {
      {"proxy", "Outbound proxy and registrar, HOST:PORT"},
      {"domain", "SIP domain of the phones (AOR host, realm)"},
      {"users", "The phones' user names as number ranges, e.g. 1000-1999 or 1000-1099,2000-2099"},
      {"password", "Digest password template; {user} is replaced by the user"},
      {"transport", "udp or tcp"},
      {"local-ip", "Local address(es) for the phones' sockets, comma-separated (e.g. 127.0.0.2,127.0.0.3)"},
      {"sip-port", "Local SIP port (0: any free port)"},
      {"sip-batch", "Under load, the SIP I/O thread reads its sockets once per this window instead of\n"
                    "waking for each datagram (it does so once two wake-ups come closer than this):\n"
                    "fewer wake-ups, so less CPU per registration or call (bench/README.md), for at\n"
                    "most this much added delay per message (a call's setup crosses several). 0: wake\n"
                    "for every datagram. Up to 10ms, e.g. 500us, 2ms"},
      {"register-rate", "Registrations started per second (0: all at once)"},
      {"expires", "Registration lifetime to ask for, seconds"},
      {"calls", "Total calls to place (0: registration only)"},
      {"call-rate", "Calls started per second"},
      {"hold", "How long an answered call stays up, e.g. 5s, 500ms"},
      {"answer-delay", "How long a called phone rings before it answers"},
      {"max-concurrent", "At most this many calls in progress"},
      {"report", "Write the JSON report to this file"},
      {"max-failed-pct", "Exit 1 when more than this percentage of calls fail"},
      {"duration", "Stop placing calls after this time (0: when --calls are placed); with --calls 0, keep\n"
                   "the phones registered this long (they answer calls from elsewhere)"},
      {"callees", "Users to call instead of the fleet's own phones, e.g. a SIPp UAS or an IVR (ranges)"},
      {"seed", "Seed for the random choices (callers, callees, identifiers)"},
      {"threads", "Actor scheduler threads (0: one per core less the SIP I/O thread's, at least 1)"},
      {"media", "on: every answered call streams G.711 RTP both ways and measures it; off: SIP only"},
      {"codec", "The G.711 law offered first, PCMU or PCMA (both are accepted when answering)"},
      {"audio", "What the phones send: a WAV file (PCM16/G.711, 8 kHz mono) or raw 16-bit 8 kHz\n"
                "samples, looped (default: a generated speech-like signal)"},
      {"rtp-ports", "Local ports for RTP (even) and RTCP (the odd one above), one pair per call end"},
      {"dtmf", "Digits the caller sends as RFC 4733 events once a call is answered, e.g. 123#"},
      {"media-threads", "Media engine threads (0: one per core)"},
      {"media-nice", "Nice value of the media engine threads (-20 to 19), so that packets leave on time\n"
                     "on a busy machine; below the process's own it needs root or CAP_SYS_NICE, and\n"
                     "without them the threads keep the process's (the report's media.worker_nice)"},
      {"media-rt-priority", "Real-time scheduling for the media engine threads: SCHED_FIFO at this priority\n"
                            "(1 to 99; 0, the default: off). Packets then leave on time even while SIP\n"
                            "threads or a local proxy keep the CPUs busy. Needs root, CAP_SYS_NICE or an\n"
                            "RLIMIT_RTPRIO that allows it; refused, the threads keep normal scheduling. A\n"
                            "thread behind for 200 ms (more streams than it can carry) goes back to normal\n"
                            "scheduling so as not to starve SIP, and returns after keeping up for 1 s (the\n"
                            "report's media.worker_rt_priority and media.rt_demotions)"},
      {"call-records", "Write every ended call (both sides) to this file, one JSON object per line:\n"
                       "times, end code and reason, and the call's media figures and DTMF digits"},
      {"api", "Serve the control API (REST and WebSocket) on HOST:PORT while running (port 0: any\n"
              "free port); off: no API. Beyond loopback it needs --api-token"},
      {"api-token", "Every API request then needs 'Authorization: Bearer TOKEN' (or set\n"
                    "SIPFLEET_API_TOKEN; the token is never printed)"},
      {"max-phones", "Room for phones the API adds beside --users (0: none)"},
      {"api-events-queue", "Events kept for a WebSocket client that reads too slowly; beyond, the oldest\n"
                           "are dropped and the client is told how many"},
  };
  return help;
}

namespace {

// A duration's value in milliseconds; `us` (microseconds) is taken where the caller allows it.
sip::result<double> duration_ms(const std::string& text, bool allow_us) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  double value = 0;
  if (i == 0 || !to_number(text.substr(0, i), value)) return sip::error{allow_us ? "expected a duration like 500us, 1ms, 2ms"
                                                                        : "expected a duration like 5s, 500ms, 2m"};
  const std::string unit = text.substr(i);
  double ms = 0;
  if (unit.empty() || unit == "s") {
    ms = value * 1000;
  } else if (unit == "ms") {
    ms = value;
  } else if (unit == "us" && allow_us) {
    ms = value / 1000;
  } else if (unit == "m") {
    ms = value * 60000;
  } else if (unit == "h") {
    ms = value * 3600000;
  } else {
    return sip::error{"unknown unit '" + unit + (allow_us ? "' (use us, ms, s, m or h)" : "' (use ms, s, m or h)")};
  }
  if (ms > 1e12) return sip::error{"too long"};
  return ms;
}

}  // namespace

sip::result<std::chrono::milliseconds> parse_duration(const std::string& text) {
  auto ms = duration_ms(text, false);
  if (!ms) return ms.err();
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(*ms)));
}

sip::result<std::chrono::microseconds> parse_duration_us(const std::string& text) {
  auto ms = duration_ms(text, true);
  if (!ms) return ms.err();
  return std::chrono::microseconds(static_cast<std::int64_t>(std::llround(*ms * 1000)));
}

sip::result<std::vector<std::string>> parse_user_range(const std::string& text) {
  // Overlapping ranges (1000-1999,1500-1599) would make two phones of one user: refused too.
  return ua::expand_user_ranges(text, 10'000'000);
}

sip::result<raw_settings> read_yaml_settings(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return sip::error{"--config '" + path + "': cannot read the file"};
  } catch (const YAML::Exception& e) {
    return sip::error{"--config '" + path + "': not valid YAML: " + e.msg + " (line " +
                      std::to_string(e.mark.line + 1) + ")"};
  }
  raw_settings out;
  if (root.IsNull()) return out;
  if (!root.IsMap()) return sip::error{"--config '" + path + "': expected a mapping of option: value"};
  for (const auto& kv : root) {
    const auto key = kv.first.as<std::string>();
    bool known = false;
    for (const auto& [name, def] : run_option_defaults()) known = known || name == key;
    if (!known) return sip::error{"--config '" + path + "': unknown option '" + key + "'"};
    if (!kv.second.IsScalar()) return sip::error{"--config '" + path + "': '" + key + "' must be a single value"};
    out[key] = kv.second.as<std::string>();
  }
  return out;
}

sip::result<run_plan> make_run_plan(const raw_settings& given) {
  raw_settings raw;
  for (const auto& [name, def] : run_option_defaults()) raw[name] = def;
  for (const auto& [name, value] : given) raw[name] = value;

  run_plan plan;
  auto& f = plan.fleet;
  auto proxy = host_port("proxy", raw["proxy"]);
  if (!proxy) return proxy.err();
  f.prototype.proxy = *proxy;
  plan.proxy_text = raw["proxy"];
  f.prototype.domain = raw["domain"];
  if (f.prototype.domain.empty()) return bad("domain", "", "must not be empty");

  if (!raw["users"].empty() || given.count("users") == 0) {
    auto users = parse_user_range(raw["users"]);
    if (!users) return bad("users", raw["users"], users.err().reason);
    f.users = std::move(users).value();
  }
  f.password_template = raw["password"];

  if (raw["transport"] == "udp") {
    f.transport.kind = ua::transport_kind::udp;
  } else if (raw["transport"] == "tcp") {
    f.transport.kind = ua::transport_kind::tcp;
  } else {
    return bad("transport", raw["transport"], "must be udp or tcp");
  }
  f.transport.local_ips.clear();
  for (std::size_t pos = 0;;) {
    const auto comma = raw["local-ip"].find(',', pos);
    f.transport.local_ips.push_back(raw["local-ip"].substr(pos, comma == std::string::npos ? comma : comma - pos));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  auto port = count(raw, "sip-port", 65535);
  if (!port) return port.err();
  f.transport.port = static_cast<std::uint16_t>(*port);
  auto batch = parse_duration_us(raw["sip-batch"]);
  if (!batch) return bad("sip-batch", raw["sip-batch"], batch.err().reason);
  if (*batch > std::chrono::milliseconds(10))
    return bad("sip-batch", raw["sip-batch"], "must be at most 10ms (e.g. 500us, 2ms; a plain number is seconds)");
  if (batch->count() == 0 && raw["sip-batch"].find_first_of("123456789") != std::string::npos)
    return bad("sip-batch", raw["sip-batch"], "must be 0 (off) or at least 1us");
  f.transport.batch_window = *batch;

  auto reg_rate = positive_rate(raw, "register-rate", true);
  if (!reg_rate) return reg_rate.err();
  f.register_rate = *reg_rate;
  auto expires = count(raw, "expires", 0xffffffffULL);
  if (!expires) return expires.err();
  if (*expires == 0) return bad("expires", raw["expires"], "must be > 0 (phones must register)");
  f.prototype.expires = static_cast<std::uint32_t>(*expires);

  auto calls = count(raw, "calls", 1'000'000'000'000ULL);
  if (!calls) return calls.err();
  plan.campaign.total = *calls;
  auto call_rate = positive_rate(raw, "call-rate", false);
  if (!call_rate) return call_rate.err();
  plan.campaign.rate = *call_rate;
  for (const char* name : {"hold", "answer-delay", "duration"}) {
    auto d = parse_duration(raw[name]);
    if (!d) return bad(name, raw[name], d.err().reason);
    if (std::string(name) == "hold") plan.campaign.hold = *d;
    if (std::string(name) == "answer-delay") f.prototype.behaviour.answer_delay = *d;
    if (std::string(name) == "duration") plan.campaign.duration = *d;
  }
  auto max_conc = count(raw, "max-concurrent", 10'000'000);
  if (!max_conc) return max_conc.err();
  if (*max_conc == 0) return bad("max-concurrent", raw["max-concurrent"], "must be > 0");
  plan.campaign.max_concurrent = static_cast<std::size_t>(*max_conc);

  if (!raw["callees"].empty()) {
    auto callees = parse_user_range(raw["callees"]);
    if (!callees) return bad("callees", raw["callees"], callees.err().reason);
    plan.campaign.callees = std::move(callees).value();
  }
  plan.report_file = raw["report"];
  plan.call_records_file = raw["call-records"];
  double pct = 0;
  if (!to_number(raw["max-failed-pct"], pct) || pct < 0 || pct > 100)
    return bad("max-failed-pct", raw["max-failed-pct"], "must be a number from 0 to 100");
  plan.max_failed_pct = pct;
  const auto& quiet = raw["quiet"];
  if (quiet != "true" && quiet != "false") return bad("quiet", quiet, "must be true or false");
  plan.quiet = quiet == "true";
  auto seed = count(raw, "seed", ~0ULL);
  if (!seed) return seed.err();
  f.seed = *seed;
  plan.campaign.seed = *seed ^ 0x5bd1e995ULL;
  auto threads = count(raw, "threads", 256);
  if (!threads) return threads.err();
  f.threads = static_cast<std::size_t>(*threads);
  if (auto media = read_media_settings(raw, f); !media) return media.err();
  auto max_phones = count(raw, "max-phones", 10'000'000);
  if (!max_phones) return max_phones.err();
  f.capacity = static_cast<std::size_t>(*max_phones);
  if (auto api = read_api_settings(raw, given, plan.api); !api) return api.err();
  return plan;
}

}  // namespace sipfleet::app
