// A media worker (engine_worker.hpp): its io_uring, its streams' schedule of sends and
// receive polls, and the completions that come back.
#include "rtp/engine_worker.hpp"

#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <liburing.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <future>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "rtp/engine_stream.hpp"
#include "rtp/rtcp.hpp"
#include "rtp/worker_thread.hpp"

namespace sipfleet::rtp::detail {

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

constexpr std::uint32_t rtcp_entry = UINT32_MAX;
constexpr std::uint32_t poll_entry = UINT32_MAX - 1;

// A completion's user_data: what the operation was, on which slot, for which stream.
enum op : std::uint8_t { op_rtp_recv = 1, op_rtcp_recv, op_rtp_send, op_rtcp_send, op_cancel, op_wake };
std::uint64_t tag(op o, std::uint32_t slot, std::uint32_t gen) {
  return (std::uint64_t{o} << 56) | (std::uint64_t{slot & 0xFFFFFFu} << 32) | gen;
}

struct deadline {
  clock::time_point due;
  std::uint32_t slot;
  std::uint32_t gen;
  std::uint32_t sched;  // for RTP sends; RTCP entries use rtcp_entry, receive polls poll_entry
  bool operator>(const deadline& o) const { return due > o.due; }
};

// A datagram's arrival on the steady clock, from the kernel's receive timestamp
// (SO_TIMESTAMPNS, on the system clock): the age of the packet now, taken from now. Without
// one (none asked for: RTCP), now.
struct arrival_clocks {
  clock::time_point steady = clock::now();
  std::chrono::system_clock::time_point system = std::chrono::system_clock::now();
  clock::time_point arrival(const cmsghdr* c) const {
    if (c == nullptr || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS ||
        c->cmsg_len < CMSG_LEN(sizeof(timespec)))
      return steady;
    timespec ts{};
    std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
    const std::chrono::system_clock::time_point at(
        duration_cast<std::chrono::system_clock::duration>(std::chrono::seconds(ts.tv_sec) + nanoseconds(ts.tv_nsec)));
    // a clock stepped since: no older than 1 s, never in the future
    const auto age = std::clamp(system - at, std::chrono::system_clock::duration::zero(),
                                duration_cast<std::chrono::system_clock::duration>(std::chrono::seconds(1)));
    return steady - duration_cast<clock::duration>(age);
  }
};

}  // namespace

class worker::impl {
 public:
  impl(unsigned index, const engine_options& options, const shared_audio& audio,
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
                               " (the media engine needs io_uring with multishot receives: Linux 6.1 or later, not disabled "
                               "by kernel.io_uring_disabled or seccomp; or run with --media off)");
    }
  }

  ~impl() {
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

  // The stream's sockets as the ring's fixed files (no file lookup and reference per
  // operation), where the table has room: slot i has entries 2i and 2i + 1.
  void register_files(std::uint32_t i, slot& s) {
    if (s.fixed >= 0 || 2 * std::size_t{i} + 1 >= fixed_capacity_) return;
    int fds[2] = {s.rtp_fd, s.rtcp_fd};
    const int done = io_uring_register_files_update(&ring_, 2 * i, fds, 2);
    if (done == 2) {
      s.fixed = static_cast<int>(2 * i);
    } else if (done > 0) {  // half of it: undone, or the entry would hold the socket open
      int none[2] = {-1, -1};
      (void)io_uring_register_files_update(&ring_, 2 * i, none, 2);
    }
  }
  void unregister_files(slot& s) {
    if (s.fixed < 0) return;
    int none[2] = {-1, -1};
    (void)io_uring_register_files_update(&ring_, static_cast<unsigned>(s.fixed), none, 2);
    s.fixed = -1;
  }
  static void use_fixed(io_uring_sqe* e, const slot& s, bool rtcp) {
    if (s.fixed < 0) return;
    e->fd = s.fixed + (rtcp ? 1 : 0);
    e->flags |= IOSQE_FIXED_FILE;
  }

  // A multishot receive on one of the stream's sockets: each datagram completes with a buffer
  // of the worker's ring.
  // - RTCP (a packet every few seconds): one waits on the socket for the stream's life.
  // - RTP: none waits. A waiting receive costs every datagram a wake-up of the socket's wait
  //   queue (and every packet sent from the socket another, when the kernel frees it), and
  //   the worker a task-work item: ~15% of the CPU at 2,000 calls. Instead the socket is
  //   read when the stream sends, or every packet time when it does not (poll_rtp): the
  //   receive takes what is queued and ends (MSG_DONTWAIT: -EAGAIN once empty). The arrival
  //   time is the kernel's (SO_TIMESTAMPNS), so jitter is measured as before.
  void arm_receive(std::uint32_t i, slot& s, bool rtcp) {
    io_uring_sqe* e = sqe();
    io_uring_prep_recvmsg_multishot(e, rtcp ? s.rtcp_fd : s.rtp_fd, &recv_template_, rtcp ? 0 : MSG_DONTWAIT);
    use_fixed(e, s, rtcp);
    e->flags |= IOSQE_BUFFER_SELECT;
    e->buf_group = recv_group;
    io_uring_sqe_set_data64(e, tag(rtcp ? op_rtcp_recv : op_rtp_recv, i, s.gen));
    ++s.inflight;
    (rtcp ? s.rtcp_armed : s.rtp_armed) = true;
  }
  void poll_rtp(std::uint32_t i, slot& s) {
    if (s.rtp_armed || s.rtp_failed || s.closing || s.fds_closed) return;
    s.read_count = 0;
    arm_receive(i, s, false);
  }
  // A stream that does not send is polled on its own schedule, one packet time apart.
  void schedule_poll(std::uint32_t i, slot& s, clock::time_point due) {
    s.polled = true;
    schedule(i, s, due, poll_entry);
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
    recv_template_.msg_controllen = CMSG_SPACE(sizeof(timespec));  // the arrival time (RTP)
    // A table of fixed files: two per stream for as many streams as the port range holds, no
    // more than this process may open (a stream beyond it uses plain descriptors).
    rlimit files{};
    const rlim_t streams = (std::size_t{options_.last_port} + 1 - options_.first_port) / 2 + 1;
    const auto want = ::getrlimit(RLIMIT_NOFILE, &files) == 0 ? std::min<rlim_t>(files.rlim_cur, 2 * streams) : 0;
    if (want >= 2 && io_uring_register_files_sparse(&ring_, static_cast<unsigned>(want)) == 0)
      fixed_capacity_ = static_cast<std::size_t>(want);
    return true;
  }

  void give_back_buffer(unsigned short bid) {
    io_uring_buf_ring_add(buf_ring_, buffers_ + std::size_t{bid} * recv_size, recv_size, bid,
                          io_uring_buf_ring_mask(recv_buffers), returned_++);
  }

  // A deadline for slot i: `kind` is the stream's RTP schedule (its sched value), rtcp_entry
  // or poll_entry.
  void schedule(std::uint32_t i, const slot& s, clock::time_point due, std::uint32_t kind) {
    heap_.push_back({due, i, s.gen, kind});
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
      // A busy worker (the next deadline near): the sends and RTP receive polls just queued
      // go to the kernel in one call, which also runs the few completions it defers (RTCP
      // receives, the wake-up read: with DEFER_TASKRUN they run when completions are asked
      // for; since Linux 6.13 ~20 per call without waiting, plenty for those). Sends and polls
      // complete in that call. Then it sleeps until the next deadline. Commands (new
      // streams) wait for that tick at most.
      if (wait <= nanoseconds(std::chrono::milliseconds(2))) {
        lock.unlock();
        io_uring_submit_and_get_events(&ring_);
        lock.lock();
        reap();
        lock.unlock();
        slept = next > clock::now();
        const auto at = std::chrono::time_point_cast<nanoseconds>(next).time_since_epoch().count();
        const timespec until{.tv_sec = static_cast<time_t>(at / 1'000'000'000), .tv_nsec = static_cast<long>(at % 1'000'000'000)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
        }
      } else {
        // Idle or nearly: sleeps until the next deadline (a send, or an RTP receive poll),
        // or the first completion (an RTCP packet, or the wake eventfd's read for a command:
        // a new stream starts at once).
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
    const arrival_clocks clocks;
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
            if (!s.closing && cqe->res > 0) on_datagram(s, rtcp, bid, static_cast<unsigned>(cqe->res), clocks);
            give_back_buffer(bid);
            if (!rtcp) ++s.read_count;
          }
          // An RTP read ends with -EAGAIN once the socket is empty, or after the kernel's limit
          // of datagrams per multishot run (32; a backlog after a stall): then it reads again
          // at once. -ENOBUFS: the ring has no free buffer for a moment, the rest waits for the
          // next read. RTCP's receive ends by itself or for want of a buffer: start it again.
          // Any other error (an old kernel without multishot receives answers -EINVAL) would
          // come back at once: the socket is not read again and the error is counted.
          if (!more && !s.closing && !s.fds_closed) {
            const bool fine = cqe->res >= 0 || cqe->res == -ENOBUFS || (!rtcp && cqe->res == -EAGAIN);
            if (!fine) {
              ++receive_errors_;
              if (!rtcp) s.rtp_failed = true;
            } else if (rtcp) {
              arm_receive(i, s, true);
            } else if (s.read_count >= 32) {
              poll_rtp(i, s);
            }
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

  void on_datagram(slot& s, bool rtcp, unsigned short bid, unsigned res, const arrival_clocks& clocks) {
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
    // The kernel's arrival time (RTP sockets ask for it at open: engine.cpp); none, the read's.
    cmsghdr* stamp = io_uring_recvmsg_cmsg_firsthdr(o, &recv_template_);
    while (stamp != nullptr && !(stamp->cmsg_level == SOL_SOCKET && stamp->cmsg_type == SCM_TIMESTAMPNS))
      stamp = io_uring_recvmsg_cmsg_nexthdr(o, &recv_template_, stamp);
    // Not before the stream began: a clock stepped since would make it so.
    const auto now = std::max(s.epoch, clocks.arrival(stamp));
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
      // Cancel the receives in the ring on the stream's sockets (RTCP's waits; an RTP read is
      // there only for a moment); their completions come back with -ECANCELED and the slot is
      // free once the last one is in. By the receive's user_data, which the kernel finds in
      // its hash: a cancel by descriptor walks every waiting receive of the ring, and at the
      // end of a 2,000-call run (400 hang-ups a second) that put a worker 200 ms behind.
      for (const bool rtcp : {false, true}) {
        if (!(rtcp ? s.rtcp_armed : s.rtp_armed)) continue;
        io_uring_sqe* e = sqe();
        io_uring_prep_cancel64(e, tag(rtcp ? op_rtcp_recv : op_rtp_recv, i, s.gen), 0);
        io_uring_sqe_set_data64(e, tag(op_cancel, i, s.gen));
        ++s.inflight;
      }
      s.fds_closed = true;  // closed below once nothing refers to them
    }
    if (s.inflight > 0) return;
    unregister_files(s);
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
      register_files(i, s);
      if (!s.rtcp_armed) arm_receive(i, s, true);
      if (!s.polled) schedule_poll(i, s, now);
      if (s.started && s.first_start) {
        s.first_start = false;
        // Spread RTCP: the first report half an interval to an interval and a half away.
        const auto base = duration_cast<nanoseconds>(options_.rtcp_interval);
        const auto spread = rng_() % std::max<std::uint64_t>(1, static_cast<std::uint64_t>(base.count()));
        schedule(i, s, now + base / 2 + nanoseconds(static_cast<std::int64_t>(spread)), rtcp_entry);
      }
      if (s.started && s.params.send && s.params.remote_port != 0 && s.scheduled != s.sched) {
        // Start sending at a random phase within a packet time, so that thousands of calls
        // started together do not send in lockstep.
        const auto ptime = duration_cast<nanoseconds>(std::chrono::milliseconds(s.params.ptime_ms));
        const auto phase = nanoseconds(static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(ptime.count())));
        if (s.scheduled == no_schedule) ++sending_;  // else the old schedule's entry is void now
        s.scheduled = s.sched;
        schedule(i, s, now + phase, s.sched);
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
      if (d.sched == poll_entry) {
        // Ends once the stream is closing, or sends (its sends poll); else polls and goes on.
        if (!s.in_use || s.closing || s.scheduled != no_schedule) {
          s.polled = false;
          continue;
        }
        poll_rtp(d.slot, s);
        schedule_poll(d.slot, s, std::max(d.due + std::chrono::milliseconds(s.params.ptime_ms), now));
        continue;
      }
      if (!s.in_use || s.closing || (d.sched != rtcp_entry && d.sched != s.sched)) {
        // A schedule that ended (hold, close): the stream no longer sends.
        if (d.sched != rtcp_entry && d.sched == s.scheduled) {
          s.scheduled = no_schedule;
          --sending_;
          if (!s.polled && s.in_use && !s.closing) schedule_poll(d.slot, s, now);  // it still receives
        }
        continue;
      }
      if (d.sched == rtcp_entry) {
        send_rtcp(d.slot, s, now);
        schedule(d.slot, s, d.due + duration_cast<nanoseconds>(options_.rtcp_interval), rtcp_entry);
        continue;
      }
      const double late_ms = std::chrono::duration<double, std::milli>(now - d.due).count();
      late_.add(std::abs(late_ms));  // early (within half a tick) or late
      if (s.send_busy) {
        ++overruns_;
      } else {
        send_rtp(d.slot, s, now);
      }
      poll_rtp(d.slot, s);
      auto next = d.due + std::chrono::milliseconds(s.params.ptime_ms);
      if (next < now - std::chrono::milliseconds(200)) next = now;  // a stall: do not burst to catch up
      schedule(d.slot, s, next, s.sched);
    }
  }

  // Queues the slot's RTP (or RTCP) output buffer, `n` bytes, to `to`: a send with the
  // address (no msghdr for the kernel to copy in). The destination is copied: symmetric RTP
  // may change `to` while the send is in the ring.
  void queue_send(std::uint32_t i, slot& s, bool rtcp, const sockaddr_storage& to, std::size_t n) {
    auto& name = rtcp ? s.rtcp_out_name : s.out_name;
    name = to;
    io_uring_sqe* e = sqe();
    io_uring_prep_send(e, rtcp ? s.rtcp_fd : s.rtp_fd, rtcp ? s.rtcp_out.data() : s.out.data(), n, 0);
    io_uring_prep_send_set_addr(e, reinterpret_cast<const sockaddr*>(&name), static_cast<std::uint16_t>(s.dest_len));
    use_fixed(e, s, rtcp);
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
  std::size_t fixed_capacity_ = 0;  // entries of the ring's fixed-file table
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

worker::worker(unsigned index, const engine_options& options, const shared_audio& audio,
               std::function<void(std::uint16_t)> release_port, std::function<void(std::uint64_t, char)> heard)
    : impl_(std::make_unique<impl>(index, options, audio, std::move(release_port), std::move(heard))) {}
worker::~worker() = default;
stream_handle worker::open(int rtp_fd, int rtcp_fd, std::uint16_t port, std::uint64_t tag) {
  return impl_->open(rtp_fd, rtcp_fd, port, tag);
}
void worker::start(std::uint32_t i, std::uint32_t gen, const stream_params& p) { impl_->start(i, gen, p); }
void worker::send_digits(std::uint32_t i, std::uint32_t gen, std::string_view digits) {
  impl_->send_digits(i, gen, digits);
}
stream_summary worker::close(std::uint32_t i, std::uint32_t gen) { return impl_->close(i, gen); }
void worker::add_totals(engine_totals& t, std::vector<std::uint64_t>& late) const { impl_->add_totals(t, late); }

}  // namespace sipfleet::rtp::detail
