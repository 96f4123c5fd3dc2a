// SDP parse and build (RFC 4566). See sdp.hpp for what is modelled and what is tolerated.
#include "sip/sdp.hpp"

#include <array>
#include <charconv>
#include <cstdint>

namespace sipfleet::sip {

namespace {

template <class T>
std::optional<T> to_number(std::string_view s) {
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// A payload type: a decimal number 0-127 (RFC 3551 §3, RFC 4566 §5.14).
std::optional<std::uint8_t> to_payload_type(std::string_view s) {
  auto v = to_number<unsigned>(s);
  if (!v || *v > 127) return std::nullopt;
  return static_cast<std::uint8_t>(*v);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// Splits on runs of spaces (RFC 4566 uses single spaces; real phones sometimes do not).
std::vector<std::string_view> fields(std::string_view s, std::size_t max_fields = SIZE_MAX) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    auto start = s.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    s.remove_prefix(start);
    if (out.size() + 1 == max_fields) {
      out.push_back(s);
      break;
    }
    auto end = s.find(' ');
    out.push_back(s.substr(0, end));
    s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  }
  return out;
}

// c=<nettype> <addrtype> <connection-address> (RFC 4566 §5.7)
result<sdp_connection> parse_connection(std::string_view v) {
  auto f = fields(v);
  if (f.size() != 3) return error{"c= needs nettype, addrtype and address"};
  if (f[0] != "IN") return error{"c= nettype is not IN"};
  if (f[1] != "IP4" && f[1] != "IP6") return error{"c= addrtype is not IP4 or IP6"};
  return sdp_connection{.addrtype = std::string(f[1]), .address = std::string(f[2])};
}

// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (RFC 4566 §5.2)
result<sdp_origin> parse_origin(std::string_view v) {
  auto f = fields(v);
  if (f.size() != 6) return error{"o= needs six fields"};
  auto id = to_number<std::uint64_t>(f[1]);
  if (!id) return error{"o= sess-id is not a number"};
  auto version = to_number<std::uint64_t>(f[2]);
  if (!version) return error{"o= sess-version is not a number"};
  if (f[3] != "IN") return error{"o= nettype is not IN"};
  if (f[4] != "IP4" && f[4] != "IP6") return error{"o= addrtype is not IP4 or IP6"};
  return sdp_origin{.username = std::string(f[0]),
                    .session_id = *id,
                    .session_version = *version,
                    .addrtype = std::string(f[4]),
                    .address = std::string(f[5])};
}

// m=<media> <port>[/<number of ports>] <proto> <fmt> ... (RFC 4566 §5.14)
result<sdp_media> parse_media(std::string_view v) {
  auto f = fields(v);
  if (f.size() < 3) return error{"m= needs media, port and proto"};
  sdp_media m;
  m.media = std::string(f[0]);
  std::string_view port = f[1];
  if (auto slash = port.find('/'); slash != std::string_view::npos) {
    auto count = to_number<std::uint16_t>(port.substr(slash + 1));
    if (!count) return error{"m= number of ports is not a number"};
    m.port_count = *count;
    port = port.substr(0, slash);
  }
  auto p = to_number<std::uint16_t>(port);
  if (!p) return error{"m= port is not a number"};
  m.port = *p;
  m.proto = std::string(f[2]);
  for (std::size_t i = 3; i < f.size(); ++i) {
    if (m.is_rtp() && !to_payload_type(f[i])) return error{"m= payload type is not a number"};
    m.formats.emplace_back(f[i]);
  }
  // RFC 4566 §5.14 requires a format; a rejected stream (port 0) without one is tolerated.
  if (m.formats.empty() && m.port != 0) return error{"m= line has no formats"};
  return m;
}

// a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>] (RFC 4566 §6)
result<sdp_rtpmap> parse_rtpmap(std::string_view v) {
  auto f = fields(v, 2);
  if (f.size() != 2) return error{"malformed a=rtpmap"};
  auto pt = to_payload_type(f[0]);
  if (!pt) return error{"a=rtpmap payload type is not a number"};
  std::string_view rest = trim(f[1]);
  auto slash = rest.find('/');
  if (slash == 0) return error{"malformed a=rtpmap"};
  sdp_rtpmap r{.payload_type = *pt, .encoding = std::string(rest.substr(0, slash))};
  if (slash == std::string_view::npos) {
    // No clock rate, as in RFC 4475 §3.3.14 ("a=rtpmap:31 LPC"): tolerated, the rate taken
    // from the RFC 3551 table for a static payload type, else 0 (unknown).
    auto known = static_payload_type(*pt);
    r.clock_rate = known ? known->clock_rate : 0;
    return r;
  }
  rest.remove_prefix(slash + 1);
  auto slash2 = rest.find('/');
  auto rate = to_number<std::uint32_t>(rest.substr(0, slash2));
  if (!rate || *rate == 0) return error{"a=rtpmap clock rate is not a positive number"};
  r.clock_rate = *rate;
  if (slash2 != std::string_view::npos) r.parameters = std::string(rest.substr(slash2 + 1));
  return r;
}

sdp_attribute make_attribute(std::string_view name, std::optional<std::string_view> value) {
  return {.name = std::string(name),
          .value = value ? std::optional<std::string>(*value) : std::nullopt};
}

// Media-level attributes we model; anything else is kept as an sdp_attribute.
std::optional<error> add_media_attribute(sdp_media& m, std::string_view name,
                                         std::optional<std::string_view> value) {
  if (auto d = parse_sdp_direction(name); d && !value) {
    m.direction = d;
  } else if (name == "rtpmap" && value) {
    auto r = parse_rtpmap(*value);
    if (!r) return r.err();
    m.rtpmaps.push_back(std::move(r.value()));
  } else if (auto f = value ? fields(*value, 2) : std::vector<std::string_view>{};
             name == "fmtp" && !f.empty() && to_payload_type(f[0])) {
    m.fmtps.push_back({.payload_type = *to_payload_type(f[0]),
                       .parameters = f.size() > 1 ? std::string(trim(f[1])) : std::string()});
  } else if ((name == "ptime" || name == "maxptime") && value) {
    auto ms = to_number<std::uint32_t>(trim(*value));
    if (!ms) return error{"a=" + std::string(name) + " is not a number"};
    (name == "ptime" ? m.ptime : m.maxptime) = ms;
  } else {
    m.attributes.push_back(make_attribute(name, value));
  }
  return std::nullopt;
}

void line(std::string& out, char type, std::string_view value) {
  out += type;
  out += '=';
  out += value;
  out += "\r\n";
}

// Writes the kept lines whose type is in `types`, or with `others`, those whose type is not.
void write_lines(std::string& out, const std::vector<sdp_line>& lines, std::string_view types,
                 bool others = false) {
  for (const auto& l : lines) {
    if ((types.find(l.type) != std::string_view::npos) != others) line(out, l.type, l.value);
  }
}

void write_attribute(std::string& out, std::string_view name,
                     std::optional<std::string_view> value = std::nullopt) {
  out += "a=";
  out += name;
  if (value) {
    out += ':';
    out += *value;
  }
  out += "\r\n";
}

std::string connection_text(const sdp_connection& c) {
  return "IN " + c.addrtype + " " + c.address;
}

}  // namespace

std::string_view to_string(sdp_direction d) {
  constexpr std::array<std::string_view, 4> names{"sendrecv", "sendonly", "recvonly", "inactive"};
  const auto i = static_cast<std::size_t>(d);
  return i < names.size() ? names[i] : names[0];
}

std::optional<sdp_direction> parse_sdp_direction(std::string_view text) {
  for (auto d : {sdp_direction::sendrecv, sdp_direction::sendonly, sdp_direction::recvonly,
                 sdp_direction::inactive}) {
    if (text == to_string(d)) return d;
  }
  return std::nullopt;
}

std::optional<sdp_rtpmap> static_payload_type(std::uint8_t pt) {
  // RFC 3551 §6, Tables 4 and 5 (payload types 0-34; 1, 2, 19-24, 27, 29, 30 unassigned).
  struct entry {
    std::uint8_t pt;
    std::string_view name;
    std::uint32_t rate;
    std::string_view channels;
  };
  static constexpr std::array<entry, 24> table{{
      {0, "PCMU", 8000, ""},   {3, "GSM", 8000, ""},    {4, "G723", 8000, ""},
      {5, "DVI4", 8000, ""},   {6, "DVI4", 16000, ""},  {7, "LPC", 8000, ""},
      {8, "PCMA", 8000, ""},   {9, "G722", 8000, ""},   {10, "L16", 44100, "2"},
      {11, "L16", 44100, ""},  {12, "QCELP", 8000, ""}, {13, "CN", 8000, ""},
      {14, "MPA", 90000, ""},  {15, "G728", 8000, ""},  {16, "DVI4", 11025, ""},
      {17, "DVI4", 22050, ""}, {18, "G729", 8000, ""},  {25, "CelB", 90000, ""},
      {26, "JPEG", 90000, ""}, {28, "nv", 90000, ""},   {31, "H261", 90000, ""},
      {32, "MPV", 90000, ""},  {33, "MP2T", 90000, ""}, {34, "H263", 90000, ""},
  }};
  for (const auto& e : table) {
    if (e.pt == pt) {
      return sdp_rtpmap{.payload_type = pt,
                        .encoding = std::string(e.name),
                        .clock_rate = e.rate,
                        .parameters = std::string(e.channels)};
    }
  }
  return std::nullopt;
}

std::vector<std::uint8_t> sdp_media::payload_types() const {
  std::vector<std::uint8_t> out;
  for (const auto& f : formats) {
    if (auto pt = to_payload_type(f)) out.push_back(*pt);
  }
  return out;
}

std::optional<sdp_rtpmap> sdp_media::rtpmap_of(std::uint8_t pt) const {
  for (const auto& r : rtpmaps) {
    if (r.payload_type == pt) return r;
  }
  return static_payload_type(pt);
}

std::optional<std::string_view> sdp_media::fmtp_of(std::uint8_t pt) const {
  for (const auto& f : fmtps) {
    if (f.payload_type == pt) return std::string_view(f.parameters);
  }
  return std::nullopt;
}

sdp_direction sdp_session::direction_of(const sdp_media& m) const {
  return m.direction.value_or(direction.value_or(sdp_direction::sendrecv));
}

const sdp_connection* sdp_session::connection_of(const sdp_media& m) const {
  if (m.connection) return &*m.connection;
  return connection ? &*connection : nullptr;
}

result<sdp_session> parse_sdp(std::string_view text) {
  sdp_session s;
  bool seen_v = false, seen_o = false, seen_s = false, seen_t = false;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view l = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (l.empty()) continue;  // blank lines, e.g. a trailing CRLF CRLF, are tolerated
    if (l.size() < 2 || l[1] != '=') return error{"SDP line is not <type>=<value>"};
    const char type = l[0];
    const std::string_view v = l.substr(2);
    // RFC 4566 §5: v= comes first, then o=.
    if (!seen_v && type != 'v') return error{"SDP does not start with v="};
    sdp_media* m = s.media.empty() ? nullptr : &s.media.back();
    // Only the first s= and t= of the session are modelled; several t= lines are legal
    // (RFC 4566 §5.9) and are kept, like s=/t= lines misplaced inside a media section.
    const bool kept = (type == 's' && (m || seen_s)) || (type == 't' && (m || seen_t));
    switch (kept ? '\0' : type) {
      case 'v':
        if (seen_v) return error{"duplicate v= line"};
        if (v != "0") return error{"v= is not 0"};
        seen_v = true;
        break;
      case 'o': {
        if (seen_o || m) return error{"o= line out of place"};
        auto o = parse_origin(v);
        if (!o) return o.err();
        s.origin = std::move(o.value());
        seen_o = true;
        break;
      }
      case 'c': {
        auto c = parse_connection(v);
        if (!c) return c.err();
        auto& slot = m ? m->connection : s.connection;
        if (!slot) slot = std::move(c.value());  // several (multicast) c= lines: keep the first
        break;
      }
      case 'm': {
        if (!seen_o) return error{"missing o= line"};
        auto media = parse_media(v);
        if (!media) return media.err();
        s.media.push_back(std::move(media.value()));
        break;
      }
      case 'a': {
        auto colon = v.find(':');
        std::string_view name = v.substr(0, colon);
        std::optional<std::string_view> value;
        if (colon != std::string_view::npos) value = v.substr(colon + 1);
        if (name.empty()) return error{"a= line has no attribute name"};
        if (m) {
          if (auto e = add_media_attribute(*m, name, value)) return *e;
        } else if (auto d = parse_sdp_direction(name); d && !value) {
          s.direction = d;
        } else {
          s.attributes.push_back(make_attribute(name, value));
        }
        break;
      }
      case 's':
        s.name = std::string(v);
        seen_s = true;
        break;
      case 't': {
        auto f = fields(v);
        auto start = f.size() == 2 ? to_number<std::uint64_t>(f[0]) : std::nullopt;
        auto stop = f.size() == 2 ? to_number<std::uint64_t>(f[1]) : std::nullopt;
        if (!start || !stop) return error{"t= needs start and stop times"};
        s.start_time = *start;
        s.stop_time = *stop;
        seen_t = true;
        break;
      }
      default:  // kept as written: unknown type letters, repeated s= and t= lines
        (m ? m->other_lines : s.other_lines).push_back({.type = type, .value = std::string(v)});
        break;
    }
  }
  if (!seen_v) return error{"missing v= line"};
  if (!seen_o) return error{"missing o= line"};
  return s;
}

std::string build_sdp(const sdp_session& s) {
  std::string out;
  out.reserve(512);
  line(out, 'v', std::to_string(s.version));
  const auto& o = s.origin;
  line(out, 'o',
       o.username + " " + std::to_string(o.session_id) + " " + std::to_string(o.session_version) +
           " IN " + o.addrtype + " " + o.address);
  line(out, 's', s.name.empty() ? "-" : s.name);  // s= must not be empty (RFC 4566 §5.3)
  write_lines(out, s.other_lines, "iuep");
  if (s.connection) line(out, 'c', connection_text(*s.connection));
  write_lines(out, s.other_lines, "b");
  line(out, 't', std::to_string(s.start_time) + " " + std::to_string(s.stop_time));
  write_lines(out, s.other_lines, "trzk");
  write_lines(out, s.other_lines, "iuepbtrzk", true);
  for (const auto& a : s.attributes) write_attribute(out, a.name, a.value);
  if (s.direction) write_attribute(out, to_string(*s.direction));

  for (const auto& m : s.media) {
    std::string mline = m.media + " " + std::to_string(m.port);
    if (m.port_count != 0) mline += "/" + std::to_string(m.port_count);
    mline += " " + m.proto;
    for (const auto& f : m.formats) mline += " " + f;
    line(out, 'm', mline);
    write_lines(out, m.other_lines, "i");
    if (m.connection) line(out, 'c', connection_text(*m.connection));
    write_lines(out, m.other_lines, "bk");
    write_lines(out, m.other_lines, "ibk", true);
    for (const auto& r : m.rtpmaps) {
      std::string v = std::to_string(r.payload_type) + " " + r.encoding;
      if (r.clock_rate != 0) v += "/" + std::to_string(r.clock_rate);  // 0: none was given
      if (!r.parameters.empty()) v += "/" + r.parameters;
      write_attribute(out, "rtpmap", v);
      if (auto f = m.fmtp_of(r.payload_type)) {
        write_attribute(out, "fmtp", std::to_string(r.payload_type) + " " + std::string(*f));
      }
    }
    for (const auto& f : m.fmtps) {  // fmtp lines of payload types without an rtpmap
      bool written = false;
      for (const auto& r : m.rtpmaps) written = written || r.payload_type == f.payload_type;
      if (!written)
        write_attribute(out, "fmtp", std::to_string(f.payload_type) + " " + f.parameters);
    }
    if (m.ptime) write_attribute(out, "ptime", std::to_string(*m.ptime));
    if (m.maxptime) write_attribute(out, "maxptime", std::to_string(*m.maxptime));
    for (const auto& a : m.attributes) write_attribute(out, a.name, a.value);
    if (m.direction) write_attribute(out, to_string(*m.direction));
  }
  return out;
}

}  // namespace sipfleet::sip
