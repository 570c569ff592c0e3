// staticnet/cpu/parallel.hpp: a small persistent thread pool for the CPU kernels.
//
//   staticnet::cpu::set_num_threads(2);
//   staticnet::cpu::parallel_for(0, n, [&](int begin, int end) { ... });
//
// parallel_for splits [begin, end) into one contiguous chunk per thread and
// runs them concurrently (the calling thread takes the first chunk). It does
// not allocate after the pool is created.
#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace staticnet::cpu {

class thread_pool {
 public:
  explicit thread_pool(int threads) { resize(threads); }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() { stop(); }

  [[nodiscard]] int size() const noexcept { return static_cast<int>(workers_.size()) + 1; }

  void resize(int threads) {
    stop();
    threads = std::max(1, threads);
    stopping_ = false;
    workers_.reserve(static_cast<std::size_t>(threads - 1));
    const std::size_t generation = generation_;  // new workers wait for the next task, not a past one
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
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = task;
      pending_ = static_cast<int>(workers_.size());
      ++generation_;
    }
    wake_.notify_all();
    in_parallel_ = true;
    run(0);
    in_parallel_ = false;
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    task_ = {};
  }

 private:
  struct task_ref {
    const void* ctx = nullptr;
    void (*call)(const void*, int) = nullptr;
  };
  void worker(int t, std::size_t seen) {
    for (;;) {
      task_ref task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
        task = task_;
      }
      task.call(task.ctx, t);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (--pending_ == 0) done_.notify_one();
      }
    }
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  task_ref task_{};
  std::size_t generation_ = 0;
  int pending_ = 0;
  bool stopping_ = false;
  static inline thread_local bool in_parallel_ = false;
};

/// The process-wide pool used by the kernels (hardware_concurrency threads by default).
inline thread_pool& default_pool() {
  static thread_pool pool(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  return pool;
}

inline void set_num_threads(int threads) { default_pool().resize(threads); }
inline int num_threads() { return default_pool().size(); }

template <class F>
void parallel_for(int begin, int end, F&& body) {
  default_pool().parallel_for(begin, end, std::forward<F>(body));
}

}  // namespace staticnet::cpu
