// The fleet: every simulated phone of this process, as CAF actors, with the transport that
// carries their SIP traffic and the campaign that makes them call. This header is the narrow
// door the command line (and later the API) goes through: no CAF or Asio types here.
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/stats.hpp"
#include "actors/transport.hpp"
#include "actors/ua/phone.hpp"
#include "rtp/engine.hpp"
#include "sip/result.hpp"

namespace sipfleet::actors {

struct fleet_options {
  ua::phone_config prototype{};          // proxy, domain, transport, expires, behaviour, timers
  std::vector<std::string> users{};      // one phone per user, made at once
  std::size_t capacity = 0;              // phones made now and later (add_phones); 0: users.size()
  std::string password_template{};       // "{user}" is replaced by the user
  transport_options transport{};
  double register_rate = 0;              // registrations started per second; 0: all at once
  std::size_t shard_size = 1000;         // phones per shard supervisor
  std::size_t threads = 0;               // CAF scheduler threads; 0: cores less one (the I/O thread)
  std::uint64_t seed = 1;
  bool media = true;                     // every answered call streams RTP both ways (--media)
  rtp::engine_options media_engine{};    // --rtp-ports, --audio, --media-threads
  bool track_calls = true;               // keep the call table (find_call, list_calls: the API)
};

struct campaign_options {
  std::uint64_t total = 0;               // calls to place
  double rate = 10;                      // calls started per second
  std::size_t max_concurrent = 100;
  std::chrono::milliseconds hold{0};     // how long an answered call stays up
  std::chrono::milliseconds duration{0}; // stop placing calls after this; 0: no limit
  std::uint64_t seed = 1;
  // Users to call; empty: the fleet's own phones. Others (e.g. a SIPp UAS or a PBX) are called
  // through the proxy like any user, and are not tracked as busy.
  std::vector<std::string> callees{};
  // The fleet's users that place the calls, and those called; empty: every phone (at the
  // campaign's start).
  std::vector<std::string> callers{};
  std::vector<std::string> fleet_callees{};
};

enum class call_action : std::uint8_t { answer, hangup, hold, resume, dtmf, transfer };

struct campaign_progress {
  std::uint64_t started = 0;
  std::uint64_t finished = 0;
  std::uint64_t no_idle_phone = 0;  // pacing slots skipped: no registered idle caller/callee
  bool placing = false;             // still placing calls
  bool done = false;                // placing stopped and every placed call ended
};

// More phones for a running fleet (the API's POST /v1/phones): the prototype's settings but
// for those given here.
struct phone_group {
  std::vector<std::string> users{};
  std::string domain{};                      // empty: the prototype's
  std::optional<std::string> password_template{};  // none: the fleet's
  std::optional<ua::endpoint> proxy{};       // none: the prototype's
  bool register_now = true;
};

// What a phone says of itself (the API's GET /v1/phones/{user}).
struct phone_info {
  std::string user;
  std::string domain;
  ua::registration_state registration = ua::registration_state::unregistered;
  std::uint32_t expires = 0;
  ua::behaviour behaviour{};
  ua::phone_counters counters{};
  std::vector<ua::call_record> calls;
};

// A line of the phone list, read without asking the phone.
struct phone_brief {
  std::string user;
  ua::registration_state registration = ua::registration_state::unregistered;
  std::size_t active_calls = 0;
};

// What a phone did, as it happens (the API's event stream). Called on the thread that runs
// the phone: the listener must be quick and must not call back into the fleet.
struct fleet_event {
  ua::event_kind kind = ua::event_kind::registered;
  std::string_view user;
  int code = 0;
  std::string_view reason;
  const ua::call_record* record = nullptr;  // call events
};

// One SIP call as the fleet knows it: a leg per phone of the fleet taking part (two when both
// ends are ours; they share the Call-ID), the caller's first.
struct call_legs {
  std::string call_id;
  std::vector<std::pair<std::string, ua::call_record>> legs;  // (user, record)
};

class fleet {
 public:
  // Binds the transport and spawns the phones (not yet registering). Errors name the option
  // to fix (e.g. an address that cannot be bound).
  static sip::result<std::unique_ptr<fleet>> create(fleet_options options, run_stats& stats);
  virtual ~fleet() = default;

  virtual std::size_t size() const = 0;
  virtual ua::endpoint local_endpoint(std::size_t socket = 0) const = 0;

  // Starts registering every phone, paced at register_rate.
  virtual void register_all() = 0;
  // Starts a campaign (several may run at once); returns its id ("1", "2", ...). An error
  // names a caller or callee the fleet does not hold.
  virtual sip::result<std::string> start_campaign(const campaign_options& options) = 0;
  virtual void stop_campaign() = 0;  // stop placing calls (every campaign); calls in progress go on
  virtual sip::result<bool> stop_campaign(const std::string& id) = 0;
  virtual campaign_progress progress() const = 0;  // the latest campaign's
  virtual sip::result<campaign_progress> progress(const std::string& id) const = 0;
  // The campaign's own figures (its calls, caller's side), in the run report's shape.
  virtual const run_stats* campaign_stats(const std::string& id) const = 0;

  // Phones made while running (up to the capacity). Errors: a user that exists ("exists: ..."),
  // no room left ("full: ...").
  virtual sip::result<std::size_t> add_phones(const phone_group& group) = 0;
  // Hangs up, unregisters (waiting up to `timeout`) and removes the phone.
  virtual sip::result<bool> remove_phone(const std::string& user, std::chrono::milliseconds timeout) = 0;
  virtual bool has_phone(const std::string& user) const = 0;
  // Phones in user order with their registration state; `total` before paging.
  virtual std::vector<phone_brief> list_phones(std::optional<ua::registration_state> state, std::size_t offset,
                                               std::size_t limit, std::size_t& total) const = 0;
  virtual sip::result<phone_info> phone(const std::string& user) = 0;
  // Changes how the phone treats incoming calls; returns the new behaviour.
  virtual sip::result<ua::behaviour> update_behaviour(const std::string& user,
                                                      std::function<void(ua::behaviour&)> edit) = 0;
  virtual sip::result<bool> register_phone(const std::string& user) = 0;
  virtual sip::result<bool> unregister_phone(const std::string& user) = 0;

  // Calls in progress and the last ended ones (up to 10,000), by Call-ID.
  virtual std::optional<call_legs> find_call(const std::string& call_id) const = 0;
  virtual std::vector<call_legs> list_calls() const = 0;
  virtual void set_event_listener(std::function<void(const fleet_event&)> listener) = 0;
  // Hangs up every call and unregisters every phone, paced at register_rate like the start;
  // returns when all are done or on timeout (false then).
  virtual bool shutdown(std::chrono::milliseconds timeout) = 0;

  // One call from phone `user` to `target`, for tests and the API: blocks until the call ends
  // or the timeout passes.
  virtual sip::result<ua::call_record> call_and_wait(const std::string& user, const std::string& target,
                                                     std::chrono::milliseconds hold,
                                                     std::chrono::milliseconds timeout) = 0;

  // Starts a call and returns its Call-ID at once.
  // dtmf: digits sent once the call is answered.
  virtual sip::result<std::string> dial(const std::string& user, const std::string& target,
                                        std::chrono::milliseconds hold, const std::string& dtmf = {}) = 0;
  // Answer, hang up, hold, resume, send DTMF on or transfer a call of phone `user`; `arg` is the
  // digits or the transfer target.
  virtual sip::result<bool> act(const std::string& user, const std::string& call_id, call_action action,
                                const std::string& arg = {}) = 0;

  // The calls of phone `user` in progress.
  virtual sip::result<std::vector<ua::call_record>> current_calls(const std::string& user) = 0;

  // Fault injection (tests, chaos runs): phone `user`'s actor fails as if its code had thrown.
  // Its shard restarts it and it registers again; the other phones are not touched.
  virtual sip::result<bool> crash_phone(const std::string& user) = 0;

  // Every call that ended so far (both sides), in the order they ended.
  virtual std::vector<ua::call_record> call_records() const = 0;

  // The media engine's live figures; none with --media off.
  virtual std::optional<rtp::engine_totals> media_totals() const = 0;
};

}  // namespace sipfleet::actors
