// The fleet: every simulated phone of this process, as CAF actors, with the transport that
// carries their SIP traffic and the campaign that makes them call. This header is the narrow
// door the command line (and later the API) goes through: no CAF or Asio types here.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/stats.hpp"
#include "actors/transport.hpp"
#include "actors/ua/phone.hpp"
#include "rtp/engine.hpp"
#include "sip/result.hpp"

namespace sipfleet::actors {

struct fleet_options {
  ua::phone_config prototype{};          // proxy, domain, transport, expires, behaviour, timers
  std::vector<std::string> users{};      // one phone per user
  std::string password_template{};       // "{user}" is replaced by the user
  transport_options transport{};
  double register_rate = 0;              // registrations started per second; 0: all at once
  std::size_t shard_size = 1000;         // phones per shard supervisor
  std::size_t threads = 0;               // CAF scheduler threads; 0: cores less one (the I/O thread)
  std::uint64_t seed = 1;
  bool media = true;                     // every answered call streams RTP both ways (--media)
  rtp::engine_options media_engine{};    // --rtp-ports, --audio, --media-threads
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
};

enum class call_action : std::uint8_t { answer, hangup, hold, resume };

struct campaign_progress {
  std::uint64_t started = 0;
  std::uint64_t finished = 0;
  std::uint64_t no_idle_phone = 0;  // pacing slots skipped: no registered idle caller/callee
  bool placing = false;             // still placing calls
  bool done = false;                // placing stopped and every placed call ended
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
  virtual void start_campaign(const campaign_options& options) = 0;
  virtual void stop_campaign() = 0;  // stop placing calls; calls in progress go on
  virtual campaign_progress progress() const = 0;
  // Hangs up every call and unregisters every phone, paced at register_rate like the start;
  // returns when all are done or on timeout (false then).
  virtual bool shutdown(std::chrono::milliseconds timeout) = 0;

  // One call from phone `user` to `target`, for tests and the API: blocks until the call ends
  // or the timeout passes.
  virtual sip::result<ua::call_record> call_and_wait(const std::string& user, const std::string& target,
                                                     std::chrono::milliseconds hold,
                                                     std::chrono::milliseconds timeout) = 0;

  // Starts a call and returns its Call-ID at once.
  virtual sip::result<std::string> dial(const std::string& user, const std::string& target,
                                        std::chrono::milliseconds hold) = 0;
  // Answer, hang up, hold or resume a call of phone `user`.
  virtual sip::result<bool> act(const std::string& user, const std::string& call_id, call_action action) = 0;

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
