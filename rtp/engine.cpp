// The media engine (see engine.hpp): workers with an io_uring each, moving RTP/RTCP for many
// streams per system call.
#include "rtp/engine.hpp"

#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <liburing.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "rtp/audio.hpp"
#include "rtp/engine_stream.hpp"
#include "rtp/g711.hpp"
#include "rtp/port_pool.hpp"
#include "rtp/rtcp.hpp"
#include "rtp/worker_thread.hpp"

namespace sipfleet::rtp {

using namespace detail;
using slot = stream_slot;

namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::nanoseconds;

// Receive buffers: one ring of them per worker, shared by all its sockets (io_uring provided
// buffers). Each holds io_uring_recvmsg_out, the source address, and the datagram.
constexpr std::size_t recv_size = 2048;
constexpr unsigned recv_buffers = 4096;  // a power of two
constexpr int recv_group = 0;
constexpr unsigned ring_entries = 4096;

// A completion's user_data: what the operation was, on which slot, for which stream.
enum op : std::uint8_t { op_rtp_recv = 1, op_rtcp_recv, op_rtp_send, op_rtcp_send, op_cancel, op_wake };
std::uint64_t tag(op o, std::uint32_t slot, std::uint32_t gen) {
  return (std::uint64_t{o} << 56) | (std::uint64_t{slot & 0xFFFFFFu} << 32) | gen;
}


struct deadline {
  clock::time_point due;
  std::uint32_t slot;
  std::uint32_t gen;
  std::uint32_t sched;  // for RTP; RTCP entries use sched = UINT32_MAX
  bool operator>(const deadline& o) const { return due > o.due; }
};

// Lateness in 25 µs buckets up to 50 ms, and one for the rest.
struct lateness_histogram {
  static constexpr std::size_t buckets = 2001;
  static constexpr double bucket_ms = late_bucket_ms;
  std::vector<std::uint64_t> counts = std::vector<std::uint64_t>(buckets, 0);
  std::uint64_t samples = 0;
  double max_ms = 0;
  void add(double ms) {
    const auto b = ms <= 0 ? std::size_t{0} : std::min(buckets - 1, static_cast<std::size_t>(ms / bucket_ms));
    ++counts[b];
    ++samples;
    max_ms = std::max(max_ms, ms);
  }
};

}  // namespace

double late_percentile(const std::vector<std::uint64_t>& counts, double q) {
  std::uint64_t samples = 0;
  for (auto c : counts) samples += c;
  if (samples == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(samples)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    seen += counts[i];
    if (seen >= rank) return static_cast<double>(i + 1) * lateness_histogram::bucket_ms;
  }
  return static_cast<double>(counts.size()) * lateness_histogram::bucket_ms;
}

class worker {
 public:
  worker(unsigned index, const engine_options& options, const shared_audio& audio,
         std::function<void(std::uint16_t)> release_port, std::function<void(std::uint64_t, char)> heard)
      : index_(index), options_(options), audio_(audio), release_port_(std::move(release_port)),
        heard_(std::move(heard)) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
    if (wake_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    std::random_device rd;
    rng_.seed((static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ index);
    // The ring is made by the thread that uses it: a single-issuer ring whose completions'
    // work runs when that thread asks for completions (DEFER_TASKRUN), not by interrupting it.
    std::promise<int> ready;
    auto ready_f = ready.get_future();
    thread_ = std::thread([this, &ready] {
      pin_to_own_cpu(index_);
      // Its sleeps end within 10 us of the deadline, not the default 50 (timer slack).
      (void)prctl(PR_SET_TIMERSLACK, 10'000UL, 0UL, 0UL, 0UL);
      scheduling_.apply();
      io_uring_params p{};
      p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
      p.cq_entries = ring_entries * 8;
      int rc = io_uring_queue_init_params(ring_entries, &ring_, &p);
      if (rc == -EINVAL) {  // a kernel older than 6.1: without those two
        p = {};
        p.flags = IORING_SETUP_CQSIZE;
        p.cq_entries = ring_entries * 8;
        rc = io_uring_queue_init_params(ring_entries, &ring_, &p);
      }
      if (rc == 0 && !setup_buffers()) {
        io_uring_queue_exit(&ring_);
        rc = -ENOBUFS;
      }
      ready.set_value(rc);
      if (rc == 0) run();
    });
    if (const int rc = ready_f.get(); rc != 0) {
      thread_.join();
      ::close(wake_fd_);
      throw std::runtime_error(std::string("io_uring_queue_init: ") + std::strerror(-rc) +
                               " (the media engine needs io_uring with multishot receives: Linux 6.0 or later, not disabled "
                               "by kernel.io_uring_disabled or seccomp; or run with --media off)");
    }
  }

  ~worker() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake();
    thread_.join();
    for (auto& s : slots_) {
      if (s->rtp_fd >= 0) ::close(s->rtp_fd);
      if (s->rtcp_fd >= 0) ::close(s->rtcp_fd);
    }
    io_uring_queue_exit(&ring_);
    ::munmap(buf_ring_, sizeof(io_uring_buf) * recv_buffers);
    if (buffers_ != nullptr) ::munmap(buffers_, buffers_bytes);
    ::close(wake_fd_);
  }

  // ---- control side (any thread) ----
  stream_handle open(int rtp_fd, int rtcp_fd, std::uint16_t port, std::uint64_t tag) {
    // The slot is made, and the old one freed, outside the lock: the worker takes the lock
    // for every batch, and malloc may wait for its own lock (a heap trim, say).
    auto fresh = std::make_unique<slot>();
    fresh->in_use = true;
    fresh->fds_closed = false;
    fresh->rtp_fd = rtp_fd;
    fresh->rtcp_fd = rtcp_fd;
    fresh->port = port;
    fresh->tag = tag;
    fresh->epoch = clock::now();
    std::unique_ptr<slot> old;
    std::lock_guard lock(mutex_);
    std::uint32_t i;
    if (!free_.empty()) {
      i = free_.back();
      free_.pop_back();
    } else {
      i = static_cast<std::uint32_t>(slots_.size());
      slots_.push_back(nullptr);
    }
    const std::uint32_t previous = slots_[i] ? slots_[i]->gen : 0;
    const std::uint32_t gen = previous + 1 == 0 ? 1 : previous + 1;
    old = std::move(slots_[i]);  // a free slot has nothing in the ring
    slots_[i] = std::move(fresh);
    slot& s = *slots_[i];
    s.gen = gen;
    s.ssrc = static_cast<std::uint32_t>(rng_());
    s.audio_pos = static_cast<std::size_t>(rng_() % std::max<std::size_t>(1, audio_.pcmu.size()));
    commands_.push_back(i);
    ++open_;
    wake();
    return {(index_ << 24) | i, gen};
  }

  void start(std::uint32_t i, std::uint32_t gen, const stream_params& p) {
    std::lock_guard lock(mutex_);
    slot* s = find(i, gen);
    if (s == nullptr) return;
    const bool was_sending = s->started && s->params.send && s->params.remote_port != 0;
    const bool remote_changed = !s->started || p.remote_address != s->params.remote_address ||
                                p.remote_port != s->params.remote_port;
    if (!p.event_payload_type) {  // telephone-event no longer agreed: drop what was queued
      s->event_packets.clear();
      s->event_at = 0;
      s->digits.clear();
    }
    s->params = p;
    s->params.ptime_ms = std::clamp<std::uint32_t>(p.ptime_ms == 0 ? 20 : p.ptime_ms, 10, 60);
    if (remote_changed && p.remote_port != 0) {
      if (to_sockaddr(p.remote_address, p.remote_port, s->dest, s->dest_len)) {
        s->rtcp_dest = s->dest;
        set_port(s->rtcp_dest, static_cast<std::uint16_t>(p.remote_port + 1));
        s->learned = s->rtcp_learned = false;
      } else {
        s->params.remote_port = 0;  // an address we cannot send to: receive only
      }
    }
    if (!s->started) {
      s->first_start = true;
      s->tx.emplace(s->ssrc, static_cast<std::uint16_t>(rng_()), static_cast<std::uint32_t>(rng_()),
                    p.payload_type, clock_rate);
      commands_.push_back(i);
    }
    const bool sending = s->params.send && s->params.remote_port != 0;
    s->started = true;
    if (sending && !was_sending) {
      s->tx->pause();  // the next packet starts a talk-spurt: marker bit, timestamp follows the clock
      ++s->sched;
      commands_.push_back(i);
    } else if (!sending && was_sending) {
      ++s->sched;  // its heap entries are void now
    }
    wake();
  }

  void send_digits(std::uint32_t i, std::uint32_t gen, std::string_view digits) {
    std::lock_guard lock(mutex_);
    slot* s = find(i, gen);
    if (s == nullptr) return;
    for (char d : digits)
      if (event_of_digit(d)) s->digits.push_back(d);
  }

  stream_summary close(std::uint32_t i, std::uint32_t gen) {
    std::lock_guard lock(mutex_);
    slot* s = find(i, gen);
    if (s == nullptr) return {};
    stream_summary out = summarize(*s);
    s->closing = true;
    --open_;
    commands_.push_back(i);
    wake();
    return out;
  }

  void add_totals(engine_totals& t, std::vector<std::uint64_t>& late) const {
    std::lock_guard lock(mutex_);
    t.streams_open += open_;
    t.streams_sending += sending_;
    t.packets_sent += packets_sent_;
    t.packets_received += packets_received_;
    t.send_errors += send_errors_;
    t.receive_errors += receive_errors_;
    t.malformed += malformed_;
    t.overruns += overruns_;
    t.worker_nice = scheduling_.nice();
    ++t.workers;
    if (scheduling_.rt_priority() > 0) ++t.rt_workers;
    t.worker_rt_priority = std::max(t.worker_rt_priority, scheduling_.rt_priority());
    t.rt_demotions += scheduling_.rt_demotions();
    t.late_samples += late_.samples;
    t.late_max_ms = std::max(t.late_max_ms, late_.max_ms);
    for (std::size_t b = 0; b < late.size(); ++b) late[b] += late_.counts[b];
  }

 private:
  slot* find(std::uint32_t i, std::uint32_t gen) {
    if (i >= slots_.size()) return nullptr;
    slot* s = slots_[i].get();
    return s->in_use && !s->closing && s->gen == gen ? s : nullptr;
  }

  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
  }

  // A free submission entry: when the ring is full, this batch goes to the kernel first. The
  // kernel takes submissions whatever the completion queue holds (its size is 8x), so a few
  // tries always do; should they not, the thread yields and tries again rather than crash.
  io_uring_sqe* sqe() {
    for (;;) {
      if (io_uring_sqe* e = io_uring_get_sqe(&ring_)) return e;
      if (io_uring_submit(&ring_) < 0) std::this_thread::yield();
    }
  }

  void arm_wake() {
    io_uring_sqe* e = sqe();
    io_uring_prep_read(e, wake_fd_, &wake_buf_, sizeof wake_buf_, 0);
    io_uring_sqe_set_data64(e, tag(op_wake, 0, 0));
  }

  // One multishot receive per socket for the stream's life: each datagram completes with a
  // buffer of the worker's ring, and no new request is needed per packet.
  void arm_recv(std::uint32_t i, slot& s, bool rtcp) {
    io_uring_sqe* e = sqe();
    io_uring_prep_recvmsg_multishot(e, rtcp ? s.rtcp_fd : s.rtp_fd, &recv_template_, 0);
    e->flags |= IOSQE_BUFFER_SELECT;
    e->buf_group = recv_group;
    io_uring_sqe_set_data64(e, tag(rtcp ? op_rtcp_recv : op_rtp_recv, i, s.gen));
    ++s.inflight;
    (rtcp ? s.rtcp_armed : s.rtp_armed) = true;
  }

  // The buffer ring: registered once, every buffer handed to the kernel.
  bool setup_buffers() {
    const std::size_t ring_bytes = sizeof(io_uring_buf) * recv_buffers;
    void* mem = ::mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) return false;
    buf_ring_ = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_ring_init(buf_ring_);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(mem);
    reg.ring_entries = recv_buffers;
    reg.bgid = recv_group;
    if (io_uring_register_buf_ring(&ring_, &reg, 0) != 0) return false;
    // Mapped, not filled: a page becomes resident when the kernel first writes a packet into
    // it, so a fleet that makes no call (or few) never pays for 8 MiB per worker.
    void* bufs = ::mmap(nullptr, buffers_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (bufs == MAP_FAILED) return false;
    buffers_ = static_cast<std::uint8_t*>(bufs);
    for (unsigned b = 0; b < recv_buffers; ++b)
      io_uring_buf_ring_add(buf_ring_, buffers_ + b * recv_size, recv_size, static_cast<unsigned short>(b),
                            io_uring_buf_ring_mask(recv_buffers), static_cast<int>(b));
    io_uring_buf_ring_advance(buf_ring_, static_cast<int>(recv_buffers));
    recv_template_ = {};
    recv_template_.msg_namelen = sizeof(sockaddr_storage);
    return true;
  }

  void give_back_buffer(unsigned short bid) {
    io_uring_buf_ring_add(buf_ring_, buffers_ + std::size_t{bid} * recv_size, recv_size, bid,
                          io_uring_buf_ring_mask(recv_buffers), returned_++);
  }

  void schedule_rtp(std::uint32_t i, slot& s, clock::time_point due) {
    heap_.push_back({due, i, s.gen, s.sched});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>{});
  }
  void schedule_rtcp(std::uint32_t i, slot& s, clock::time_point due) {
    heap_.push_back({due, i, s.gen, UINT32_MAX});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>{});
  }

  // ---- the worker thread ----
  void run() {
    arm_wake();
    std::unique_lock lock(mutex_);
    while (!stop_) {
      bool slept = true;  // this turn ended with time left before the next deadline
      apply_commands();
      send_due();
      // The next wake-up: half a tick before the earliest due packet, but not sooner than a
      // tick after this one (a busy worker wakes once per tick and sends a batch).
      const auto half = duration_cast<nanoseconds>(options_.pacing_tick) / 2;
      const auto next = heap_.empty() ? clock::now() + std::chrono::milliseconds(200)
                                      : std::max(heap_.front().due - half, woke_ + 2 * half);
      const auto wait = std::max(nanoseconds(0), duration_cast<nanoseconds>(next - clock::now()));
      // A busy worker (the next deadline near): the sends just queued leave first, then the
      // packets received since the last tick are taken (with DEFER_TASKRUN the kernel moves
      // them into the buffers only when completions are asked for: at 2,000 calls a third of
      // a tick that the sends would otherwise wait behind), then it sleeps until the next
      // deadline. Commands (new streams) wait for that tick at most.
      if (wait <= nanoseconds(std::chrono::milliseconds(2))) {
        io_uring_submit(&ring_);
        lock.unlock();
        // Completions asked for without waiting. Asked for as many as the queue holds: the
        // kernel runs at most that many deferred receives (io_uring_get_events asks for none,
        // and since Linux 6.13 the kernel then runs only ~20 and leaves the rest queued:
        // measured here on 6.18 as jitter p50 of 5-27 ms).
        __kernel_timespec now_ts{};
        io_uring_cqe* got = nullptr;
        io_uring_submit_and_wait_timeout(&ring_, &got, ring_entries * 8, &now_ts, nullptr);
        lock.lock();
        reap();
        lock.unlock();
        slept = next > clock::now();
        const auto at = std::chrono::time_point_cast<nanoseconds>(next).time_since_epoch().count();
        const timespec until{.tv_sec = static_cast<time_t>(at / 1'000'000'000), .tv_nsec = static_cast<long>(at % 1'000'000'000)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
        }
      } else {
        // Idle or nearly: the first completion (a packet, or the wake eventfd's read for a
        // command) ends the sleep, so a packet is not left in a socket buffer for long and a
        // new stream starts at once.
        lock.unlock();
        __kernel_timespec ts{};
        ts.tv_sec = wait.count() / 1'000'000'000;
        ts.tv_nsec = wait.count() % 1'000'000'000;
        io_uring_cqe* first = nullptr;
        io_uring_submit_and_wait_timeout(&ring_, &first, 1, &ts, nullptr);
      }
      const auto woke = clock::now();
      // Before the lock: leaving SCHED_FIFO may switch to another thread at once.
      scheduling_.turn(duration_cast<nanoseconds>(woke.time_since_epoch()).count(), slept);
      lock.lock();
      woke_ = woke;
      reap();
    }
    // Shutting down: cancel everything so the ring can be torn down.
    for (auto& s : slots_)
      if (s->in_use && !s->fds_closed) {
        if (s->rtp_fd >= 0) ::close(s->rtp_fd);
        if (s->rtcp_fd >= 0) ::close(s->rtcp_fd);
        s->rtp_fd = s->rtcp_fd = -1;
        s->fds_closed = true;
      }
  }

  void reap() {
    unsigned head = 0, seen = 0;
    io_uring_cqe* cqe = nullptr;
    const auto now = clock::now();
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      const std::uint64_t d = io_uring_cqe_get_data64(cqe);
      const auto o = static_cast<op>(d >> 56);
      if (o == op_wake) {
        if (!stop_) arm_wake();
        continue;
      }
      const auto i = static_cast<std::uint32_t>((d >> 32) & 0xFFFFFFu);
      const auto gen = static_cast<std::uint32_t>(d);
      const bool has_buffer = (cqe->flags & IORING_CQE_F_BUFFER) != 0;
      const auto bid = static_cast<unsigned short>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
      if (i >= slots_.size() || slots_[i]->gen != gen) {  // cannot happen: see maybe_free
        if (has_buffer) give_back_buffer(bid);
        continue;
      }
      slot& s = *slots_[i];
      const bool more = (cqe->flags & IORING_CQE_F_MORE) != 0;  // a multishot receive goes on
      if (!more) --s.inflight;
      switch (o) {
        case op_rtp_recv:
        case op_rtcp_recv: {
          const bool rtcp = o == op_rtcp_recv;
          if (!more) (rtcp ? s.rtcp_armed : s.rtp_armed) = false;
          if (has_buffer) {
            if (!s.closing && cqe->res > 0) on_datagram(s, rtcp, bid, static_cast<unsigned>(cqe->res), now);
            give_back_buffer(bid);
          }
          // Ended: for want of a free buffer for a moment (-ENOBUFS) or by itself, start it again.
          // Any other error (an old kernel without multishot receives answers -EINVAL) would
          // come back at once: the socket is left alone and the error counted.
          if (!more && !s.closing && !s.fds_closed) {
            if (cqe->res >= 0 || cqe->res == -ENOBUFS)
              arm_recv(i, s, rtcp);
            else
              ++receive_errors_;
          }
          break;
        }
        case op_rtp_send:
          s.send_busy = false;
          if (cqe->res < 0) ++send_errors_;
          break;
        case op_rtcp_send:
          s.rtcp_busy = false;
          if (cqe->res < 0) ++send_errors_;
          break;
        default:
          break;
      }
      maybe_free(i, s);
    }
    io_uring_cq_advance(&ring_, seen);
    if (returned_ > 0) {
      io_uring_buf_ring_advance(buf_ring_, returned_);
      returned_ = 0;
    }
  }

  void on_datagram(slot& s, bool rtcp, unsigned short bid, unsigned res, clock::time_point now) {
    auto* buf = buffers_ + std::size_t{bid} * recv_size;
    io_uring_recvmsg_out* o = io_uring_recvmsg_validate(buf, static_cast<int>(res), &recv_template_);
    if (o == nullptr) return;
    sockaddr_storage from{};
    std::memcpy(&from, io_uring_recvmsg_name(o), std::min<std::size_t>(o->namelen, sizeof from));
    if ((o->flags & MSG_TRUNC) != 0 || o->namelen > sizeof(sockaddr_storage)) {
      ++s.malformed;
      ++malformed_;
      return;
    }
    const std::span<const std::uint8_t> bytes(
        static_cast<const std::uint8_t*>(io_uring_recvmsg_payload(o, &recv_template_)),
        io_uring_recvmsg_payload_length(o, static_cast<int>(res), &recv_template_));
    const std::size_t heard = s.digits_received.size();
    if (rtcp ? take_rtcp(s, bytes, from, now) : take_rtp(s, bytes, from, now)) {
      if (!rtcp) ++packets_received_;
      // A digit heard is told at once (rare: no allocation on the packet path otherwise).
      if (s.digits_received.size() > heard) heard_(s.tag, s.digits_received.back());
    } else {
      ++malformed_;
    }
  }

  void maybe_free(std::uint32_t i, slot& s) {
    if (!s.closing || !s.in_use) return;
    if (!s.fds_closed) {
      // Cancel the receives waiting on the stream's sockets; their completions come back
      // with -ECANCELED and the slot is free once the last one is in.
      io_uring_sqe* e = sqe();
      io_uring_prep_cancel_fd(e, s.rtp_fd, IORING_ASYNC_CANCEL_ALL);
      io_uring_sqe_set_data64(e, tag(op_cancel, i, s.gen));
      ++s.inflight;
      e = sqe();
      io_uring_prep_cancel_fd(e, s.rtcp_fd, IORING_ASYNC_CANCEL_ALL);
      io_uring_sqe_set_data64(e, tag(op_cancel, i, s.gen));
      ++s.inflight;
      s.fds_closed = true;  // closed below once nothing refers to them
      return;
    }
    if (s.inflight > 0) return;
    ::close(s.rtp_fd);
    ::close(s.rtcp_fd);
    s.rtp_fd = s.rtcp_fd = -1;
    s.in_use = false;
    if (s.scheduled != no_schedule) {
      s.scheduled = no_schedule;
      --sending_;
    }
    free_.push_back(i);
    release_port_(s.port);
  }

  void apply_commands() {
    const auto now = clock::now();
    for (std::uint32_t i : commands_) {
      slot& s = *slots_[i];
      if (!s.in_use) continue;
      if (s.closing) {
        maybe_free(i, s);
        continue;
      }
      if (!s.rtp_armed) arm_recv(i, s, false);
      if (!s.rtcp_armed) arm_recv(i, s, true);
      if (s.started && s.first_start) {
        s.first_start = false;
        // Spread RTCP: the first report half an interval to an interval and a half away.
        const auto base = duration_cast<nanoseconds>(options_.rtcp_interval);
        schedule_rtcp(i, s, now + base / 2 + nanoseconds(static_cast<std::int64_t>(rng_() % std::max<std::uint64_t>(1, static_cast<std::uint64_t>(base.count())))));
      }
      if (s.started && s.params.send && s.params.remote_port != 0 && s.scheduled != s.sched) {
        // Start sending at a random phase within a packet time, so that thousands of calls
        // started together do not send in lockstep.
        const auto ptime = duration_cast<nanoseconds>(std::chrono::milliseconds(s.params.ptime_ms));
        const auto phase = nanoseconds(static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(ptime.count())));
        if (s.scheduled == no_schedule) ++sending_;  // else the old schedule's entry is void now
        s.scheduled = s.sched;
        schedule_rtp(i, s, now + phase);
      }
    }
    commands_.clear();
  }

  void send_due() {
    const auto now = clock::now();
    const auto horizon = now + duration_cast<nanoseconds>(options_.pacing_tick) / 2;
    while (!heap_.empty() && heap_.front().due <= horizon) {
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<>{});
      const deadline d = heap_.back();
      heap_.pop_back();
      slot& s = *slots_[d.slot];
      if (s.gen != d.gen) continue;
      if (!s.in_use || s.closing || (d.sched != UINT32_MAX && d.sched != s.sched)) {
        // A schedule that ended (hold, close): the stream no longer sends.
        if (d.sched != UINT32_MAX && d.sched == s.scheduled) {
          s.scheduled = no_schedule;
          --sending_;
        }
        continue;
      }
      if (d.sched == UINT32_MAX) {
        send_rtcp(d.slot, s, now);
        schedule_rtcp(d.slot, s, d.due + duration_cast<nanoseconds>(options_.rtcp_interval));
        continue;
      }
      const double late_ms = std::chrono::duration<double, std::milli>(now - d.due).count();
      late_.add(std::abs(late_ms));  // early (within half a tick) or late
      if (s.send_busy) {
        ++overruns_;
      } else {
        send_rtp(d.slot, s, now);
      }
      auto next = d.due + std::chrono::milliseconds(s.params.ptime_ms);
      if (next < now - std::chrono::milliseconds(200)) next = now;  // a stall: do not burst to catch up
      schedule_rtp(d.slot, s, next);
    }
  }

  // Queues the slot's RTP (or RTCP) output buffer, `n` bytes, to `to`. The destination is
  // copied: symmetric RTP may change `to` while the send is in the ring.
  void queue_send(std::uint32_t i, slot& s, bool rtcp, const sockaddr_storage& to, std::size_t n) {
    auto& name = rtcp ? s.rtcp_out_name : s.out_name;
    auto& iov = rtcp ? s.rtcp_out_iov : s.out_iov;
    auto& msg = rtcp ? s.rtcp_out_msg : s.out_msg;
    name = to;
    iov = {rtcp ? s.rtcp_out.data() : s.out.data(), n};
    msg = {};
    msg.msg_name = &name;
    msg.msg_namelen = s.dest_len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    io_uring_sqe* e = sqe();
    io_uring_prep_sendmsg(e, rtcp ? s.rtcp_fd : s.rtp_fd, &msg, 0);
    io_uring_sqe_set_data64(e, tag(rtcp ? op_rtcp_send : op_rtp_send, i, s.gen));
    ++s.inflight;
    (rtcp ? s.rtcp_busy : s.send_busy) = true;
  }

  void send_rtp(std::uint32_t i, slot& s, clock::time_point now) {
    const std::size_t n = build_rtp(s, audio_, now);
    queue_send(i, s, false, s.dest, n);
    ++packets_sent_;
  }

  void send_rtcp(std::uint32_t i, slot& s, clock::time_point now) {
    if (s.rtcp_busy || s.params.remote_port == 0) return;
    if (const std::size_t n = build_rtcp(s, rtcp_scratch_, now); n > 0) queue_send(i, s, true, s.rtcp_dest, n);
  }



  unsigned index_;
  const engine_options& options_;
  const shared_audio& audio_;
  std::function<void(std::uint16_t)> release_port_;
  std::function<void(std::uint64_t, char)> heard_;  // a digit detected: (stream tag, digit)
  io_uring ring_{};
  io_uring_buf_ring* buf_ring_ = nullptr;
  rtcp_report rtcp_scratch_{.ssrc = 0, .sender = std::nullopt, .blocks = std::vector<report_block>(31)};
  static constexpr std::size_t buffers_bytes = std::size_t{recv_buffers} * recv_size;
  std::uint8_t* buffers_ = nullptr;  // recv_buffers of recv_size bytes, mapped (setup_buffers)
  msghdr recv_template_{};
  int returned_ = 0;  // buffers given back since the last advance
  int wake_fd_ = -1;
  // applied by the worker thread before the ring is made (ready's promise orders it)
  worker_scheduling scheduling_{options_.worker_nice, options_.worker_rt_priority};
  std::uint64_t wake_buf_ = 0;
  std::mt19937_64 rng_;

  mutable std::mutex mutex_;
  bool stop_ = false;
  std::vector<std::unique_ptr<slot>> slots_;
  std::vector<std::uint32_t> free_;
  std::vector<std::uint32_t> commands_;
  std::vector<deadline> heap_;
  clock::time_point woke_{};  // the last wake-up
  std::uint64_t open_ = 0, sending_ = 0, packets_sent_ = 0, packets_received_ = 0, send_errors_ = 0,
                receive_errors_ = 0, malformed_ = 0, overruns_ = 0;
  lateness_histogram late_;
  std::thread thread_;
};

struct engine::impl {
  engine_options options;
  shared_audio audio;
  std::mutex ports_mutex;
  port_pool ports;
  std::vector<std::unique_ptr<worker>> workers;
  std::atomic<unsigned> next{0};
  std::atomic<std::uint64_t> open_failures{0};
  std::mutex digits_mutex;
  std::function<void(std::uint64_t, char)> on_digit;

  explicit impl(engine_options o)
      : options(std::move(o)),
        ports(options.first_port, options.last_port, options.port_rest) {}
};

engine::engine(engine_options options) : impl_(std::make_unique<impl>(std::move(options))) {
  auto& o = impl_->options;
  if (o.threads == 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
  o.threads = std::min(o.threads, 64u);  // a handle keeps the worker in 8 bits
  // The source, encoded once for both codecs; at least 4 s so that a short source (a tone's
  // period) is copied in few pieces per packet.
  audio_source src = o.audio.empty() ? audio_source::speech_like() : audio_source::from_samples(o.audio);
  std::size_t n = std::max<std::size_t>(o.audio.empty() ? src.length() : o.audio.size(), 32000);
  std::vector<std::int16_t> samples(n);
  src.fill(samples);
  impl_->audio.pcmu.resize(n);
  impl_->audio.pcma.resize(n);
  encode_ulaw(samples, impl_->audio.pcmu);
  encode_alaw(samples, impl_->audio.pcma);
  auto release = [this](std::uint16_t port) {
    std::lock_guard lock(impl_->ports_mutex);
    impl_->ports.give_back(port, clock::now());
  };
  for (unsigned i = 0; i < o.threads; ++i)
    impl_->workers.push_back(std::make_unique<worker>(i, impl_->options, impl_->audio, release,
                                                      [this](std::uint64_t tag, char digit) {
                                                        std::lock_guard lock(impl_->digits_mutex);
                                                        if (impl_->on_digit) impl_->on_digit(tag, digit);
                                                      }));
}

engine::~engine() = default;

void engine::set_digit_listener(std::function<void(std::uint64_t, char)> listener) {
  std::lock_guard lock(impl_->digits_mutex);
  impl_->on_digit = std::move(listener);
}

stream_handle engine::open(std::string_view local_address, std::uint16_t& port, std::string& error,
                           std::uint64_t tag) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (!to_sockaddr(local_address, 0, addr, len)) {
    error = "not an IP address: " + std::string(local_address);
    ++impl_->open_failures;
    return {};
  }
  // A port of the range that some other program holds is skipped (and rests like a used one).
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::optional<std::uint16_t> p;
    {
      std::lock_guard lock(impl_->ports_mutex);
      p = impl_->ports.take(clock::now());
    }
    if (!p) {
      error = "no free RTP port in " + std::to_string(impl_->options.first_port) + "-" +
              std::to_string(impl_->options.last_port) + " (widen --rtp-ports)";
      ++impl_->open_failures;
      return {};
    }
    set_port(addr, *p);
    const int rtp = bound_socket(addr, len);
    set_port(addr, static_cast<std::uint16_t>(*p + 1));
    const int rtcp = rtp < 0 ? -1 : bound_socket(addr, len);
    if (rtp >= 0 && rtcp >= 0) {
      port = *p;
      const auto w = impl_->next.fetch_add(1) % impl_->workers.size();
      return impl_->workers[w]->open(rtp, rtcp, *p, tag);
    }
    const int err = errno;
    if (rtp >= 0) ::close(rtp);
    {
      std::lock_guard lock(impl_->ports_mutex);
      impl_->ports.give_back(*p, clock::now());
    }
    if (err != EADDRINUSE) {
      error = "cannot bind an RTP socket on " + std::string(local_address) + ": " + std::strerror(err);
      ++impl_->open_failures;
      return {};
    }
  }
  error = "64 RTP ports in a row are taken by other programs";
  ++impl_->open_failures;
  return {};
}

void engine::start(stream_handle h, const stream_params& p) {
  if (!h) return;
  impl_->workers[(h.id >> 24) % impl_->workers.size()]->start(h.id & 0xFFFFFFu, h.generation, p);
}

void engine::send_digits(stream_handle h, std::string_view digits) {
  if (!h) return;
  impl_->workers[(h.id >> 24) % impl_->workers.size()]->send_digits(h.id & 0xFFFFFFu, h.generation, digits);
}

stream_summary engine::close(stream_handle h) {
  if (!h) return {};
  return impl_->workers[(h.id >> 24) % impl_->workers.size()]->close(h.id & 0xFFFFFFu, h.generation);
}

engine_totals engine::totals() const {
  engine_totals t;
  std::vector<std::uint64_t> late(lateness_histogram::buckets, 0);
  for (const auto& w : impl_->workers) w->add_totals(t, late);
  t.open_failures = impl_->open_failures.load();
  t.late_p50_ms = late_percentile(late, 0.50);
  t.late_p99_ms = late_percentile(late, 0.99);
  t.late_counts = std::move(late);
  return t;
}

unsigned engine::threads() const { return static_cast<unsigned>(impl_->workers.size()); }

std::size_t engine::port_capacity() const { return impl_->ports.capacity(); }

}  // namespace sipfleet::rtp
