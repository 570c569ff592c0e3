// staticnet/cpu/parallel.hpp: a small persistent thread pool for the CPU kernels.
//
//   staticnet::cpu::set_num_threads(2);
//   staticnet::cpu::parallel_for(0, n, [&](int begin, int end) { ... });
//
// parallel_for splits [begin, end) into one contiguous chunk per thread and
// runs them concurrently (the calling thread takes the first chunk). It does
// not allocate after the pool is created.
//
// A training step is a hundred or so parallel_for calls, a few hundred
// microseconds to milliseconds apart. A thread that waits (a worker for the
// next task, the caller for the workers to finish) first spins on an atomic
// for up to a millisecond (set_spin), and only then sleeps on a condition
// variable: waking a sleeping thread costs a system call and, on a virtual
// machine whose idle vCPU was halted, about 100 microseconds before it runs
// (bench/RESULTS.md, "Thread pool"), which over a step's hundred hand-offs
// was several per cent of the step.
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>
#if (defined(__x86_64__) || defined(__i386__)) && !(defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>  // _mm_pause (GCC and clang have the builtin: no 50 MB header to parse)
#endif

namespace staticnet::cpu {

namespace parallel_detail {
/// A CPU hint that the thread is spinning (frees the core's shared resources for its sibling).
inline void cpu_relax() noexcept {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  __builtin_ia32_pause();
#elif defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/// Spins until done() or for about spin_ns nanoseconds; returns done() at the end.
/// After the first 50 microseconds it also yields the core between checks, so
/// that with more threads than cores the spinner does not hold up a thread
/// with work (with a core to itself, yield returns at once).
template <class Done>
bool spin_until(Done&& done, long long spin_ns) noexcept {
  using clock = std::chrono::steady_clock;
  if (done()) return true;
  if (spin_ns <= 0) return false;
  const auto start = clock::now();
  const auto spin = std::chrono::nanoseconds(spin_ns), polite = std::chrono::nanoseconds(50'000);
  for (;;) {
    for (int i = 0; i < 64; ++i) {  // check the clock only every 64 pauses
      cpu_relax();
      if (done()) return true;
    }
    const auto spent = clock::now() - start;
    if (spent >= spin) return done();
    if (spent >= polite) std::this_thread::yield();
  }
}
}  // namespace parallel_detail

class thread_pool {
 public:
  /// How long a waiting thread spins before it sleeps, by default (see the header comment).
  static constexpr std::chrono::nanoseconds default_spin{1'000'000};

  explicit thread_pool(int threads) { resize(threads); }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() { stop(); }

  [[nodiscard]] int size() const noexcept { return static_cast<int>(workers_.size()) + 1; }

  /// How long a waiting thread spins before it sleeps (0: sleep at once; the
  /// default, default_spin, suits a machine whose cores run nothing else).
  void set_spin(std::chrono::nanoseconds spin) noexcept { spin_ns_.store(std::max<long long>(0, spin.count())); }
  [[nodiscard]] std::chrono::nanoseconds spin() const noexcept { return std::chrono::nanoseconds(spin_ns_.load()); }

  void resize(int threads) {
    stop();
    threads = std::max(1, threads);
    stopping_.store(false);
    workers_.reserve(static_cast<std::size_t>(threads - 1));
    const std::size_t generation = generation_.load();  // new workers wait for the next task, not a past one
    for (int t = 1; t < threads; ++t) workers_.emplace_back([this, t, generation] { worker(t, generation); });
  }

  /// Runs body(begin_t, end_t) on every thread t over an even split of [begin, end).
  template <class F>
  void parallel_for(int begin, int end, F&& body) {
    const int n = end - begin;
    if (n <= 0) return;
    const int threads = std::min(size(), n);
    if (threads == 1 || in_parallel_) {
      body(begin, end);
      return;
    }
    auto chunk = [begin, n, threads](int t) {
      return std::pair<int, int>{begin + static_cast<int>(static_cast<long long>(n) * t / threads),
                                 begin + static_cast<int>(static_cast<long long>(n) * (t + 1) / threads)};
    };
    auto run = [&](int t) {
      if (t >= threads) return;
      auto [b, e] = chunk(t);
      body(b, e);
    };
    // A non-owning, non-allocating handle on `run` for the workers.
    task_ref task{&run, [](const void* ctx, int t) { (*static_cast<const decltype(run)*>(ctx))(t); }};
    // Sleepers are counted, so a publisher or finisher touches the mutex (a
    // system call when contended) only when somebody sleeps. The counters and
    // flags are sequentially consistent: of "I publish, then look for
    // sleepers" and "I announce my sleep, then look for work", one sees the other.
    task_ = task;  // no worker reads it before the generation below
    pending_.store(static_cast<int>(workers_.size()));
    generation_.fetch_add(1);
    if (sleeping_workers_.load() > 0) {
      { std::lock_guard<std::mutex> lock(mutex_); }  // a worker between its check and its wait holds it
      wake_.notify_all();
    }
    in_parallel_ = true;
    run(0);
    in_parallel_ = false;
    auto finished = [this] { return pending_.load() == 0; };
    if (!parallel_detail::spin_until(finished, spin_ns_.load(std::memory_order_relaxed))) {
      std::unique_lock<std::mutex> lock(mutex_);
      caller_sleeping_.store(true);
      done_.wait(lock, finished);
      caller_sleeping_.store(false);
    }
    task_ = {};  // every worker has copied it
  }

 private:
  struct task_ref {
    const void* ctx = nullptr;
    void (*call)(const void*, int) = nullptr;
  };
  void worker(int t, std::size_t seen) {
    auto woken = [&] { return stopping_.load() || generation_.load() != seen; };
    in_parallel_ = true;  // a parallel_for inside a task runs serially here, as on the caller
    for (;;) {
      if (!parallel_detail::spin_until(woken, spin_ns_.load(std::memory_order_relaxed))) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleeping_workers_.fetch_add(1);
        wake_.wait(lock, woken);
        sleeping_workers_.fetch_sub(1);
      }
      if (stopping_.load()) return;
      seen = generation_.load();
      const task_ref task = task_;  // written before the generation it belongs to
      task.call(task.ctx, t);
      if (pending_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
        { std::lock_guard<std::mutex> lock(mutex_); }  // the caller holds it until it waits
        done_.notify_one();
      }
    }
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_.store(true);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  task_ref task_{};
  std::atomic<std::size_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<long long> spin_ns_{default_spin.count()};
  static inline thread_local bool in_parallel_ = false;
};

/// The process-wide pool used by the kernels (hardware_concurrency threads by
/// default). With compiled kernels (kernels.hpp) it is defined once, in
/// libstaticnet, so every kernel variant and the program share it and its
/// code is compiled for the baseline instruction set only.
#if defined(STATICNET_COMPILED_KERNELS) && STATICNET_COMPILED_KERNELS && !defined(STATICNET_DEFINE_POOL)
thread_pool& default_pool();
#else
#if defined(STATICNET_DEFINE_POOL)
thread_pool& default_pool() {
#else
inline thread_pool& default_pool() {
#endif
  static thread_pool pool(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  return pool;
}
#endif

inline void set_num_threads(int threads) { default_pool().resize(threads); }
inline int num_threads() { return default_pool().size(); }
/// How long the default pool's idle threads spin before they sleep (see thread_pool::set_spin).
inline void set_spin(std::chrono::nanoseconds spin) { default_pool().set_spin(spin); }
inline std::chrono::nanoseconds spin() { return default_pool().spin(); }

template <class F>
void parallel_for(int begin, int end, F&& body) {
  default_pool().parallel_for(begin, end, std::forward<F>(body));
}

}  // namespace staticnet::cpu
