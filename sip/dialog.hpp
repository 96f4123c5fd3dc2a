// Dialogs (RFC 3261 §12): the state two UAs share for a call, and the requests built inside it.
//
// A dialog is created by the UAC from a 1xx-with-To-tag (early) or 2xx (confirmed) response to
// its INVITE (§12.1.2), or by the UAS from an INVITE it answers with a To tag (§12.1.1). It then
// builds the in-dialog requests (§12.2.1.1: Request-URI and Route from the remote target and the
// route set, CSeq counting up), the ACK for a 2xx (§13.2.2.4), and checks incoming requests
// (§12.2.2: CSeq order, target refresh).
//
// Sans-I/O like the rest of sip/: the dialog never sends anything; it returns bytes and verdicts.
// Finding the dialog an incoming message belongs to is the caller's job (a map keyed by
// dialog_id, looked up with incoming_dialog_id); a request for no known dialog is answered 481.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sip/builder.hpp"
#include "sip/message.hpp"
#include "sip/result.hpp"

namespace sipfleet::sip {

// §12: Call-ID, local tag and remote tag identify a dialog, each compared as is.
struct dialog_id_view {
  std::string_view call_id{};
  std::string_view local_tag{};
  std::string_view remote_tag{};
  friend bool operator==(const dialog_id_view&, const dialog_id_view&) = default;
};

// The same, owning: a map key.
struct dialog_id {
  std::string call_id{};
  std::string local_tag{};
  std::string remote_tag{};
  dialog_id_view view() const { return {call_id, local_tag, remote_tag}; }
  friend bool operator==(const dialog_id&, const dialog_id&) = default;
};

// Hashes dialog_id and dialog_id_view alike, so an unordered_map<dialog_id, T, dialog_id_hash,
// dialog_id_equal> can be searched with the views incoming_dialog_id returns (no allocation).
struct dialog_id_hash {
  using is_transparent = void;
  std::size_t operator()(const dialog_id_view& id) const;
  std::size_t operator()(const dialog_id& id) const { return (*this)(id.view()); }
};
struct dialog_id_equal {
  using is_transparent = void;
  static dialog_id_view v(const dialog_id& id) { return id.view(); }
  static dialog_id_view v(const dialog_id_view& id) { return id; }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return v(a) == v(b);
  }
};

// The id of the dialog an incoming message belongs to, from our side: for a request we
// receive (we are its UAS) local = To tag, remote = From tag (§12.2.2); for a response we
// receive (we sent the request) local = From tag, remote = To tag (§12.2.1.2).
dialog_id_view incoming_dialog_id(const message& m);

// Target refresh requests (§12.2, RFC 3311, RFC 6665 §4.1): they may change the remote target.
bool is_target_refresh(method m);

enum class dialog_state : std::uint8_t { early, confirmed, terminated };

// What to do with a request received inside a dialog (§12.2.2).
enum class request_verdict : std::uint8_t {
  accept,        // go on; the remote CSeq (and target, for a refresh) are updated
  out_of_order,  // CSeq lower than the remote CSeq: answer 500 (§12.2.2)
};

// A request inside the dialog (§12.2.1.1). Request-URI, From, To, Call-ID, CSeq and Route
// come from the dialog.
struct in_dialog_request {
  sip::method method = sip::method::bye;
  std::string_view method_text{};  // for extension methods (method::unknown) only
  via_spec via{};                  // with a new branch
  std::string_view contact{};      // SHOULD be present in target refresh requests (§12.2.1.1)
  unsigned max_forwards = 70;
  std::span<const extra_header> headers{};
  std::string_view content_type{};
  std::string_view body{};
};

// The ACK for a 2xx to an INVITE (§13.2.2.4).
struct dialog_ack {
  via_spec via{};  // with a new branch: the ACK for a 2xx is its own transaction
  // The CSeq number of the INVITE being acknowledged; default: the last INVITE of the dialog.
  std::optional<std::uint32_t> invite_cseq{};
  std::span<const extra_header> headers{};
  std::string_view content_type{};  // an ACK may carry the answer when the 2xx had the offer
  std::string_view body{};
};

class dialog {
 public:
  // §12.1.2: the UAC's dialog from its request (the INVITE it sent, as parsed) and a response
  // to it: a 101-199 with a To tag gives an early dialog, a 2xx a confirmed one.
  static result<dialog> from_uac(const message& request, const message& response);

  // §12.1.1: the UAS's dialog from a request it answers with `status` (101-199: early; 2xx:
  // confirmed) and the To tag it put in that response.
  static result<dialog> from_uas(const message& request, std::string_view local_tag, int status);

  dialog_id_view id() const { return {call_id_, local_tag_, remote_tag_}; }
  dialog_id owned_id() const { return {call_id_, local_tag_, remote_tag_}; }
  // Whether an incoming message belongs to this dialog (see incoming_dialog_id).
  bool matches(const message& m) const { return incoming_dialog_id(m) == id(); }

  // A response to a request we sent in this dialog (§12.2.1.2, §13.2.2.4): a 2xx confirms an
  // early dialog (and, for the UAC, recomputes the route set); a 2xx to a target refresh
  // replaces the remote target; a non-2xx final to the INVITE that made an early dialog, or a
  // 481/408 to any request, terminates it. Returns the new state.
  dialog_state on_response(const message& response);

  // We (the UAS) sent a final or provisional response to the dialog-creating request: a 2xx
  // confirms the dialog, a final non-2xx terminates an early one (§12.1.1, §13.3.1.4).
  dialog_state on_response_sent(int status);

  // A request received in this dialog (§12.2.2): checks and updates the remote CSeq and, for a
  // target refresh with a Contact, the remote target. ACK and CANCEL are not ordered (an ACK
  // carries its INVITE's number and may arrive after a later request).
  request_verdict on_request(const message& request);

  // §12.2.1.1: a request in the dialog (BYE, re-INVITE, REFER, INFO, NOTIFY, UPDATE...). The
  // local CSeq is incremented first (not for ACK or CANCEL). write_request appends to `out`.
  std::string build_request(const in_dialog_request& r);
  void write_request(std::string& out, const in_dialog_request& r);

  // §13.2.2.4: the ACK for a 2xx: built like an in-dialog request, with the INVITE's CSeq
  // number and method ACK; the local CSeq does not move.
  std::string build_ack(const dialog_ack& a) const;

  void terminate() { state_ = dialog_state::terminated; }

  std::string_view call_id() const { return call_id_; }
  std::string_view local_tag() const { return local_tag_; }
  std::string_view remote_tag() const { return remote_tag_; }
  std::string_view local_uri() const { return local_uri_; }
  std::string_view remote_uri() const { return remote_uri_; }
  // Empty until a number is used: a UAS dialog starts without one (§12.1.1).
  std::optional<std::uint32_t> local_cseq() const { return local_cseq_; }
  std::optional<std::uint32_t> remote_cseq() const { return remote_cseq_; }
  std::string_view remote_target() const { return remote_target_; }
  // Route values (name-addrs as written), in the order requests carry them.
  std::span<const std::string> route_set() const { return route_set_; }
  bool secure() const { return secure_; }
  dialog_state state() const { return state_; }
  bool is_uac() const { return is_uac_; }

 private:
  dialog() = default;
  void set_route_set(const message& m, bool reverse);
  void set_remote_target(const message& m);
  // Fills in Request-URI, From, To, Call-ID and Route (§12.2.1.1) and writes the request.
  void write(std::string& out, request_options o) const;

  std::string call_id_;
  std::string local_tag_;
  std::string remote_tag_;
  std::string local_uri_;
  std::string remote_uri_;
  std::string local_address_;   // for From: "display" <local_uri>
  std::string remote_address_;  // for To
  std::optional<std::uint32_t> local_cseq_;
  std::optional<std::uint32_t> remote_cseq_;
  std::optional<std::uint32_t> invite_cseq_;  // the last INVITE we sent, for its ACK
  std::string remote_target_;
  std::vector<std::string> route_set_;
  bool loose_route_ = true;      // the route set is empty or its first URI has ;lr
  std::string first_route_uri_;  // for strict routing: the next hop as a Request-URI
  bool secure_ = false;
  bool is_uac_ = true;
  dialog_state state_ = dialog_state::early;
};

}  // namespace sipfleet::sip
