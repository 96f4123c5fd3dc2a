// The media engine: moves every call's RTP and RTCP packets without an actor message per
// packet. The phone actor opens a stream when it offers or answers SDP, starts it with what
// offer/answer agreed, changes it on hold/resume, sends DTMF on it and closes it at the end of
// the call, getting the stream's final statistics back. Everything in between is here.
//
// Threads: `threads` workers (default: one per core), each with its own io_uring and pinned
// to its own CPU. A stream lives on one worker, chosen round-robin at open. A worker's loop:
//   1. collect completions: received RTP/RTCP (statistics, DTMF detection, symmetric RTP),
//      sends done;
//   2. apply the control threads' commands (start, change, digits, close);
//   3. build every packet due (a binary heap of deadlines) and queue its send, and a read of
//      the stream's RTP socket (streams that do not send have their own reads, one packet
//      time apart): no receive waits on an RTP socket, which would cost every datagram a
//      wake-up; the kernel's arrival timestamp keeps jitter exact;
//   4. submit all queued sends and reads in one system call (they complete in it) and sleep
//      until the next deadline plus the pacing window (rtp/engine_worker.cpp).
// A socket per call (the RTP port and the RTCP port above it, RFC 3550 §11) means sendmmsg
// and recvmmsg, which batch on one socket, would batch nothing; io_uring batches operations on
// many sockets in one io_uring_enter (bench/bench_udp_rate: as cheap as sendmmsg on one socket).
//
// Pacing: a worker wakes at most once per `pacing_tick` and sends, in one batch, every packet
// due before the wake-up plus half a tick: each packet leaves within half a tick of its due
// time, early or late, plus whatever delays the thread. A wake-up costs more than a packet on
// a VM (the 2-core one here: 300 calls took 35% of a core per worker with 0.5 ms wake-ups,
// 12% with 2 ms), so the tick bounds them. The send time error |send time - due time| goes
// into a histogram (totals(), "lateness").
//
// Rules carried out here: RFC 3550 §5 (header, SSRC, sequence and timestamp), §6 (RTCP SR/RR
// with SDES every `rtcp_interval`, RTT from LSR/DLSR, §6.4.1), A.1/A.3/A.8 through
// receiver_stats; RFC 4733 §2.5 (events sent with three end packets, detected once);
// RFC 3264 §5.1/§8.4 (hold: no RTP sent while not sending; RTCP goes on); symmetric RTP
// (RFC 4961): packets are sent to where the peer's packets come from once they arrive.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rtp/stream_summary.hpp"

namespace sipfleet::rtp {

enum class codec : std::uint8_t { pcmu, pcma };

struct engine_options {
  unsigned threads = 0;                          // 0: one per core; at most 64
  std::uint16_t first_port = 16384;              // --rtp-ports A-B
  std::uint16_t last_port = 32767;
  std::vector<std::int16_t> audio{};             // 8 kHz linear samples, looped; empty: speech-like
  std::chrono::milliseconds rtcp_interval{5000};
  std::chrono::microseconds pacing_tick{1000};
  std::chrono::milliseconds port_rest{2000};     // a closed call's port rests this long
  // The workers' nice value (--media-nice). Below the process's own it needs root or
  // CAP_SYS_NICE; refused, a worker keeps the process's. The worker that wakes on time beats
  // the other threads on its CPU (the SIP I/O thread, CAF's workers, a local proxy) to it.
  int worker_nice = 0;
  // Real-time scheduling for the workers (--media-rt-priority): SCHED_FIFO at this priority
  // (1..99), 0 for none. Needs root, CAP_SYS_NICE or RLIMIT_RTPRIO; refused, a worker keeps
  // normal scheduling. A worker that falls behind for 200 ms without a sleep (more streams than
  // it can carry, or a stall of the VM) goes back to normal scheduling, so that it cannot
  // starve SIP, and returns to real time after keeping up for 1 s (worker_thread.hpp).
  int worker_rt_priority = 0;
};

// What offer/answer agreed for a call's audio stream (sip::negotiated_media, as the engine
// needs it).
struct stream_params {
  std::string remote_address{};  // c= of the peer ("127.0.0.1", "::1")
  std::uint16_t remote_port = 0;  // m= port of the peer; 0: no stream
  rtp::codec codec = rtp::codec::pcmu;
  std::uint8_t payload_type = 0;
  std::optional<std::uint8_t> event_payload_type{};  // RFC 4733; none: DTMF not agreed
  std::uint32_t ptime_ms = 20;
  bool send = true;     // the direction allows us to send (not on hold)
  bool receive = true;
};


// Engine-wide figures, live: for the status line, the report and the benchmark.
struct engine_totals {
  std::uint64_t streams_open = 0;
  std::uint64_t streams_sending = 0;
  std::uint64_t packets_sent = 0;
  std::uint64_t packets_received = 0;
  std::uint64_t send_errors = 0;
  std::uint64_t receive_errors = 0;   // receives that ended with an error (not restarted)
  std::uint64_t malformed = 0;
  std::uint64_t overruns = 0;         // a packet due while the previous send had not completed
  std::uint64_t open_failures = 0;    // no free port, or a socket error
  int worker_nice = 0;                // the nice value the workers run at (read back)
  unsigned workers = 0;               // media worker threads
  unsigned rt_workers = 0;            // of them, those at SCHED_FIFO now
  int worker_rt_priority = 0;         // the highest SCHED_FIFO priority one runs at now, 0: none
  std::uint64_t rt_demotions = 0;     // times a worker left SCHED_FIFO, behind for 200 ms
  std::uint64_t late_samples = 0;     // packets in the lateness histogram
  double late_p50_ms = 0;
  double late_p99_ms = 0;
  double late_max_ms = 0;
  // The lateness histogram itself (late_bucket_ms wide buckets, the last one open-ended):
  // the difference of two snapshots gives the pacing of the time between them.
  std::vector<std::uint64_t> late_counts{};
};

inline constexpr double late_bucket_ms = 0.025;
// The q-quantile (0..1) of a lateness histogram, in ms (a bucket's upper edge); 0 when empty.
double late_percentile(const std::vector<std::uint64_t>& counts, double q);

struct stream_handle {
  std::uint32_t id = 0;   // worker << 24 | slot
  std::uint32_t generation = 0;  // 0: no stream
  explicit operator bool() const { return generation != 0; }
};

class engine {
 public:
  // Starts the workers. Throws std::runtime_error with a clear reason when io_uring cannot
  // be set up (an old kernel, or io_uring disabled by sysctl or seccomp).
  explicit engine(engine_options options);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // Binds a free RTP port (and RTCP port + 1) of the range on `local_address`. The stream
  // receives from now on but sends nothing until start(). No handle when the range is used up
  // or the address cannot be bound; `error` says why.
  // `tag` is the caller's name for the stream, handed back with each digit heard.
  stream_handle open(std::string_view local_address, std::uint16_t& port, std::string& error,
                     std::uint64_t tag = 0);
  // Told of each RFC 4733 digit as it is heard (on a worker thread: be quick), with the
  // stream's tag. The digits are in the stream's summary at close too.
  void set_digit_listener(std::function<void(std::uint64_t, char)> listener);
  // Starts the stream, or changes it (hold, resume, a new remote after a re-INVITE).
  void start(stream_handle h, const stream_params& p);
  // Queues RFC 4733 events for the digits (0-9 * # A-D; others are skipped), 100 ms each with
  // 100 ms between them. Nothing happens when no telephone-event payload type was agreed.
  void send_digits(stream_handle h, std::string_view digits);
  // Stops the stream, returns its figures; its port rests, then is free again.
  stream_summary close(stream_handle h);

  engine_totals totals() const;
  unsigned threads() const;
  std::size_t port_capacity() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sipfleet::rtp
