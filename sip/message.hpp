// A parsed SIP message (RFC 3261 §7): one owned buffer plus string_views into it. The headers
// needed to match transactions and dialogs (top Via, From, To, Call-ID, CSeq, Content-Length)
// are decoded at once; every header is also kept, in order, in an index by header_id, with
// comma-separated multi-value headers split into one entry per value.
//
// parse() never throws on bad input: a malformed message yields an error whose reason fits in
// a 400 reason phrase.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sip/fields.hpp"
#include "sip/header_id.hpp"
#include "sip/method.hpp"
#include "sip/result.hpp"
#include "sip/uri.hpp"

namespace sipfleet::sip {

// How the bytes arrived (RFC 3261 §18.3): on a datagram transport Content-Length may be absent
// (the body runs to the end) and bytes past it are ignored; on a stream transport it is required.
enum class framing : std::uint8_t { datagram, stream };

struct parse_options {
  sip::framing framing = sip::framing::datagram;
  std::size_t max_size = 65535;  // larger messages are refused
};

struct header_field {
  header_id id;
  std::string_view name;   // as written
  std::string_view value;  // trimmed; one value of a multi-value header
};

class message {
 public:
  static result<message> parse(std::string_view bytes, const parse_options& options = {});

  message(message&&) noexcept = default;
  message& operator=(message&&) noexcept = default;
  message(const message&) = delete;
  message& operator=(const message&) = delete;
  // A deep copy (parses the same bytes again).
  message clone() const;

  bool is_request() const { return is_request_; }
  bool is_response() const { return !is_request_; }

  // Requests: the method of the request line. Responses: the method of CSeq.
  sip::method method() const { return method_; }
  std::string_view method_text() const { return method_text_; }
  const sip::uri& request_uri() const { return request_uri_; }
  int status_code() const { return status_code_; }  // 0 for requests
  std::string_view reason() const { return reason_; }

  const sip::via& top_via() const { return top_via_; }
  const name_addr& from() const { return from_; }
  const name_addr& to() const { return to_; }
  std::string_view call_id() const { return call_id_; }
  const sip::cseq& cseq() const { return cseq_; }
  std::optional<std::uint32_t> content_length() const { return content_length_; }
  std::optional<std::uint32_t> max_forwards() const { return max_forwards_; }
  std::string_view content_type() const { return header(header_id::content_type); }
  std::string_view body() const { return body_; }

  // Every header value in order (multi-value headers already split).
  std::span<const header_field> headers() const { return headers_; }
  // The first value of a header, or an empty view.
  std::string_view header(header_id id) const;
  // The first value of a header by name (case-insensitive; compact forms match their header).
  std::string_view header(std::string_view name) const;
  std::size_t count(header_id id) const;
  template <class F>
  void for_each(header_id id, F&& f) const {
    for (const auto& h : headers_)
      if (h.id == id) f(h.value);
  }

  // The message as received (line folds replaced by spaces), and the byte count it used:
  // on a stream, or with extra bytes after a datagram's Content-Length, this is less than the
  // input size.
  std::string_view raw() const { return {buf_.get(), size_}; }

 private:
  message() = default;
  friend class parser;

  std::unique_ptr<char[]> buf_;
  std::size_t size_ = 0;
  bool is_request_ = true;
  sip::method method_ = sip::method::unknown;
  std::string_view method_text_;
  sip::uri request_uri_;
  int status_code_ = 0;
  std::string_view reason_;
  sip::via top_via_;
  name_addr from_;
  name_addr to_;
  std::string_view call_id_;
  sip::cseq cseq_;
  std::optional<std::uint32_t> content_length_;
  std::optional<std::uint32_t> max_forwards_;
  std::string_view body_;
  std::vector<header_field> headers_;
};

// Stream framing (RFC 3261 §18.3): how many bytes at the front of `buffer` make one whole
// message. 0 means more bytes are needed; an error means the stream is unrecoverable
// (e.g. no or bad Content-Length) and the connection should be closed.
result<std::size_t> stream_frame_length(std::string_view buffer, std::size_t max_size = 65535);

}  // namespace sipfleet::sip
